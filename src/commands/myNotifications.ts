import { Types, trusted } from 'mongoose';
import { Notification, type NotificationFields } from '../../models/notification.js';
import { NotificationRead } from '../../models/notificationRead.js';
import { Person } from '../../models/person.js';
import type { AuthUser } from '../auth/user.js';
import { NotFoundError } from '../errors.js';
import { authorize } from '../policies/index.js';
import { isDuplicateKey } from '../storage/mongo.js';

/** At most this many messages are marked read by one "all" (the newest; a second call takes the rest). */
export const MARK_ALL_LIMIT = 1_000;

/**
 * Whose messages the caller reads: their own, or (`for`) an elder they act for as 代办. Staff
 * have no read of residents' messages here (they see undelivered ones, without text, elsewhere).
 */
export async function notificationOwner(user: AuthUser, forPerson?: string): Promise<Types.ObjectId> {
  if (!forPerson || forPerson === user.id) return new Types.ObjectId(user.id);
  const person = Types.ObjectId.isValid(forPerson) ? await Person.findById(forPerson) : null;
  if (!person) throw NotFoundError('没有找到这位居民');
  authorize(user, 'readNotifications', person);
  return person._id;
}

export interface MyNotification {
  note: NotificationFields & { _id: Types.ObjectId };
  readAt: Date | null;
}

/**
 * What the person was told: notifications due by now (a reminder due tomorrow has not been
 * told yet), newest first, `limit` a page, with read marks, and how many are unread.
 */
export async function listMyNotifications(person: Types.ObjectId, page: number, limit: number, now = new Date()) {
  const told = { person, dueAt: trusted({ $lte: now }) };
  const notes = await Notification.find(told).sort({ dueAt: -1, _id: -1 }).skip((page - 1) * limit).limit(limit + 1).lean();
  const shown = notes.slice(0, limit);
  // The person's marks by equality (bounded by the notifications' retention), not `$in`, which
  // FerretDB v1 filters after decoding every mark of every person.
  const [marks, total] = await Promise.all([NotificationRead.find({ person }).select({ notification: 1, readAt: 1 }).lean(), Notification.countDocuments(told)]);
  const readAt = new Map(marks.map((m) => [String(m.notification), m.readAt]));
  const read = marks.length;
  return {
    items: shown.map((note): MyNotification => ({ note, readAt: readAt.get(String(note._id)) ?? null })),
    hasMore: notes.length > limit,
    // Marks exist only for told messages, so the difference is what is still unread.
    unread: Math.max(0, total - read),
  };
}

/**
 * Marks the person's messages read: the given ids (others' ids are ignored, never marked), or
 * all told so far. A mark is written once (unique per notification), so repeating is harmless.
 */
export async function markNotificationsRead(user: AuthUser, person: Types.ObjectId, which: { ids?: string[]; all?: boolean }, now = new Date()): Promise<number> {
  const filter = which.all
    ? { person, dueAt: trusted({ $lte: now }) }
    : { person, _id: trusted({ $in: (which.ids ?? []).map((id) => new Types.ObjectId(id)) }) };
  const notes = await Notification.find(filter).sort({ dueAt: -1 }).limit(MARK_ALL_LIMIT).select({ _id: 1 }).lean();
  const already = new Set((await NotificationRead.find({ notification: trusted({ $in: notes.map((n) => n._id) }) }).lean()).map((m) => String(m.notification)));
  const fresh = notes.filter((n) => !already.has(String(n._id)));
  if (!fresh.length) return 0;
  try {
    await NotificationRead.insertMany(fresh.map((n) => ({ notification: n._id, person, by: new Types.ObjectId(user.id), readAt: now })), { ordered: false });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err; // a racing mark of the same message: it is read either way
  }
  return fresh.length;
}
