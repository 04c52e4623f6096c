import type { Model, Types } from 'mongoose';
import { dayjs, shanghaiDay } from '../../models/calendar.js';
import { RoomBooking } from '../../models/roomBooking.js';
import { VolunteerAssignment } from '../../models/volunteerAssignment.js';
import { completeListHorizon, listHorizon, type HorizonList } from './listHorizon.js';

/** Months walked back before the rest of a person's history is read in one go (every own list, listMealOrders too). */
export const MONTHS_WALKED = 12;
const BATCH = 500;
/** Months read at once by a walk. */
const MONTHS_AT_ONCE = 6;
/** A list of at most this many pages is read in one go. */
const FEW_PAGES = 2;

export const monthBefore = (month: string) => dayjs.utc(`${month}-01`).subtract(1, 'month').format('YYYY-MM');

export interface NewestFirst<T> {
  /** Whose list, for its horizon (src/commands/listHorizon.ts). */
  list: HorizonList;
  owner: Types.ObjectId;
  /** How many records are wanted (the page's offset + limit). */
  want: number;
  /** One month's records: an equality read (`{owner, month}`), pushed down and indexed. */
  readMonth: (month: string) => Promise<T[]>;
  /** Every record of the owner: read once to learn the horizon, and past MONTHS_WALKED months. */
  readAll: () => Promise<T[]>;
  monthOf: (record: T) => string;
  /** Which records to keep (a status, …). */
  keep?: (record: T) => boolean;
  /** The list's order, newest first. */
  order: (a: T, b: T) => number;
}

/**
 * An owner's records newest first, `want` of them at most, read a month at a time from the
 * furthest month the owner has a record in back to the earliest (the list's horizon): FerretDB v1
 * pushes down and indexes an equality but decodes, sorts and ranges in Go, so `{owner}` sorted
 * decoded the owner's whole history for a page of its newest. The first view without a known
 * horizon reads everything once and records it, and so does every view of a list of a page or two
 * (a child's few bookings a month: one read, not a dozen). After MONTHS_WALKED months the rest is one read
 * of everything older (only an owner with few records spread thin gets that far).
 */
export async function listNewestFirst<T>(q: NewestFirst<T>): Promise<T[]> {
  const keep = q.keep ?? (() => true);
  const horizon = await listHorizon(q.list, q.owner);
  if (!horizon || horizon.count <= q.want * FEW_PAGES) {
    // Unknown months, or a short list: one read costs less than a walk's round trips.
    const all = await q.readAll();
    if (!horizon) await completeListHorizon(q.list, q.owner, all.map(q.monthOf));
    return all.filter(keep).sort(q.order).slice(0, q.want);
  }
  // As many months at once as the page should need at the list's average density: one round
  // trip instead of one per month (a page of 50 from a dense list is four months).
  const span = dayjs.utc(`${horizon.newest}-01`).diff(dayjs.utc(`${horizon.oldest}-01`), 'month') + 1;
  const perMonth = Math.max(1, horizon.count / span);
  const found: T[] = [];
  let month = horizon.newest;
  let walked = 0;
  while (found.length < q.want && month >= horizon.oldest) {
    if (walked === MONTHS_WALKED) {
      const before = month;
      const rest = await q.readAll();
      found.push(...rest.filter((r) => q.monthOf(r) <= before && keep(r)).sort(q.order));
      break;
    }
    const batch: string[] = [];
    const size = Math.min(MONTHS_AT_ONCE, MONTHS_WALKED - walked, Math.ceil((q.want - found.length) / perMonth));
    for (; batch.length < size && month >= horizon.oldest; month = monthBefore(month)) batch.push(month);
    // Newest month first, each sorted: months do not overlap, so the whole stays in order.
    for (const records of await Promise.all(batch.map(q.readMonth))) found.push(...records.filter(keep).sort(q.order));
    walked += batch.length;
  }
  return found.slice(0, q.want);
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
