import type { Redis } from 'ioredis';
import type { WechatyInterface } from 'wechaty/impls';
import { sharedAccessToken } from '../wechat/accessToken.js';
import { WechatApiError, truncateSubscribeValue, type SubscribeFieldKind, type WechatClient } from '../wechat/client.js';
import { returnGrant, takeGrant } from './grants.js';
import type { OutboxMessage } from './index.js';

/**
 * What a channel answers for one message:
 * - `sent`: delivered;
 * - `retry`: a passing failure (network, WeChat busy, bot offline): try again later;
 * - `failed`: a permanent failure (contact gone, WeChat refused the data): never retried;
 * - `unreachable`: this channel cannot reach the person now (no grant left).
 * `error` is a code (`wechat_43101`, `bot_send_failed`), never message content.
 */
export type SendOutcome =
  | { status: 'sent' }
  | { status: 'retry' | 'failed' | 'unreachable'; error: string };

/** Who a message goes to: the person, and their bot contact when bound. */
export interface Recipient {
  person: string;
  contact?: string;
}

/** A way to reach people. Adapters hold no business rule: the dispatcher decides. */
export interface Channel {
  readonly name: string;
  send(recipient: Recipient, message: OutboxMessage, now: Date): Promise<SendOutcome>;
}

/** The channels this process can send through; a missing one is not available here. */
export interface Channels {
  bot?: Channel;
  subscribe?: Channel;
}

const errorCode = (err: unknown) => (err instanceof Error ? err.name : typeof err);

/** Bot messages to the person's bound contact, through this process's running Wechaty. */
export function createBotChannel(wechaty: WechatyInterface): Channel {
  return {
    name: 'bot',
    async send(recipient, message) {
      if (!recipient.contact) return { status: 'unreachable', error: 'no_bot_contact' };
      if (!wechaty.isLoggedIn) return { status: 'retry', error: 'bot_logged_out' };
      let contact;
      try {
        contact = await wechaty.Contact.find({ id: recipient.contact });
      } catch (err) {
        return { status: 'retry', error: `bot_lookup_${errorCode(err)}` };
      }
      if (!contact) return { status: 'failed', error: 'bot_contact_not_found' };
      try {
        await contact.say(message.text);
        return { status: 'sent' };
      } catch (err) {
        return { status: 'retry', error: `bot_send_${errorCode(err)}` };
      }
    },
  };
}

/** The kind of a subscribe template key: `thing1` → thing. */
function kindOf(key: string): SubscribeFieldKind {
  return (/^([a-z_]+?)\d+$/.exec(key)?.[1] ?? 'thing') as SubscribeFieldKind;
}

/** Template values cut to WeChat's limits (an empty value would be refused too). */
export function subscribeData(data: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(data).map(([key, value]) => [key, truncateSubscribeValue(kindOf(key), value || '-')]));
}

export interface SubscribeChannelDeps {
  redis: Redis;
  wechat: WechatClient;
  /** developer | trial | formal: which version of the mini-program the message opens. */
  miniprogramState?: 'developer' | 'trial' | 'formal';
}

/**
 * Mini-program subscribe messages, one grant each. The grant is spent (a unique insert)
 * before the call; a passing failure gives it back, a permanent one keeps it spent.
 */
export function createSubscribeChannel(deps: SubscribeChannelDeps): Channel {
  const { redis, wechat } = deps;
  return {
    name: 'subscribe',
    async send(recipient, message, now) {
      const sub = message.subscribe;
      if (!sub) return { status: 'unreachable', error: 'no_subscribe_template' };
      const grant = await takeGrant(redis, recipient.person, sub.templateId, message.id, now);
      if (!grant) return { status: 'unreachable', error: 'no_subscription_grant' };
      let token: string | undefined;
      try {
        token = await sharedAccessToken({ redis, wechat }, now);
        await wechat.sendSubscribeMessage(token, {
          toUser: grant.openid,
          templateId: sub.templateId,
          page: sub.page,
          data: subscribeData(sub.data),
          miniprogramState: deps.miniprogramState,
        });
        return { status: 'sent' };
      } catch (err) {
        if (!(err instanceof WechatApiError)) {
          await returnGrant(redis, recipient.person, sub.templateId, grant);
          return { status: 'retry', error: `subscribe_${errorCode(err)}` };
        }
        const error = `wechat_${err.errcode}`;
        if (err.tokenInvalid && token) await sharedAccessToken({ redis, wechat }, now, { rejected: token }).catch(() => undefined);
        if (err.retryable) {
          await returnGrant(redis, recipient.person, sub.templateId, grant);
          return { status: 'retry', error };
        }
        // 43101: the user holds no subscription at WeChat after all; the grant is spent.
        return err.errcode === 43101 ? { status: 'unreachable', error } : { status: 'failed', error };
      }
    },
  };
}
