import { trusted } from 'mongoose';
import { Notification } from '../../models/notification.js';
import { NotificationRead } from '../../models/notificationRead.js';
import { NotificationAttempt, NotificationResult, NotificationRetry } from '../../models/notificationDelivery.js';

const DAY = 86_400_000;

/**
 * At most this many records per delete: FerretDB v1 on PostgreSQL deletes the ids its filter
 * found in one statement, one parameter each, and PostgreSQL refuses more than 65,535
 * ("extended protocol limited to 65535 parameters", measured by bench:year: a year of one
 * community is ~145,000 notifications past the retention on the first run).
 */
export const PRUNE_BATCH = 10_000;

type Prunable = {
  find(filter: Record<string, unknown>): { select(s: Record<string, 1>): { limit(n: number): { lean(): Promise<Array<{ _id: unknown }>> } } };
  deleteMany(filter: Record<string, unknown>): Promise<{ deletedCount: number }>;
};

/** Deletes what `filter` matches, `batch` records at a time (their ids, then those ids still matching). */
async function deleteInBatches(model: Prunable, filter: Record<string, unknown>, batch: number): Promise<number> {
  let deleted = 0;
  for (;;) {
    const ids = (await model.find(filter).select({ _id: 1 }).limit(batch).lean()).map((d) => d._id);
    if (ids.length === 0) return deleted;
    deleted += (await model.deleteMany({ ...filter, _id: trusted({ $in: ids }) })).deletedCount;
    if (ids.length < batch) return deleted;
  }
}

/**
 * Deletes notifications due more than `retentionDays` ago, with their attempts, results, staff
 * retries and read marks (a mark carries its notification's `dueAt`): a finished notification is
 * history nobody reads, and on FerretDB v1 every ranged read of these collections (the reconcile
 * window, the dead-letter page) decodes all of them, so keeping them would make those reads grow
 * with the community's age. Safe to re-run; the retention is longer than the reconcile window
 * (config enforces it), so nothing still to send is touched.
 */
export async function pruneNotifications(retentionDays: number, now = new Date(), batch = PRUNE_BATCH): Promise<Record<string, number>> {
  const before = trusted({ $lt: new Date(now.getTime() - retentionDays * DAY) });
  const [notifications, attempts, results, retries, marks] = await Promise.all([
    deleteInBatches(Notification as unknown as Prunable, { dueAt: before }, batch),
    deleteInBatches(NotificationAttempt as unknown as Prunable, { claimedAt: before }, batch),
    deleteInBatches(NotificationResult as unknown as Prunable, { at: before }, batch),
    deleteInBatches(NotificationRetry as unknown as Prunable, { at: before }, batch),
    deleteInBatches(NotificationRead as unknown as Prunable, { dueAt: before }, batch),
  ]);
  return { notifications, attempts, results, retries, marks };
}
