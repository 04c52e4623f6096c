import type { Connection } from 'mongoose';
import type { Redis } from 'ioredis';
import { types } from 'wechaty';
import type { MessageInterface } from 'wechaty/impls';
import type { Config } from '../src/config.js';
import { AppError } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import { converse } from './dialogue/engine.js';
import { oneAtATime, type TurnLimit } from './dialogue/session.js';
import { boardNumberIn, claimFromBoard } from './flows/volunteerGroup.js';
import { answerText, callerForContact, type TextHandlerDeps } from './handlers/binding.js';
import { bindingSettings } from '../src/commands/botBinding.js';
import { answerUrgent, urgentIn } from './handlers/urgent.js';
import { TurnQueue } from './dialogue/turnQueue.js';
import { buildWechaty, loginMockBot, type BuiltWechaty } from './puppet.js';
import { replies } from './replies.js';
import { createMetrics, type Metrics } from '../src/metrics.js';
import { rateLimitKey } from '../src/rateLimit/limiter.js';

export interface BotDeps {
  config: Config;
  logger: Logger;
  mongo: Connection;
  redis: Redis;
  metrics?: Metrics;
}

/**
 * The per-contact chat limit (the `bot` rate class), counted when the contact's turn begins,
 * in the same round trip as its lock (bots/dialogue/session.ts): over it, the contact gets
 * one polite warning (remembered in Redis for the rest of the window, so every instance
 * agrees) and then no answer at all. Undefined when limits are off.
 */
function turnLimit(config: Config['rateLimits'], contactId: string): TurnLimit | undefined {
  if (!config.enabled) return undefined;
  const { points, durationSeconds } = config.classes.bot;
  return { key: rateLimitKey('bot', `contact:${contactId}`), points, windowSeconds: durationSeconds, warnedKey: `bot-flood-warned:${contactId}` };
}

export interface RunningBot extends BuiltWechaty {
  stop(): Promise<void>;
}

/**
 * The text of a message that says distress (紧急求助), with its kind; undefined otherwise.
 * In a group only when the bot is @-mentioned (onMessage drops the rest before this).
 */
async function urgentTextOf(message: MessageInterface): Promise<{ text: string; kind: NonNullable<ReturnType<typeof urgentIn>> } | undefined> {
  if (message.type() !== types.Message.Text) return undefined;
  const text = message.room() ? await message.mentionText() : message.text();
  const kind = urgentIn(text);
  return kind ? { text, kind } : undefined;
}

/**
 * Whether a message is one the bot should consider at all: not its own, not one that
 * arrived before it started (a restart must not answer yesterday's messages again).
 */
export function isFresh(message: MessageInterface, startedAt: Date): boolean {
  return !message.self() && message.date().getTime() >= startedAt.getTime() - 1_000;
}

/**
 * What a person sends that is not text: answered with "please type". Other kinds (recalled
 * messages, transfers, red envelopes, group notes, system notices) get no answer.
 */
const CONTENT_TYPES: ReadonlySet<types.Message> = new Set([
  types.Message.Attachment,
  types.Message.Audio,
  types.Message.Contact,
  types.Message.ChatHistory,
  types.Message.Emoticon,
  types.Message.Image,
  types.Message.Location,
  types.Message.MiniProgram,
  types.Message.Url,
  types.Message.Video,
  types.Message.Post,
]);

/**
 * The answer to one fresh message, or undefined when the bot stays silent: in a group it
 * answers only when @-mentioned, and reads the text without the mention.
 */
async function answerFor(deps: TextHandlerDeps, message: MessageInterface): Promise<string | undefined> {
  const room = message.room();
  const n = room ? await boardReply(deps, message) : undefined;
  if (room && n !== undefined) {
    const answer = await claimFromBoard(deps.redis, room.id, message.talker().id, n);
    if (answer) return answer;
  }
  if (room && !(await message.mentionSelf())) return undefined;
  const type = message.type();
  if (type !== types.Message.Text) return CONTENT_TYPES.has(type) ? replies.textOnly : undefined;
  const text = room ? await message.mentionText() : message.text();
  return answerText(deps, message.talker().id, text);
}

/** A number replied in the volunteers' group: a claim of the task posted under it (no @ needed). */
async function boardReply(deps: TextHandlerDeps, message: MessageInterface): Promise<number | undefined> {
  const room = message.room();
  if (!room || message.type() !== types.Message.Text) return undefined;
  const text = (await message.mentionSelf()) ? await message.mentionText() : message.text();
  const n = boardNumberIn(text);
  return n !== undefined && (await room.topic()) === deps.volunteerGroup ? n : undefined;
}

/** Replies where the message came from; in a group, @-mentioning the sender. */
async function reply(message: MessageInterface, text: string): Promise<void> {
  const room = message.room();
  if (room) await room.say(text, message.talker());
  else await message.say(text);
}

/**
 * Starts the Wechaty bot. It is an adapter: handlers turn a message into a call of the same
 * commands the API uses, and the bot holds no business rule of its own. Logs carry ids and
 * message types only, never what a resident wrote.
 */
export async function startBot(deps: BotDeps): Promise<RunningBot> {
  const log = deps.logger.child({ component: 'bot' });
  const built = buildWechaty(deps.config.wechaty);
  const { wechaty } = built;
  const startedAt = new Date();
  const dialogue = { config: deps.config, redis: deps.redis, log };
  const handlerDeps: TextHandlerDeps = {
    redis: deps.redis,
    binding: bindingSettings(deps.config.auth),
    log,
    talk: (user, contactId, text) => converse(dialogue, user, contactId, text),
    volunteerGroup: deps.config.wechaty.volunteerGroup,
  };

  const metrics = deps.metrics ?? createMetrics(false);
  const turns = new TurnQueue(deps.config.wechaty.concurrentTurns);
  metrics.watchBotTurns(() => turns.queued);

  async function onMessage(message: MessageInterface): Promise<void> {
    if (!isFresh(message, startedAt)) return;
    if (message.room() && !(await message.mentionSelf()) && (await boardReply(handlerDeps, message)) === undefined) return;
    const ids = { messageId: message.id, type: types.Message[message.type()] };
    log.debug(ids, 'message received');
    let answer: string | undefined;
    try {
      // 紧急求助 first, before the rate limit and without waiting for the contact's turn: it
      // is never limited, never queued behind a slow answer, never dropped.
      const urgent = await urgentTextOf(message);
      if (urgent) {
        // Even when the database cannot say who this is, the numbers go out.
        const caller = await callerForContact(message.talker().id).catch(() => undefined);
        answer = caller === undefined
          ? replies.urgent(urgent.kind, deps.config.urgent.dutyPhone, 'failed')
          : await answerUrgent(dialogue, caller, urgent.text, urgent.kind);
      } else {
        // One message at a time per contact (across instances too): two quick messages are
        // answered in order and never race over the conversation. In this process, a few
        // turns at once, the rest in arrival order (dialogue/turnQueue.ts).
        const contactId = message.talker().id;
        // Who is writing, asked now rather than when the turn starts: a burst's first messages
        // (a restart, a notice to a whole group) then read their senders together, a few reads
        // for all, instead of a few for every 16 the queue lets through (src/cache/batch.ts).
        const caller = callerForContact(contactId);
        caller.catch(() => undefined); // a failure is the turn's, when it awaits it
        const turn = await turns.run(() => oneAtATime(deps.redis, contactId, (held) => answerFor({
          ...handlerDeps,
          caller,
          talk: (user, id, text) => converse({ ...dialogue, held }, user, id, text),
        }, message), turnLimit(deps.config.rateLimits, contactId)));
        if (turn && typeof turn === 'object' && 'limited' in turn) {
          metrics.rateLimited.inc({ class: 'bot' });
          if (!turn.firstWarning) return;
          answer = replies.slowDown(turn.retryAfterSeconds);
        } else {
          answer = turn;
          if (answer === '') return;
        }
      }
    } catch (err) {
      if (err instanceof AppError) {
        answer = err.message;
      } else {
        // The error's name only: a message could quote what the resident wrote.
        log.error({ ...ids, errorType: err instanceof Error ? err.name : typeof err }, 'bot message failed');
        answer = replies.systemError;
      }
    }
    if (answer === undefined) return;
    try {
      await reply(message, answer);
    } catch (err) {
      log.error({ ...ids, errorType: err instanceof Error ? err.name : typeof err }, 'bot reply failed');
    }
  }

  wechaty.on('scan', (qrcode, status) => {
    // The operator scans this with the bot's WeChat account; the URL holds no personal data.
    log.info({ status, qrcodeImage: `https://wechaty.js.org/qrcode/${encodeURIComponent(qrcode)}` }, 'scan to log in');
  });
  wechaty.on('login', () => log.info('bot logged in'));
  wechaty.on('logout', () => log.warn('bot logged out'));
  wechaty.on('error', (err) => log.error({ err: { message: err.message } }, 'bot error'));
  wechaty.on('message', (message) => {
    onMessage(message).catch((err: unknown) =>
      log.error({ messageId: message.id, errorType: err instanceof Error ? err.name : typeof err }, 'bot message failed'),
    );
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
