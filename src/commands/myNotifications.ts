import { Types, trusted } from 'mongoose';
import { monthOf, Notification, retainedMonths, type NotificationFields } from '../../models/notification.js';
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

/** NOTIFICATION_RETENTION_DAYS' default: older messages are deleted by outbox.pruneNotifications. */
export const DEFAULT_RETENTION_DAYS = 90;

type Note = NotificationFields & { _id: Types.ObjectId };

const newestFirst = (a: Note, b: Note) => b.dueAt.getTime() - a.dueAt.getTime() || String(b._id).localeCompare(String(a._id));

/** The person's messages of one month that are due by `now` (a `{person, month}` equality read). */
async function toldIn(person: Types.ObjectId, month: string, now: Date): Promise<Note[]> {
  const notes = await Notification.find({ person, month }).lean();
  return notes.filter((n) => n.dueAt <= now);
}

/**
 * What the person was told: notifications due by now (a reminder due tomorrow has not been
 * told yet), newest first, `limit` a page, with read marks, and how many are unread.
 *
 * Bounded by the retention, never by the person's history: messages are read a month at a time
 * (`{person, month}`, an indexed equality), newest month first, until the page is full; the
 * other retained months are only counted, and read marks are read per retained month. Months
 * older than `retentionDays` are not read (outbox.pruneNotifications deletes them).
 */
export async function listMyNotifications(person: Types.ObjectId, page: number, limit: number, now = new Date(), retentionDays = DEFAULT_RETENTION_DAYS) {
  const months = retainedMonths(now, retentionDays);
  const want = page * limit + 1;
  const told: Note[] = [];
  let read = 0;
  while (read < months.length && told.length < want) told.push(...(await toldIn(person, months[read++]!, now)));
  told.sort(newestFirst);
  const notes = told.slice((page - 1) * limit, page * limit + 1);
  const shown = notes.slice(0, limit);
  const rest = months.slice(read);
  const [restTold, marksByMonth] = await Promise.all([
    // A month before this one is all told: its count is one equality, no range to filter.
    Promise.all(rest.map((month) => Notification.countDocuments(month < months[0]! ? { person, month } : { person, month, dueAt: trusted({ $lte: now }) }))),
    Promise.all(months.map((month) => NotificationRead.find({ person, month }).select({ notification: 1, readAt: 1, month: 1 }).lean())),
  ]);
  const marks = marksByMonth.flat();
  const readAt = new Map(marks.map((m) => [String(m.notification), m.readAt]));
  // Exact for the months read; for the others, what is told less what is marked (marks exist
  // only for told messages, and are pruned with them).
  const restMonths = new Set(rest);
  const unreadRead = told.filter((n) => !readAt.has(String(n._id))).length;
  const restMarks = marks.filter((m) => m.month && restMonths.has(m.month)).length;
  const unreadRest = Math.max(0, restTold.reduce((a, b) => a + b, 0) - restMarks);
  return {
    items: shown.map((note): MyNotification => ({ note, readAt: readAt.get(String(note._id)) ?? null })),
    hasMore: notes.length > limit,
    unread: unreadRead + unreadRest,
  };
}

/**
 * Marks the person's messages read: the given ids (others' ids are ignored, never marked), or
 * all told so far (the newest MARK_ALL_LIMIT, within the retention). A mark is written once
 * (unique per notification), so repeating is harmless. Every read is an equality: the given
 * ids one `{_id, person}` read each, "all" the retained months newest first.
 */
export async function markNotificationsRead(
  user: AuthUser, person: Types.ObjectId, which: { ids?: string[]; all?: boolean }, now = new Date(), retentionDays = DEFAULT_RETENTION_DAYS,
): Promise<number> {
  let notes: Note[] = [];
  if (which.all) {
    for (const month of retainedMonths(now, retentionDays)) {
      if (notes.length >= MARK_ALL_LIMIT) break;
      notes.push(...(await toldIn(person, month, now)));
    }
    notes = notes.sort(newestFirst).slice(0, MARK_ALL_LIMIT);
  } else {
    const found = await Promise.all((which.ids ?? []).map((id) => Notification.findOne({ _id: new Types.ObjectId(id), person }).lean<Note>()));
    notes = found.filter((n) => n !== null);
  }
  const monthOfNote = (n: Note) => n.month ?? monthOf(n.dueAt);
  const months = [...new Set(notes.map(monthOfNote))];
  const already = new Set((await Promise.all(months.map((month) => NotificationRead.find({ person, month }).select({ notification: 1 }).lean())))
    .flat().map((m) => String(m.notification)));
  const fresh = notes.filter((n) => !already.has(String(n._id)));
  if (!fresh.length) return 0;
  try {
    await NotificationRead.insertMany(fresh.map((n) => ({
      notification: n._id, person, by: new Types.ObjectId(user.id), readAt: now, month: monthOfNote(n), dueAt: n.dueAt,
    })), { ordered: false });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err; // a racing mark of the same message: it is read either way
  }
  return fresh.length;
}
