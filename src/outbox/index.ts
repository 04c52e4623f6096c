import type { Redis } from 'ioredis';
import type { Types } from 'mongoose';

/**
 * The outbox's due-index in Redis. MongoDB's Notification collection is the durable outbox;
 * Redis holds what the dispatchers need to send without reading MongoDB:
 *
 * - `outbox:due`      sorted set: notification id → when its next attempt is due (ms)
 * - `outbox:msg`      hash: notification id → the message (JSON, see OutboxMessage)
 * - `outbox:attempt`  hash: notification id → the number of its next attempt (absent = 1)
 *
 * Everything here can be rebuilt from MongoDB (reconcileOutbox), so losing Redis delays
 * messages but loses none.
 */
export const DUE_KEY = 'outbox:due';
export const MSG_KEY = 'outbox:msg';
export const ATTEMPT_KEY = 'outbox:attempt';

/** What a dispatcher needs to send one notification, as kept in `outbox:msg`. */
export interface OutboxMessage {
  id: string;
  key: string;
  person: string;
  kind: string;
  text: string;
  dueAt: number;
  staleAfter?: number;
  subscribe?: SubscribePayload;
}

export interface SubscribePayload {
  templateId: string;
  page?: string;
  data: Record<string, string>;
}

/** The stored form of a notification, as far as sending goes (a lean document). */
export interface NotificationLike {
  _id: Types.ObjectId;
  key: string;
  person: Types.ObjectId;
  kind: string;
  text: string;
  dueAt: Date;
  staleAfter?: Date | null;
  subscribe?: { templateId: string; page?: string | null; data: unknown } | null;
}

export function toOutboxMessage(n: NotificationLike): OutboxMessage {
  const msg: OutboxMessage = {
    id: String(n._id), key: n.key, person: String(n.person), kind: n.kind, text: n.text, dueAt: n.dueAt.getTime(),
  };
  if (n.staleAfter) msg.staleAfter = n.staleAfter.getTime();
  if (n.subscribe) {
    msg.subscribe = { templateId: n.subscribe.templateId, data: { ...(n.subscribe.data as Record<string, string>) } };
    if (n.subscribe.page) msg.subscribe.page = n.subscribe.page;
  }
  return msg;
}

let client: Redis | null = null;

/** Sets (or with null, clears) the Redis that notify() indexes new notifications in. */
export function useOutboxRedis(redis: Redis | null): void {
  client = redis;
}

/** The process's outbox Redis when it is connected, else null (notify then relies on reconcile). */
export function outboxRedis(): Redis | null {
  return client && client.status === 'ready' ? client : null;
}

/**
 * Adds notifications to the due-index: ZADD NX, so an entry already there (possibly with a
 * retry time) keeps its score; the message is written only if absent, and the attempt number
 * only raised. One round trip for the whole list.
 */
const ENSURE_SCRIPT = `
local added = 0
for i = 1, #ARGV, 4 do
  local id = ARGV[i]
  if not redis.call('ZSCORE', KEYS[1], id) then
    redis.call('HSETNX', KEYS[2], id, ARGV[i + 2])
    local attempt = tonumber(ARGV[i + 3])
    local current = tonumber(redis.call('HGET', KEYS[3], id) or '1')
    if attempt > current then redis.call('HSET', KEYS[3], id, attempt) end
    redis.call('ZADD', KEYS[1], ARGV[i + 1], id)
    added = added + 1
  end
end
return added`;

/**
 * Takes up to ARGV[2] entries due at ARGV[1] or before, removing them from the sorted set in
 * the same script: concurrent dispatchers get disjoint batches. Returns ids, messages and
 * attempt numbers.
 */
const TAKE_SCRIPT = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #ids == 0 then return {{}, {}, {}} end
redis.call('ZREM', KEYS[1], unpack(ids))
return {ids, redis.call('HMGET', KEYS[2], unpack(ids)), redis.call('HMGET', KEYS[3], unpack(ids))}`;

type OutboxCommands = {
  outboxEnsure(due: string, msg: string, attempt: string, ...args: Array<string | number>): Promise<number>;
  outboxTake(due: string, msg: string, attempt: string, now: number, limit: number): Promise<[string[], Array<string | null>, Array<string | null>]>;
};

function scripted(redis: Redis): Redis & OutboxCommands {
  const r = redis as Redis & Partial<OutboxCommands>;
  if (!r.outboxEnsure) {
    redis.defineCommand('outboxEnsure', { numberOfKeys: 3, lua: ENSURE_SCRIPT });
    redis.defineCommand('outboxTake', { numberOfKeys: 3, lua: TAKE_SCRIPT });
  }
  return r as Redis & OutboxCommands;
}

/** An entry for the due-index: the message, when its attempt is due, and which attempt. */
export interface IndexEntry {
  message: OutboxMessage;
  dueAt: number;
  attempt: number;
}

/** Puts entries in the due-index (in chunks of 500); returns how many were not there yet. */
export async function indexEntries(redis: Redis, entries: IndexEntry[]): Promise<number> {
  let added = 0;
  const r = scripted(redis);
  for (let i = 0; i < entries.length; i += 500) {
    const args = entries.slice(i, i + 500).flatMap((e) => [e.message.id, e.dueAt, JSON.stringify(e.message), e.attempt]);
    added += await r.outboxEnsure(DUE_KEY, MSG_KEY, ATTEMPT_KEY, ...args);
  }
  return added;
}

/** Indexes freshly stored notifications for their first attempt. */
export function indexNotifications(redis: Redis, notifications: NotificationLike[]): Promise<number> {
  return indexEntries(redis, notifications.map((n) => ({ message: toOutboxMessage(n), dueAt: n.dueAt.getTime(), attempt: 1 })));
}

/** One entry taken from the due-index: its message is null if Redis lost it (reload it). */
export interface TakenEntry {
  id: string;
  message: OutboxMessage | null;
  attempt: number;
}

/** Atomically takes up to `limit` entries due at `now`. */
export async function takeDue(redis: Redis, now: Date, limit: number): Promise<TakenEntry[]> {
  const [ids, messages, attempts] = await scripted(redis).outboxTake(DUE_KEY, MSG_KEY, ATTEMPT_KEY, now.getTime(), limit);
  return ids.map((id, i) => ({
    id,
    message: messages[i] ? (JSON.parse(messages[i]!) as OutboxMessage) : null,
    attempt: Number(attempts[i] ?? 1) || 1,
  }));
}

/** Schedules attempt `attempt` of `id` at `at` (overwriting any score it has). */
export function scheduleRetry(pipeline: ReturnType<Redis['pipeline']>, id: string, attempt: number, at: number): void {
  pipeline.hset(ATTEMPT_KEY, id, attempt);
  pipeline.zadd(DUE_KEY, at, id);
}

/** Forgets a finished notification. */
export function forget(pipeline: ReturnType<Redis['pipeline']>, id: string): void {
  pipeline.zrem(DUE_KEY, id);
  pipeline.hdel(MSG_KEY, id);
  pipeline.hdel(ATTEMPT_KEY, id);
}
