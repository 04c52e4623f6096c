import type { Redis } from 'ioredis';
import type { Types } from 'mongoose';
import { Identity } from '../../models/identity.js';
import { outboxRedis } from './index.js';

/**
 * Person → bot contact, in Redis (`bot-contact:by-person`), so a dispatcher finds the bot
 * contacts of a whole batch with one HMGET instead of reading identities per message.
 * Binding and unbinding keep it current; `bot-contact:built` marks a complete copy, and a
 * dispatcher that finds the mark missing (Redis restarted or flushed) rebuilds it from the
 * identities before choosing channels. The reconcile job rebuilds it too, which heals a change
 * made while Redis was unreachable.
 */
export const CONTACTS_KEY = 'bot-contact:by-person';
export const CONTACTS_BUILT_KEY = 'bot-contact:built';

/** Records that `person` is reached through bot contact `contact` (and `previous` no longer is). */
export async function rememberBotContact(person: Types.ObjectId | string, contact: string, previous?: Types.ObjectId | string | null): Promise<void> {
  const redis = outboxRedis();
  if (!redis) return;
  const tx = redis.multi();
  if (previous && String(previous) !== String(person)) tx.hdel(CONTACTS_KEY, String(previous));
  tx.hset(CONTACTS_KEY, String(person), contact);
  await tx.exec().catch(() => undefined);
}

/** The person has no bot contact any more. */
export async function forgetBotContacts(person: Types.ObjectId | string): Promise<void> {
  const redis = outboxRedis();
  if (!redis) return;
  await redis.hdel(CONTACTS_KEY, String(person)).catch(() => undefined);
}

/** Rebuilds the whole map from the identities (one read), then marks it built. */
export async function rebuildContactIndex(redis: Redis): Promise<number> {
  const identities = await Identity.find({ provider: 'wechat_bot' }, { person: 1, subject: 1, updatedAt: 1 }).sort({ updatedAt: 1 }).lean();
  const tx = redis.multi().del(CONTACTS_KEY);
  // Sorted by updatedAt: a person with several contacts gets the one bound last.
  const map = new Map(identities.map((i) => [String(i.person), i.subject]));
  if (map.size > 0) tx.hset(CONTACTS_KEY, Object.fromEntries(map));
  tx.set(CONTACTS_BUILT_KEY, String(Date.now()));
  await tx.exec();
  return map.size;
}

/** The bot contacts of these persons (undefined: none), rebuilding the map first if needed. */
export async function botContactsOf(redis: Redis, persons: string[]): Promise<Array<string | undefined>> {
  if (persons.length === 0) return [];
  if (!(await redis.exists(CONTACTS_BUILT_KEY))) await rebuildContactIndex(redis);
  const contacts = await redis.hmget(CONTACTS_KEY, ...persons);
  return contacts.map((c) => c ?? undefined);
}
