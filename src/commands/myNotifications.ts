import type { Redis } from 'ioredis';
import { Types, trusted } from 'mongoose';
import { monthOf, Notification, retainedMonths, type NotificationFields } from '../../models/notification.js';
import { NotificationRead } from '../../models/notificationRead.js';
import { Person } from '../../models/person.js';
import type { AuthUser } from '../auth/user.js';
import { NotFoundError } from '../errors.js';
import { authorize } from '../policies/index.js';
import { isDuplicateKey } from '../storage/mongo.js';
import { forgetInboxTallies, isSettled, readInboxTallies, settledTally, storeInboxTally, type MonthTally } from './inboxTallies.js';

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

type Note = NotificationFields & { _id: Types.ObjectId };

const newestFirst = (a: Note, b: Note) => b.dueAt.getTime() - a.dueAt.getTime() || String(b._id).localeCompare(String(a._id));

/** The person's messages of one month that are due by `now` (a `{person, month}` equality read). */
async function toldIn(person: Types.ObjectId, month: string, now: Date): Promise<Note[]> {
  const notes = await Notification.find({ person, month }).lean();
  return notes.filter((n) => n.dueAt <= now);
}

/** Where a person's messages are read from, and when "now" is. */
export interface InboxOptions {
  retentionDays: number;
  /** The read model of settled months' tallies (inboxTallies.ts); without it every month is counted. */
  redis?: Redis | null;
  now?: Date;
}

/** A month's messages told by `now`, and how many of them are marked (marks exist only for told messages). */
async function countMonth(person: Types.ObjectId, month: string, now: Date): Promise<MonthTally> {
  const [told, marked] = await Promise.all([
    // A month before this one is all told: its count is one equality, no range to filter.
    Notification.countDocuments(month < monthOf(now) ? { person, month } : { person, month, dueAt: trusted({ $lte: now }) }),
    NotificationRead.countDocuments({ person, month }),
  ]);
  return { told, marked };
}

/** Unread messages of months not shown: settled months from their stored tallies (counted and stored when missing), others counted. */
async function unreadIn(person: Types.ObjectId, months: string[], now: Date, redis: Redis | null | undefined): Promise<number> {
  if (!months.length) return 0;
  const seen = await readInboxTallies(redis, person);
  const tallies = await Promise.all(months.map(async (month) => {
    const kept = settledTally(seen, month, now);
    if (kept) return kept;
    const tally = await countMonth(person, month, now);
    if (isSettled(month, now) && seen && redis) await storeInboxTally(redis, person, month, seen, tally);
    return tally;
  }));
  return tallies.reduce((sum, t) => sum + Math.max(0, t.told - t.marked), 0);
}

/**
 * What the person was told: notifications due by now (a reminder due tomorrow has not been
 * told yet), newest first, `limit` a page, with read marks, and how many are unread.
 *
 * Bounded by the months shown, not by the retention nor the person's history: messages and
 * their marks are read a month at a time (`{person, month}`, an indexed equality), newest month
 * first, until the page is full. The unread of the other retained months comes from the tallies
 * of settled months in Redis (inboxTallies.ts), counted once and kept right by the writers;
 * only a month still running, or one whose tally is missing, is counted. Months older than
 * the retention are not read (outbox.pruneNotifications deletes them).
 */
export async function listMyNotifications(person: Types.ObjectId, { page, limit }: { page: number; limit: number }, opts: InboxOptions) {
  const now = opts.now ?? new Date();
  const months = retainedMonths(now, opts.retentionDays);
  const want = page * limit + 1;
  const told: Note[] = [];
  let read = 0;
  while (read < months.length && told.length < want) told.push(...(await toldIn(person, months[read++]!, now)));
  told.sort(newestFirst);
  const notes = told.slice((page - 1) * limit, page * limit + 1);
  const shown = notes.slice(0, limit);
  const [marksByMonth, unreadRest] = await Promise.all([
    Promise.all(months.slice(0, read).map((month) => NotificationRead.find({ person, month }).select({ notification: 1, readAt: 1 }).lean())),
    unreadIn(person, months.slice(read), now, opts.redis),
  ]);
  const readAt = new Map(marksByMonth.flat().map((m) => [String(m.notification), m.readAt]));
  const unreadRead = told.filter((n) => !readAt.has(String(n._id))).length;
  return {
    items: shown.map((note): MyNotification => ({ note, readAt: readAt.get(String(note._id)) ?? null })),
    hasMore: notes.length > limit,
    unread: unreadRead + unreadRest,
  };
}

/** The ids of the person's messages of one month that are marked read (`{person, month}`). */
async function markedIn(person: Types.ObjectId, month: string): Promise<Set<string>> {
  const marks = await NotificationRead.find({ person, month }).select({ notification: 1 }).lean();
  return new Set(marks.map((m) => String(m.notification)));
}

/**
 * The newest `limit` unread messages told by now, the retained months newest first. A month that
 * is over and all read by its tally (inboxTallies.ts) is not read: after the first "all", a
 * person's next ones read the running month, not the retention.
 */
async function newestUnread(person: Types.ObjectId, limit: number, opts: InboxOptions): Promise<Note[]> {
  const now = opts.now ?? new Date();
  const seen = await readInboxTallies(opts.redis, person);
  const unread: Note[] = [];
  for (const month of retainedMonths(now, opts.retentionDays)) {
    if (unread.length >= limit) break;
    const tally = settledTally(seen, month, now);
    if (tally && tally.marked >= tally.told) continue;
    const [notes, marked] = await Promise.all([toldIn(person, month, now), markedIn(person, month)]);
    unread.push(...notes.filter((n) => !marked.has(String(n._id))).sort(newestFirst));
  }
  return unread.slice(0, limit);
}

/**
 * Marks the person's messages read: the given ids (others' ids are ignored, never marked), or
 * all unread told so far (the newest `limit`, MARK_ALL_LIMIT, within the retention; a second
 * call takes the rest). A mark is written once (unique per notification), so repeating is
 * harmless. Every read is an equality: the given ids one `{_id, person}` read each, "all" the
 * retained months newest first, skipping those all read.
 */
export async function markNotificationsRead(
  user: AuthUser, person: Types.ObjectId, which: { ids?: string[]; all?: boolean }, opts: InboxOptions, limit = MARK_ALL_LIMIT,
): Promise<number> {
  const now = opts.now ?? new Date();
  const monthOfNote = (n: Note) => n.month ?? monthOf(n.dueAt);
  let fresh: Note[];
  if (which.all) {
    fresh = await newestUnread(person, limit, opts);
  } else {
    const found = await Promise.all((which.ids ?? []).map((id) => Notification.findOne({ _id: new Types.ObjectId(id), person }).lean<Note>()));
    const notes = found.filter((n) => n !== null);
    const marked = await Promise.all([...new Set(notes.map(monthOfNote))].map((month) => markedIn(person, month)));
    fresh = notes.filter((n) => !marked.some((ids) => ids.has(String(n._id))));
  }
  if (!fresh.length) return 0;
  try {
    await NotificationRead.insertMany(fresh.map((n) => ({
      notification: n._id, person, by: new Types.ObjectId(user.id), readAt: now, month: monthOfNote(n), dueAt: n.dueAt,
    })), { ordered: false });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err; // a racing mark of the same message: it is read either way
  } finally {
    // Also after a failed insert: some marks may have landed.
    await forgetInboxTallies(opts.redis, person, fresh.map(monthOfNote), now);
  }
  return fresh.length;
}
