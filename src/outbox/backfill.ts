import { Types } from 'mongoose';
import { monthOf, Notification, subjectOf } from '../../models/notification.js';
import { NotificationRead } from '../../models/notificationRead.js';

const BATCH = 500;

/**
 * Gives notifications written before the `month` and `subject` fields existed their read keys,
 * and their read marks the notification's `month` and `dueAt` (a mark whose notification is gone
 * is deleted: nothing shows it). Run at start, after the indexes; idle when every record has them.
 * Returns how many records were changed.
 */
export async function backfillNotificationKeys(): Promise<number> {
  let filled = 0;
  const notes = await Notification.find({ month: null }).select({ key: 1, dueAt: 1 }).lean();
  for (let i = 0; i < notes.length; i += BATCH) {
    const batch = notes.slice(i, i + BATCH);
    await Notification.bulkWrite(batch.map((n) => {
      const subject = subjectOf(n.key);
      return { updateOne: { filter: { _id: n._id }, update: { $set: { month: monthOf(n.dueAt), ...(subject ? { subject } : {}) } } } };
    }));
    filled += batch.length;
  }
  const marks = await NotificationRead.find({ month: null }).select({ notification: 1 }).lean();
  for (let i = 0; i < marks.length; i += 50) {
    const batch = marks.slice(i, i + 50);
    // One `_id` equality read each (indexed), not `$in`, which FerretDB v1 filters in Go over every notification.
    const found = await Promise.all(batch.map((m) => Notification.findById(m.notification).select({ dueAt: 1 }).lean()));
    const ops = batch.map((m, k) => {
      const note = found[k];
      return note
        ? { updateOne: { filter: { _id: m._id }, update: { $set: { month: monthOf(note.dueAt), dueAt: note.dueAt } } } }
        : { deleteOne: { filter: { _id: m._id as Types.ObjectId } } };
    });
    await NotificationRead.bulkWrite(ops);
    filled += batch.length;
  }
  return filled;
}
