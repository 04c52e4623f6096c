import type { Redis } from 'ioredis';
import { trusted } from 'mongoose';
import { Notification } from '../../models/notification.js';
import { NotificationAttempt, NotificationResult, NotificationRetry } from '../../models/notificationDelivery.js';
import { rebuildContactIndex } from './contacts.js';
import { rebuildGrantIndex } from './grants.js';
import { forget, indexEntries, toOutboxMessage, type IndexEntry } from './index.js';

export interface ReconcileRules {
  /** Notifications due longer ago than this are not looked at any more. */
  windowDays: number;
  /** A claim with no result this long after it was made is taken as a crashed dispatcher. */
  claimGraceSeconds: number;
}

export interface ReconcileCounts {
  pending: number;
  added: number;
  finished: number;
  inFlight: number;
  recovered: number;
  [count: string]: number;
}

/**
 * Puts back into Redis what MongoDB says is still to be sent: notifications with no final
 * result, at their next attempt (a failed one at its retry time, a dead letter a staff member
 * retried at once, an attempt claimed by a dispatcher that crashed before recording a result
 * — after `claimGraceSeconds` — at once). Entries already in the due-index keep their place
 * (ZADD NX), finished notifications are removed from it, and the bot-contact and grant
 * indexes are rebuilt. Safe to run anywhere at any time: at worst it re-adds something a
 * dispatcher holds, whose claim then fails as a duplicate.
 *
 * Reads (one query per collection, bounded to the window) are the price of a rebuildable
 * index; it runs at the start of the jobs role and every few minutes, never on the send path.
 */
export async function reconcileOutbox(redis: Redis, now: Date, rules: ReconcileRules): Promise<ReconcileCounts> {
  const since = new Date(now.getTime() - rules.windowDays * 86_400_000);
  const [notes, attempts, results, retries] = await Promise.all([
    Notification.find({ dueAt: trusted({ $gte: since }) }).lean(),
    NotificationAttempt.find({ claimedAt: trusted({ $gte: since }) }, { notification: 1, attempt: 1, claimedAt: 1 }).lean(),
    NotificationResult.find({ at: trusted({ $gte: since }) }, { notification: 1, attempt: 1, outcome: 1, final: 1, retryAt: 1 }).lean(),
    NotificationRetry.find({ at: trusted({ $gte: since }) }, { notification: 1, afterAttempt: 1, at: 1 }).lean(),
  ]);
  const lastClaim = new Map<string, { attempt: number; claimedAt: Date }>();
  for (const a of attempts) {
    const id = String(a.notification);
    if ((lastClaim.get(id)?.attempt ?? 0) < a.attempt) lastClaim.set(id, a);
  }
  const lastResult = new Map<string, (typeof results)[number]>();
  const withdrawn = new Set<string>();
  for (const r of results) {
    const id = String(r.notification);
    if (r.outcome === 'withdrawn') withdrawn.add(id);
    if ((lastResult.get(id)?.attempt ?? -1) < r.attempt) lastResult.set(id, r);
  }
  const retried = new Map(retries.map((r) => [`${r.notification}:${r.afterAttempt}`, r.at]));

  const counts: ReconcileCounts = { pending: 0, added: 0, finished: 0, inFlight: 0, recovered: 0 };
  const entries: IndexEntry[] = [];
  const finished: string[] = [];
  for (const note of notes) {
    const id = String(note._id);
    const claim = lastClaim.get(id);
    const result = lastResult.get(id);
    const add = (attempt: number, dueAt: number) => entries.push({ message: toOutboxMessage(note), attempt, dueAt });
    if (withdrawn.has(id)) finished.push(id);
    else if (claim && claim.attempt > (result?.attempt ?? 0)) {
      if (now.getTime() - claim.claimedAt.getTime() < rules.claimGraceSeconds * 1000) counts.inFlight += 1;
      else {
        counts.recovered += 1;
        add(claim.attempt + 1, now.getTime());
      }
    } else if (!result) add(1, note.dueAt.getTime());
    else if (!result.final) add(result.attempt + 1, (result.retryAt ?? now).getTime());
    else if (retried.has(`${id}:${result.attempt}`)) add(result.attempt + 1, retried.get(`${id}:${result.attempt}`)!.getTime());
    else finished.push(id);
  }
  counts.pending = entries.length;
  counts.finished = finished.length;
  counts.added = await indexEntries(redis, entries);
  for (let i = 0; i < finished.length; i += 1000) {
    const pipeline = redis.pipeline();
    for (const id of finished.slice(i, i + 1000)) forget(pipeline, id);
    await pipeline.exec();
  }
  await rebuildContactIndex(redis);
  await rebuildGrantIndex(redis);
  return counts;
}
