import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Step } from './flow.js';

/** A conversation forgets itself after 30 minutes of silence (issue 9). */
export const DIALOGUE_TTL_SECONDS = 30 * 60;

/** Where a contact's conversation stands: which flow, what it knows, what it last asked. */
export interface DialogueState {
  flow: string;
  slots: Record<string, unknown>;
  /** The order slots were filled in, so 返回 can undo the last answer. */
  filled: string[];
  /** The question or summary the contact is answering. */
  step: Step;
  /** A conversation put aside by a topic change; it resumes when this one ends. */
  paused?: DialogueState;
}

const stateKey = (contactId: string) => `bot-dialogue:${contactId}`;
const lockKey = (contactId: string) => `bot-dialogue-lock:${contactId}`;
/** A contact's last few messages (bots/flows/human.ts), for the staff member who takes over. */
export const recentKey = (contactId: string) => `bot-recent:${contactId}`;
export const RECENT_MESSAGES = 5;
const RECENT_TTL_SECONDS = 30 * 60;

/**
 * The dialogue of the contact whose turn it is (oneAtATime holds its lock): the state read when
 * the turn began, and what the turn changes, written when it ends, in the same round trip as
 * the lock's release (issue 20: the lock, the rate limit, the state's read and write and the
 * remembered message were six round trips per message, now two). Reads in the turn see its
 * own writes. Only oneAtATime makes one; without it, every call goes to Redis at once.
 */
export interface HeldDialogue {
  /** The state as it stands in this turn (JSON; null: none). */
  raw: string | null;
  /** Whether the turn changed it (then `raw` is written, or deleted when null, at the end). */
  changed: boolean;
  /** The message to remember (rememberMessage) at the end of the turn. */
  remember?: string;
}

export async function loadDialogue(redis: Redis, contactId: string, held?: HeldDialogue): Promise<DialogueState | null> {
  const raw = held ? held.raw : await redis.get(stateKey(contactId));
  return raw ? (JSON.parse(raw) as DialogueState) : null;
}

export async function saveDialogue(redis: Redis, contactId: string, state: DialogueState, held?: HeldDialogue): Promise<void> {
  if (held) {
    held.raw = JSON.stringify(state);
    held.changed = true;
    return;
  }
  await redis.set(stateKey(contactId), JSON.stringify(state), 'EX', DIALOGUE_TTL_SECONDS);
}

export async function clearDialogue(redis: Redis, contactId: string, held?: HeldDialogue): Promise<void> {
  if (held) {
    // Nothing stored and nothing written: nothing to delete.
    if (held.raw !== null || held.changed) {
      held.raw = null;
      held.changed = true;
    }
    return;
  }
  await redis.del(stateKey(contactId));
}

/** Keeps a contact's last few messages (30 minutes); in a turn, with the turn's other writes. */
export async function rememberMessage(redis: Redis, contactId: string, text: string, held?: HeldDialogue): Promise<void> {
  if (held) {
    held.remember = text.slice(0, 200);
    return;
  }
  await redis.multi().lpush(recentKey(contactId), text.slice(0, 200)).ltrim(recentKey(contactId), 0, RECENT_MESSAGES - 1)
    .expire(recentKey(contactId), RECENT_TTL_SECONDS).exec();
}

/** The contact's last messages, oldest first, the one a turn is about to remember included. */
export async function recentMessages(redis: Redis, contactId: string, held?: HeldDialogue): Promise<string[]> {
  const pending = held?.remember !== undefined ? [held.remember] : [];
  const stored = await redis.lrange(recentKey(contactId), 0, RECENT_MESSAGES - 1 - pending.length);
  return [...stored.reverse(), ...pending];
}

/** The per-contact message limit of oneAtATime (the `bot` rate class: a fixed window). */
export interface TurnLimit {
  /** `rate:bot:contact:<id>`, as rate-limiter-flexible keeps it (the same counter). */
  key: string;
  points: number;
  windowSeconds: number;
  /** Where the one warning of a window is remembered (every instance agrees on it). */
  warnedKey: string;
}

/**
 * Begins a turn, in one round trip: the rate limit (the same fixed-window counter and Lua as
 * rate-limiter-flexible's RateLimiterRedis, so the API's view and this one agree), then the
 * lock (set if free, with expiry), then the dialogue state. KEYS: rate, warned, lock, state.
 * ARGV: points, window seconds, token, lock ms, '1' to count the message (a retry for the
 * lock does not count it again). Answers {'limited', retry seconds, 1 if first warning} or
 * {'go', state} or {'busy'}.
 */
const BEGIN_TURN = `
if ARGV[5] == '1' then
  redis.call('set', KEYS[1], 0, 'EX', ARGV[2], 'NX')
  local consumed = redis.call('incrby', KEYS[1], 1)
  local ttl = redis.call('pttl', KEYS[1])
  if ttl == -1 then
    redis.call('expire', KEYS[1], ARGV[2])
    ttl = 1000 * ARGV[2]
  end
  if consumed > tonumber(ARGV[1]) then
    local retry = math.max(1, math.ceil(ttl / 1000))
    local first = redis.call('set', KEYS[2], '1', 'EX', retry, 'NX')
    if first then return {'limited', retry, 1} end
    return {'limited', retry, 0}
  end
end
if redis.call('set', KEYS[3], ARGV[3], 'PX', ARGV[4], 'NX') then
  return {'go', redis.call('get', KEYS[4])}
end
return {'busy'}
`;

/**
 * Ends a turn, in one round trip: the state written (or deleted), the message remembered, the
 * lock released if still ours. KEYS: lock, state, recent. ARGV: token, 'set' | 'del' | '',
 * state, state ttl, '1' to remember, message, how many to keep, their ttl.
 */
const END_TURN = `
if ARGV[2] == 'set' then
  redis.call('set', KEYS[2], ARGV[3], 'EX', ARGV[4])
elseif ARGV[2] == 'del' then
  redis.call('del', KEYS[2])
end
if ARGV[5] == '1' then
  redis.call('lpush', KEYS[3], ARGV[6])
  redis.call('ltrim', KEYS[3], 0, tonumber(ARGV[7]) - 1)
  redis.call('expire', KEYS[3], ARGV[8])
end
if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) end
return 1
`;

type TurnRedis = Redis & {
  botBeginTurn(...args: Array<string | number>): Promise<[string, (string | number | null)?, number?]>;
  botEndTurn(...args: Array<string | number>): Promise<number>;
};

/** The two scripts, defined once per client (EVALSHA, loaded again by ioredis if Redis lost it). */
function scripted(redis: Redis): TurnRedis {
  const r = redis as TurnRedis;
  if (typeof r.botBeginTurn !== 'function') {
    redis.defineCommand('botBeginTurn', { numberOfKeys: 4, lua: BEGIN_TURN });
    redis.defineCommand('botEndTurn', { numberOfKeys: 3, lua: END_TURN });
  }
  return r;
}

const LOCK_MS = 30_000;
const chains = new Map<string, Promise<unknown>>();

/** A turn refused by the rate limit: the reply is the one warning of the window, or silence. */
export interface Limited {
  limited: true;
  retryAfterSeconds: number;
  /** The first refusal of the window (it gets the warning; the others, silence). */
  firstWarning: boolean;
}

/**
 * Runs `work` for one contact at a time: two quick messages are answered in order, never
 * racing over the dialogue state. In this process a promise chain per contact keeps the order;
 * across instances a Redis lock (with expiry, released only by its holder) does. With `limit`,
 * the message is counted first, and over the limit `work` does not run. `work` gets the turn's
 * dialogue (HeldDialogue), read with the lock and written with its release; if that write
 * fails, the turn fails (its answer would speak of a state that was not kept).
 */
export function oneAtATime<T>(
  redis: Redis,
  contactId: string,
  work: (held: HeldDialogue) => Promise<T>,
  limit?: TurnLimit,
): Promise<T | Limited> {
  const previous = chains.get(contactId) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(async (): Promise<T | Limited> => {
    const r = scripted(redis);
    const token = randomUUID();
    const deadline = Date.now() + LOCK_MS;
    const keys = [limit?.key ?? 'bot-no-limit', limit?.warnedKey ?? 'bot-no-limit', lockKey(contactId), stateKey(contactId)];
    let count = limit ? '1' : '0';
    let raw: string | null = null;
    for (;;) {
      const [outcome, value, first] = await r.botBeginTurn(...keys, limit?.points ?? 0, limit?.windowSeconds ?? 0, token, LOCK_MS, count);
      if (outcome === 'limited') return { limited: true, retryAfterSeconds: Number(value), firstWarning: first === 1 };
      if (outcome === 'go') {
        raw = (value as string | null) ?? null;
        break;
      }
      count = '0';
      if (Date.now() > deadline) {
        // A holder that died: its lock has expired by now.
        raw = await redis.get(stateKey(contactId));
        break;
      }
      await new Promise((res) => setTimeout(res, 25));
    }
    const held: HeldDialogue = { raw, changed: false };
    let result: T;
    try {
      result = await work(held);
    } catch (err) {
      await endTurn(r, contactId, token, held).catch(() => undefined);
      throw err;
    }
    try {
      await endTurn(r, contactId, token, held);
    } catch (err) {
      // Only a lock to release (it expires on its own): the answer stands.
      if (held.changed || held.remember !== undefined) throw err;
    }
    return result;
  });
  chains.set(contactId, run);
  void run.finally(() => {
    if (chains.get(contactId) === run) chains.delete(contactId);
  }).catch(() => undefined);
  return run;
}

function endTurn(r: TurnRedis, contactId: string, token: string, held: HeldDialogue): Promise<number> {
  const write = held.changed ? (held.raw === null ? 'del' : 'set') : '';
  return r.botEndTurn(
    lockKey(contactId), stateKey(contactId), recentKey(contactId),
    token, write, held.raw ?? '', DIALOGUE_TTL_SECONDS,
    held.remember !== undefined ? '1' : '0', held.remember ?? '', RECENT_MESSAGES, RECENT_TTL_SECONDS,
  );
}
