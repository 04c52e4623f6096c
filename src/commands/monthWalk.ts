import type { Model, Types } from 'mongoose';
import { atShanghai, dayjs, shanghaiDay } from '../../models/calendar.js';
import { RoomBooking } from '../../models/roomBooking.js';
import { VolunteerAssignment } from '../../models/volunteerAssignment.js';
import { completeListHorizon, listHorizon, type HorizonList } from './listHorizon.js';

/** Months walked before the rest of a person's list is read in one go (every own list, listMealOrders too). */
export const MONTHS_WALKED = 12;
const BATCH = 500;
/** Months read at once by a walk. */
const MONTHS_AT_ONCE = 6;
/** A list of at most this many pages is read in one go. */
const FEW_PAGES = 2;

export const monthBefore = (month: string) => dayjs.utc(`${month}-01`).subtract(1, 'month').format('YYYY-MM');
export const monthAfter = (month: string) => dayjs.utc(`${month}-01`).add(1, 'month').format('YYYY-MM');

/**
 * Which part of an own list: `upcoming` (today and later, soonest first) is what a resident
 * looks at; `past` (before today, newest first) is their history, paged. The default view
 * reads the active window only, so it costs the same in a community's first month as after
 * years of records (issue 17).
 */
export type ListWhen = 'upcoming' | 'past';
export const LIST_WHEN: readonly ListWhen[] = ['upcoming', 'past'];

/** What an own list holds: records with a start, in the month of that start. */
export interface Dated { _id: Types.ObjectId; start: Date }
/** Where the next page starts: after this record, in the list's order. */
export interface ListCursor { start: Date; id: string }

/** `<start in ms>-<id>`: the last record shown, which the next page starts after. */
export const CURSOR_PATTERN = /^\d{1,15}-[0-9a-f]{24}$/;
export const cursorOf = (r: Dated): string => `${r.start.getTime()}-${String(r._id)}`;
export function parseCursor(value: string): ListCursor {
  const [ms, id] = value.split('-') as [string, string];
  return { start: new Date(Number(ms)), id };
}

/** By start, then by id: a total order, so a page boundary between two records of the same start loses neither. */
const byStart = (a: { start: Date; id: string }, b: { start: Date; id: string }) =>
  a.start.getTime() - b.start.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const keyOf = (r: Dated) => ({ start: r.start, id: String(r._id) });

export interface OwnList<T extends Dated> {
  /** Whose list, for its horizon (src/commands/listHorizon.ts). */
  list: HorizonList;
  owner: Types.ObjectId;
  /** One month's records: an equality read (`{owner, month}`), pushed down and indexed. */
  readMonth: (month: string) => Promise<T[]>;
  /** Every record of the owner: read once to learn the horizon, for a short list, and past MONTHS_WALKED months. */
  readAll: () => Promise<T[]>;
  monthOf: (record: T) => string;
  /** Which records to keep (a status, …). */
  keep?: (record: T) => boolean;
}

/** Which page of an own list: what the routes take (`when`, `limit`, `after`; `offset` for assignments). */
export type OwnListPage = {
  when: ListWhen;
  limit: number;
  /** Records skipped after the cursor. */
  offset?: number;
  after?: ListCursor;
  now?: Date;
};

/**
 * A page of an owner's records: `upcoming` from today's month forward to the furthest month the
 * owner has a record in, `past` from today's month (or the cursor's) back to the earliest (the
 * list's horizon), and the cursor of the page after it when there is one. Read a month at a time, because FerretDB v1 pushes
 * down and indexes an equality but decodes, sorts and ranges in Go: `{owner}` sorted decoded the
 * owner's whole history for a page. The first view without a known horizon reads everything
 * once and records it, and so does every view of a history of a page or two. After MONTHS_WALKED
 * months the rest is one read (only an owner with few records spread thin gets that far).
 */
export async function listOwn<T extends Dated>(q: OwnList<T>, page: OwnListPage): Promise<{ items: T[]; next: string | null }> {
  const offset = page.offset ?? 0;
  // One more than the page, to know whether there is a next one.
  const want = offset + page.limit + 1;
  const today = shanghaiDay(page.now ?? new Date());
  const startOfToday = atShanghai(today, '00:00');
  const upcoming = page.when === 'upcoming';
  const order = (a: T, b: T) => (upcoming ? 1 : -1) * byStart(keyOf(a), keyOf(b));
  const keep = (r: T) => (q.keep?.(r) ?? true)
    && (upcoming ? r.start >= startOfToday : r.start < startOfToday)
    && (!page.after || (upcoming ? 1 : -1) * byStart(keyOf(r), page.after) > 0);
  const horizon = await listHorizon(q.list, q.owner);
  // Today on is a walk of the months ahead (one or two, read at once), however long the
  // history; an unknown horizon, or a short history, is one read of everything.
  if (!horizon || (!upcoming && horizon.count <= want * FEW_PAGES)) {
    const all = await q.readAll();
    if (!horizon) await completeListHorizon(q.list, q.owner, all.map(q.monthOf));
    return pageOf(all.filter(keep).sort(order), offset, page.limit);
  }
  const thisMonth = today.slice(0, 7);
  const cursorMonth = page.after ? shanghaiDay(page.after.start).slice(0, 7) : thisMonth;
  const next = upcoming ? monthAfter : monthBefore;
  const last = upcoming ? horizon.newest : horizon.oldest;
  const within = (month: string) => (upcoming ? month <= last : month >= last);
  // As many months at once as the page should need at the list's average density: one round
  // trip instead of one per month (a page of 50 from a dense history is four months).
  const span = dayjs.utc(`${horizon.newest}-01`).diff(dayjs.utc(`${horizon.oldest}-01`), 'month') + 1;
  const perMonth = Math.max(1, horizon.count / span);
  const found: T[] = [];
  let month = upcoming ? (cursorMonth > thisMonth ? cursorMonth : thisMonth) : (cursorMonth < thisMonth ? cursorMonth : thisMonth);
  let walked = 0;
  while (found.length < want && within(month)) {
    if (walked === MONTHS_WALKED) {
      const from = month;
      const rest = await q.readAll();
      found.push(...rest.filter((r) => (upcoming ? q.monthOf(r) >= from : q.monthOf(r) <= from) && keep(r)).sort(order));
      break;
    }
    const batch: string[] = [];
    const size = Math.min(MONTHS_AT_ONCE, MONTHS_WALKED - walked, Math.ceil((want - found.length) / perMonth));
    for (; batch.length < size && within(month); month = next(month)) batch.push(month);
    // In the list's order, month by month: months do not overlap, so the whole stays in order.
    for (const records of await Promise.all(batch.map(q.readMonth))) found.push(...records.filter(keep).sort(order));
    walked += batch.length;
  }
  return pageOf(found, offset, page.limit);
}

/** One page of `found` (in the list's order, read one past the page), and the cursor of the next when there is one. */
function pageOf<T extends Dated>(found: T[], offset: number, limit: number): { items: T[]; next: string | null } {
  const items = found.slice(offset, offset + limit);
  return { items, next: found.length > offset + limit && items.length ? cursorOf(items.at(-1)!) : null };
}

/**
 * Gives the records of `model` written before it had a `month` field theirs, `monthOf` the
 * record's `field` (batched). Run at start, after the indexes; idle once every record has one.
 * Returns how many were changed.
 */
export async function fillMissingMonths<V>(model: Model<any>, field: string, monthOf: (value: V) => string): Promise<number> {
  const missing = await model.find({ month: null }).select(field).lean<Array<{ _id: Types.ObjectId } & Record<string, V>>>();
  for (let i = 0; i < missing.length; i += BATCH) {
    await model.bulkWrite(missing.slice(i, i + BATCH).map((r) => ({
      updateOne: { filter: { _id: r._id }, update: { $set: { month: monthOf(r[field]!) } } },
    })));
  }
  return missing.length;
}

/**
 * Gives room bookings and volunteer assignments written before the `month` field existed the
 * Shanghai month of their start (their list reads by `{person, month}`).
 */
export async function backfillMonthsOfStart(): Promise<number> {
  const ofStart = (start: Date) => shanghaiDay(start).slice(0, 7);
  return (await fillMissingMonths(RoomBooking, 'start', ofStart)) + (await fillMissingMonths(VolunteerAssignment, 'start', ofStart));
}
