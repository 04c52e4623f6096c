import type { Connection } from 'mongoose';
import type { Redis } from 'ioredis';
import type { MessageInterface } from 'wechaty/impls';
import type { Config } from '../src/config.js';
import type { Logger } from '../src/logger.js';
import { buildWechaty, loginMockBot, type BuiltWechaty } from './puppet.js';

export interface BotDeps {
  config: Config;
  logger: Logger;
  mongo: Connection;
  redis: Redis;
}

export interface RunningBot extends BuiltWechaty {
  stop(): Promise<void>;
}

/**
 * Whether a message is one the bot should consider at all: not its own, not one that
 * arrived before it started (a restart must not answer yesterday's messages again).
 */
export function isFresh(message: MessageInterface, startedAt: Date): boolean {
  return !message.self() && message.date().getTime() >= startedAt.getTime() - 1_000;
}

/**
 * Starts the Wechaty bot. It is an adapter: handlers turn a message into a call of the same
 * commands the API uses. Dialogues arrive with the chat-bot issue; until then fresh
 * messages are counted and otherwise left alone.
 */
export async function startBot(deps: BotDeps): Promise<RunningBot> {
  const log = deps.logger.child({ component: 'bot' });
  const built = buildWechaty(deps.config.wechaty);
  const { wechaty } = built;
  const startedAt = new Date();

  wechaty.on('scan', (qrcode, status) => {
    // The operator scans this with the bot's WeChat account; the URL holds no personal data.
    log.info({ status, qrcodeImage: `https://wechaty.js.org/qrcode/${encodeURIComponent(qrcode)}` }, 'scan to log in');
  });
  wechaty.on('login', () => log.info('bot logged in'));
  wechaty.on('logout', () => log.warn('bot logged out'));
  wechaty.on('error', (err) => log.error({ err: { message: err.message } }, 'bot error'));
  wechaty.on('message', (message) => {
    if (!isFresh(message, startedAt)) return;
    log.debug({ type: message.type() }, 'message received');
  });

  await wechaty.start();
  loginMockBot(built);
  log.info({ puppet: deps.config.wechaty.puppet }, 'bot started');

  return {
    ...built,
    async stop() {
      await wechaty.stop();
    },
  };
}
