import { trusted } from 'mongoose';
import { monthOf, Notification } from '../../models/notification.js';
import { NotificationRead } from '../../models/notificationRead.js';
import { NotificationAttempt, NotificationResult, NotificationRetry } from '../../models/notificationDelivery.js';

const DAY = 86_400_000;

/**
 * At most this many records per delete: FerretDB v1 on PostgreSQL deletes the ids its filter
 * found in one statement, one parameter each, and PostgreSQL refuses more than 65,535
 * ("extended protocol limited to 65535 parameters", measured by bench:year: a year of one
 * community is ~145,000 notifications past the retention on the first run).
 */
export const PRUNE_BATCH = 50_000;

type Prunable = {
  find(filter: Record<string, unknown>): { select(s: Record<string, 1>): { limit(n: number): { lean(): Promise<Array<{ _id: unknown }>> } } };
  deleteMany(filter: Record<string, unknown>): Promise<{ deletedCount: number }>;
  countDocuments(filter: Record<string, unknown>): Promise<number>;
};

/**
 * Deletes what `filter` matches: in one statement when it matches at most `batch` records, else
 * `batch` at a time (their ids, then those ids still matching; FerretDB filters `$in` in Go).
 */
async function deleteInBatches(model: Prunable, filter: Record<string, unknown>, batch: number): Promise<number> {
  const matching = await model.countDocuments(filter);
  if (matching === 0) return 0;
  if (matching <= batch) return (await model.deleteMany(filter)).deletedCount;
  let deleted = 0;
  for (;;) {
    const ids = (await model.find(filter).select({ _id: 1 }).limit(batch).lean()).map((d) => d._id);
    if (ids.length === 0) return deleted;
    deleted += (await model.deleteMany({ ...filter, _id: trusted({ $in: ids }) })).deletedCount;
    if (ids.length < batch) return deleted;
  }
}

/** Consecutive empty months after which the month-by-month prune stops looking further back. */
const EMPTY_MONTHS = 12;

const previousMonth = (month: string) => {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
};

/**
 * Deletes a month-keyed collection's records of the months wholly before `cutoff`'s month, by
 * their `month` (an indexed equality FerretDB pushes down, so each batch decodes one month, not
 * the collection), going back until EMPTY_MONTHS months in a row hold nothing.
 */
async function deleteMonthsBefore(model: Prunable, cutoff: Date, batch: number): Promise<number> {
  let month = monthOf(cutoff);
  let deleted = 0;
  for (let empty = 0; empty < EMPTY_MONTHS;) {
    month = previousMonth(month);
    const n = await deleteInBatches(model, { month }, batch);
    deleted += n;
    empty = n === 0 ? empty + 1 : 0;
  }
  return deleted;
}

/**
 * Deletes notifications with their month once the whole month is more than `retentionDays` past
 * (so a message is kept `retentionDays` at least, a month more at most), with their read marks
 * (a mark carries its notification's month); their attempts, results and staff retries go
 * `retentionDays` after they happened. A person's messages are read and tallied by the month
 * (GET /me/notifications, retainedMonths, inboxTallies.ts): a month is kept whole or not at all,
 * so a settled month's unread tally stays right until the month leaves the window. On FerretDB v1
 * every ranged read of these collections (the reconcile window, the dead-letter page) decodes all
 * of them, so keeping them would make those reads grow with the community's age. Safe to re-run;
 * the retention is longer than the reconcile window (config enforces it), so nothing still to
 * send is touched.
 */
export async function pruneNotifications(retentionDays: number, now = new Date(), batch = PRUNE_BATCH): Promise<Record<string, number>> {
  const cutoff = new Date(now.getTime() - retentionDays * DAY);
  const before = trusted({ $lt: cutoff });
  // Notifications and marks by month (backfillNotificationKeys gave every record one at start);
  // the delivery records have no month and are few once the first prune is done (a day's worth).
  // The months before the cutoff's: retainedMonths keeps the cutoff's month in the window.
  const [notifications, attempts, results, retries, marks] = await Promise.all([
    deleteMonthsBefore(Notification as unknown as Prunable, cutoff, batch),
    deleteInBatches(NotificationAttempt as unknown as Prunable, { claimedAt: before }, batch),
    deleteInBatches(NotificationResult as unknown as Prunable, { at: before }, batch),
    deleteInBatches(NotificationRetry as unknown as Prunable, { at: before }, batch),
    deleteMonthsBefore(NotificationRead as unknown as Prunable, cutoff, batch),
  ]);
  return { notifications, attempts, results, retries, marks };
}
