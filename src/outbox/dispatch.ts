import type { Redis } from 'ioredis';
import { Types, trusted } from 'mongoose';
import { Notification } from '../../models/notification.js';
import { NotificationAttempt, NotificationResult, type NotificationOutcome } from '../../models/notificationDelivery.js';
import type { Logger } from '../logger.js';
import { isDuplicateKey } from '../storage/mongo.js';
import type { Channel, Channels, SendOutcome } from './channels.js';
import { botContactsOf } from './contacts.js';
import { DUE_KEY, forget, scheduleRetry, takeDue, toOutboxMessage, type OutboxMessage } from './index.js';

/** How failures are retried: attempt n waits base · 2^(n-1) seconds (capped), up to maxAttempts. */
export interface RetryRules {
  maxAttempts: number;
  retryBaseSeconds: number;
  retryMaxSeconds: number;
}

export interface DispatchDeps {
  redis: Redis;
  channels: Channels;
  /** Names this dispatcher in its claims. */
  instance: string;
  rules: RetryRules;
  /** Messages sent at the same time (default 16). */
  concurrency?: number;
  log?: Logger;
}

export interface DispatchCounts {
  taken: number;
  sent: number;
  retried: number;
  dead: number;
  skipped: number;
  noChannel: number;
  /** Taken by another dispatcher first (its claim won). */
  duplicates: number;
  /** Bound to the bot, but this process has no bot: left for one that has. */
  deferred: number;
  [count: string]: number;
}

/** A person bound to the bot is left for a process running the bot, this much later. */
const DEFER_MS = 30_000;

export function retryDelayMs(rules: RetryRules, attempt: number): number {
  return Math.min(rules.retryBaseSeconds * 2 ** (attempt - 1), rules.retryMaxSeconds) * 1000;
}

type Plan =
  | { id: string; attempt: number; message: OutboxMessage; action: 'send'; channel: Channel; contact?: string }
  | { id: string; attempt: number; message: OutboxMessage; action: 'skip' | 'no_channel' };

/** Runs `fn` over `items`, `limit` at a time. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Inserts the claims of a batch (ordered: false, one round trip) and returns the indexes that
 * were claimed: a duplicate key means another dispatcher holds that attempt.
 */
async function claim(plans: Plan[], instance: string, now: Date): Promise<Set<number>> {
  const docs = plans.map((p) => ({ notification: new Types.ObjectId(p.id), attempt: p.attempt, instance, claimedAt: now }));
  const claimed = new Set(plans.map((_, i) => i));
  if (docs.length === 0) return claimed;
  try {
    await NotificationAttempt.collection.insertMany(docs, { ordered: false });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    const writeErrors = (err as { writeErrors?: Array<{ index: number; code?: number }> }).writeErrors ?? [];
    for (const w of writeErrors) {
      if (w.code !== 11000) throw err;
      claimed.delete(w.index);
    }
    if (writeErrors.length === 0) claimed.delete(0); // a single-document error
  }
  return claimed;
}

/** Messages Redis lost (its entry survived, the payload not): read back from MongoDB in one query. */
async function reload(ids: string[]): Promise<Map<string, OutboxMessage>> {
  if (ids.length === 0) return new Map();
  const docs = await Notification.find({ _id: trusted({ $in: ids.map((id) => new Types.ObjectId(id)) }) }).lean();
  return new Map(docs.map((d) => [String(d._id), toOutboxMessage(d)]));
}

/**
 * Sends the notifications due at `now`, at most `limit` of them. Safe to run on any number of
 * instances at once: each takes a disjoint batch from Redis (one Lua script), claims each
 * attempt with a unique insert, sends, and records each outcome with an insert. MongoDB is
 * never read on this path (except to reload a message Redis lost) and never updated.
 */
export async function dispatchDueNotifications(deps: DispatchDeps, now: Date, limit: number): Promise<DispatchCounts> {
  const counts: DispatchCounts = { taken: 0, sent: 0, retried: 0, dead: 0, skipped: 0, noChannel: 0, duplicates: 0, deferred: 0 };
  const { redis, channels, rules } = deps;
  const taken = await takeDue(redis, now, limit);
  counts.taken = taken.length;
  if (taken.length === 0) return counts;

  const reloaded = await reload(taken.filter((t) => !t.message).map((t) => t.id));
  const entries = taken
    .map((t) => ({ ...t, message: t.message ?? reloaded.get(t.id) }))
    .filter((t): t is typeof t & { message: OutboxMessage } => t.message !== undefined);

  const contacts = await botContactsOf(redis, entries.map((e) => e.message.person));
  const plans: Plan[] = [];
  const later = redis.pipeline();
  entries.forEach((e, i) => {
    const contact = contacts[i];
    if (e.message.staleAfter !== undefined && now.getTime() > e.message.staleAfter) {
      plans.push({ id: e.id, attempt: e.attempt, message: e.message, action: 'skip' });
    } else if (contact && channels.bot) {
      plans.push({ id: e.id, attempt: e.attempt, message: e.message, action: 'send', channel: channels.bot, contact });
    } else if (contact) {
      later.zadd(DUE_KEY, now.getTime() + DEFER_MS, e.id);
      counts.deferred += 1;
    } else if (e.message.subscribe && channels.subscribe) {
      plans.push({ id: e.id, attempt: e.attempt, message: e.message, action: 'send', channel: channels.subscribe });
    } else {
      plans.push({ id: e.id, attempt: e.attempt, message: e.message, action: 'no_channel' });
    }
  });
  if (counts.deferred > 0) await later.exec();

  const claimed = await claim(plans, deps.instance, now);
  const mine = plans.filter((_, i) => claimed.has(i));
  counts.duplicates = plans.length - mine.length;

  const outcomes = await mapLimit(mine, deps.concurrency ?? 16, async (plan): Promise<SendOutcome | null> => {
    if (plan.action !== 'send') return null;
    try {
      return await plan.channel.send({ person: plan.message.person, contact: plan.contact }, plan.message, now);
    } catch (err) {
      return { status: 'retry', error: `channel_${err instanceof Error ? err.name : 'error'}` };
    }
  });

  const results: Array<Record<string, unknown>> = [];
  const redisAfter = redis.pipeline();
  mine.forEach((plan, i) => {
    const outcome = outcomes[i];
    const base = { notification: new Types.ObjectId(plan.id), attempt: plan.attempt, at: now };
    const channel = plan.action === 'send' ? plan.channel.name : undefined;
    let result: { outcome: NotificationOutcome; final: boolean; error?: string; retryAt?: Date };
    if (plan.action === 'skip') result = { outcome: 'skipped', final: true, error: 'stale' };
    else if (plan.action === 'no_channel') result = { outcome: 'no_channel', final: true, error: 'no_channel' };
    else if (outcome!.status === 'sent') result = { outcome: 'sent', final: true };
    else if (outcome!.status === 'unreachable') result = { outcome: 'no_channel', final: true, error: outcome!.error };
    else if (outcome!.status === 'retry' && plan.attempt < rules.maxAttempts) {
      const retryAt = new Date(now.getTime() + retryDelayMs(rules, plan.attempt));
      result = { outcome: 'failed', final: false, error: outcome!.error, retryAt };
    } else result = { outcome: 'dead', final: true, error: outcome!.error };

    results.push({ ...base, ...result, ...(channel ? { channel } : {}) });
    if (result.final) forget(redisAfter, plan.id);
    else scheduleRetry(redisAfter, plan.id, plan.attempt + 1, result.retryAt!.getTime());
    const key = ({ sent: 'sent', failed: 'retried', dead: 'dead', skipped: 'skipped', no_channel: 'noChannel', withdrawn: 'skipped' } as const)[result.outcome];
    counts[key] += 1;
  });

  if (results.length > 0) {
    await NotificationResult.collection.insertMany(results, { ordered: false }).catch((err) => {
      if (!isDuplicateKey(err)) throw err; // already recorded by an earlier, interrupted run
    });
  }
  await redisAfter.exec();
  if (counts.dead > 0 || counts.noChannel > 0) {
    deps.log?.warn({ instance: deps.instance, dead: counts.dead, noChannel: counts.noChannel }, 'notifications not delivered');
  }
  return counts;
}

/** Dispatches batch after batch until nothing is due, `budgetMs` is spent or `stopping()` says so. */
export async function drainDueNotifications(
  deps: DispatchDeps,
  now: Date,
  limit: number,
  budgetMs: number,
  stopping: () => boolean = () => false,
): Promise<DispatchCounts> {
  const started = Date.now();
  const total: DispatchCounts = { taken: 0, sent: 0, retried: 0, dead: 0, skipped: 0, noChannel: 0, duplicates: 0, deferred: 0 };
  for (;;) {
    const counts = await dispatchDueNotifications(deps, now, limit);
    for (const [k, v] of Object.entries(counts)) total[k] = (total[k] ?? 0) + v;
    if (counts.taken < limit || Date.now() - started > budgetMs || stopping()) return total;
  }
}
