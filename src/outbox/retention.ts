import { trusted } from 'mongoose';
import { Notification } from '../../models/notification.js';
import { NotificationRead } from '../../models/notificationRead.js';
import { NotificationAttempt, NotificationResult, NotificationRetry } from '../../models/notificationDelivery.js';

const DAY = 86_400_000;

/**
 * Deletes notifications due more than `retentionDays` ago, with their attempts, results, staff
 * retries and read marks (a mark carries its notification's `dueAt`): a finished notification is history nobody reads, and on FerretDB v1 every
 * ranged read of these collections (the reconcile window, the dead-letter page) decodes all
 * of them, so keeping them would make those reads grow with the community's age. Safe to
 * re-run; the retention is longer than the reconcile window (config enforces it), so nothing
 * still to send is touched.
 */
export async function pruneNotifications(retentionDays: number, now = new Date()): Promise<Record<string, number>> {
  const before = trusted({ $lt: new Date(now.getTime() - retentionDays * DAY) });
  const [notifications, attempts, results, retries, marks] = await Promise.all([
    Notification.deleteMany({ dueAt: before }),
    NotificationAttempt.deleteMany({ claimedAt: before }),
    NotificationResult.deleteMany({ at: before }),
    NotificationRetry.deleteMany({ at: before }),
    NotificationRead.deleteMany({ dueAt: before }),
  ]);
  return {
    notifications: notifications.deletedCount,
    attempts: attempts.deletedCount,
    results: results.deletedCount,
    retries: retries.deletedCount,
    marks: marks.deletedCount,
  };
}
