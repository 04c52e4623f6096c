import { randomUUID } from 'node:crypto';
import { type Types } from 'mongoose';
import { atShanghai, shanghaiDay, shanghaiFields } from '../../models/calendar.js';
import { Community } from '../../models/community.js';
import { ChildcareBooking } from '../../models/childcareBooking.js';
import { ChildcareSession } from '../../models/childcareSession.js';
import { DailyFigures, DailyStamp } from '../../models/dailyFigures.js';
import { Facility } from '../../models/facility.js';
import { MealOrder, type MealMode } from '../../models/mealOrder.js';
import { MealRating } from '../../models/mealRating.js';
import { RoomBooking } from '../../models/roomBooking.js';
import { ServiceRating } from '../../models/serviceRating.js';
import { VolunteerAssignment } from '../../models/volunteerAssignment.js';
import { isDuplicateKey } from '../storage/mongo.js';

/*
 * The staff reports' read model: a community's numbers per Shanghai day (models/dailyFigures.ts).
 *
 * - Read: the days' DailyStamp and DailyFigures (by `{community, month}`); figures are used
 *   while they carry the stamp's current token, else the day is recomputed from its records
 *   with equality reads (`{community, date|day}`, `{centre, date}`) and stored with the token
 *   read *before* them.
 * - Write: every command that changes a day's numbers calls markDaysChanged() *after* its
 *   write, which gives the day's stamp a new random token. A recompute racing a write either
 *   read the records after the write (the write was done before the mark, and the mark before
 *   the token was read) or stores figures with a token that is no longer current, so a stale
 *   day is never served from the model. Recomputes never write the stamp and markers never
 *   write the figures: no guarded or `$inc` update that FerretDB v1 could interleave.
 * - Records written around the commands (the bench's driver loads, a restore) do not mark:
 *   a day with no figures is computed at its first read, and a mark after such a write is
 *   `markDaysChanged` (or deleting the day's DailyFigures) by hand.
 */

/** Room bookings that hold the room: what counts as booked time. */
export const BOOKED_ROOM_STATUSES = ['confirmed', 'checked_in', 'completed'] as const;
/** Childcare bookings that hold a place on the day (a no-show held it too). */
export const PLACE_HOLDING_CHILDCARE = ['confirmed', 'dropped_off', 'picked_up', 'no_show'] as const;
export const NO_TIER = '无补贴（全价）';

export interface TierSums { tier: string; orders: number; portions: number; subsidy: number; paid: number; deliveryFees: number }

/** One community's numbers of one Shanghai day (stored as is in DailyFigures.figures). */
export interface DayFigures {
  /** Booked ms per room (bookings starting this day, whole duration). */
  rooms: Array<{ room: string; bookedMs: number }>;
  /** Booked ms per Shanghai hour of the day 0–23 of those bookings. */
  byHour: number[];
  /** Portions not cancelled, per mode. */
  meals: Record<MealMode, number>;
  /** Orders not cancelled, per subsidy tier (fen). */
  subsidies: TierSums[];
  childcare: { capacity: number; booked: number };
  /** Approved volunteer minutes of assignments starting this day. */
  volunteerMinutes: number;
  /** Meal and room ratings of the day. */
  ratings: { good: number; bad: number };
}

const idOf = (community: Types.ObjectId | string, day: string) => `${String(community)}:${day}`;
const dayOf = (d: string | Date) => (typeof d === 'string' ? d : shanghaiDay(d));

/**
 * Makes the figures of the community's days stale. Called by the commands after the write
 * that changed them (an order placed or cancelled, a booking made, moved or cancelled, hours
 * approved, a rating, a session's capacity): days as 'YYYY-MM-DD' or as instants (Shanghai).
 * Resolves once a mark that began after this call has been written for every day.
 */
export async function markDaysChanged(community: Types.ObjectId | string, ...days: Array<string | Date>): Promise<void> {
  await Promise.all([...new Set(days.map(dayOf))].map((day) => markDay(community, day)));
}

/**
 * Marks of one day asked for at the same moment share one write (issue 20: 200 residents
 * booking the same day made 88 updates of its one stamp, each waiting on the row's lock in
 * PostgreSQL). A caller never joins a mark already under way (it may have been sent before
 * the caller's own write landed): it waits for the next one, which begins once the running
 * one is done and covers every caller that came meanwhile. So a caller's write is always
 * followed by a new token, as when each wrote its own, and a recompute racing it still either
 * read the write or stored a token that is no longer current.
 */
function markDay(community: Types.ObjectId | string, day: string): Promise<void> {
  const id = idOf(community, day);
  const marks = marking.get(id) ?? { running: null, next: null };
  if (marks.next) return marks.next;
  const start = (): Promise<void> => {
    const run = writeMark(community, day).finally(() => {
      if (marks.running === run) marks.running = null;
      if (!marks.running && !marks.next) marking.delete(id);
    });
    marks.running = run;
    return run;
  };
  if (!marks.running) {
    marking.set(id, marks);
    return start();
  }
  const next = marks.running.catch(() => undefined).then(() => {
    marks.next = null;
    return start();
  });
  marks.next = next;
  marking.set(id, marks);
  return next;
}
const marking = new Map<string, { running: Promise<void> | null; next: Promise<void> | null }>();

async function writeMark(community: Types.ObjectId | string, day: string): Promise<void> {
  const stamp = () => ({ $set: { token: randomUUID(), at: new Date(), community, day, month: day.slice(0, 7) } });
  try {
    await DailyStamp.updateOne({ _id: idOf(community, day) }, stamp(), { upsert: true });
  } catch (err) {
    // Two first marks of a day raced to insert it: it exists now, so replace its token.
    if (!isDuplicateKey(err)) throw err;
    await DailyStamp.updateOne({ _id: idOf(community, day) }, stamp());
  }
}

/** The community's facilities a day's figures depend on, read once per report. */
export interface Units { childcareCentres: Types.ObjectId[] }

export async function unitsOf(community: Types.ObjectId): Promise<Units> {
  const facilities = await Facility.find({ community }).select('kind').lean();
  return { childcareCentres: facilities.filter((f) => f.kind === 'childcare_centre').map((f) => f._id) };
}

/** Spreads a booking's time over the Shanghai hours it covers (ms per hour of the day). */
function addByHour(byHour: number[], start: Date, end: Date): void {
  for (let t = start.getTime(); t < end.getTime();) {
    const next = Math.min(end.getTime(), (Math.floor(t / 3_600_000) + 1) * 3_600_000);
    byHour[shanghaiFields(new Date(t)).hour]! += next - t;
    t = next;
  }
}

/** A day's figures from its records: equality reads only, each bounded by the day. */
export async function computeDayFigures(community: Types.ObjectId, day: string, units: Units): Promise<DayFigures> {
  const [bookings, orders, sessions, childcare, assignments, mealRatings, roomRatings] = await Promise.all([
    RoomBooking.find({ community, day }).select('room start end status').lean(),
    MealOrder.find({ community, date: day }).select('status mode quantity breakdown').lean(),
    Promise.all(units.childcareCentres.map((centre) => ChildcareSession.find({ centre, date: day }).select('capacity').lean())),
    ChildcareBooking.find({ community, date: day }).select('status').lean(),
    VolunteerAssignment.find({ community, day }).select('status approvedMinutes').lean(),
    MealRating.find({ community, date: day }).select('good').lean(),
    ServiceRating.find({ community, day }).select('good').lean(),
  ]);

  const booked = new Map<string, number>();
  const byHour = Array.from({ length: 24 }, () => 0);
  for (const b of bookings) {
    if (!(BOOKED_ROOM_STATUSES as readonly string[]).includes(b.status)) continue;
    booked.set(String(b.room), (booked.get(String(b.room)) ?? 0) + (b.end.getTime() - b.start.getTime()));
    addByHour(byHour, b.start, b.end);
  }

  const meals: Record<MealMode, number> = { dine_in: 0, pickup: 0, delivery: 0 };
  const tiers = new Map<string, TierSums>();
  for (const o of orders) {
    if (o.status === 'cancelled') continue;
    meals[o.mode] += o.quantity ?? 0;
    const tier = o.breakdown.tier ?? NO_TIER;
    const row = tiers.get(tier) ?? { tier, orders: 0, portions: 0, subsidy: 0, paid: 0, deliveryFees: 0 };
    row.orders += 1;
    row.portions += o.quantity ?? 0;
    // `?? 0`: a record short of a sum (written around the schema) must not store NaN, which
    // FerretDB's PostgreSQL handler cannot encode (it closes the connection).
    row.subsidy += o.breakdown.subsidy ?? 0;
    row.paid += o.breakdown.toPay ?? 0;
    row.deliveryFees += o.breakdown.deliveryFee ?? 0;
    tiers.set(tier, row);
  }

  const ratings = { good: 0, bad: 0 };
  for (const r of [...mealRatings, ...roomRatings]) ratings[r.good ? 'good' : 'bad'] += 1;

  return {
    rooms: [...booked].map(([room, bookedMs]) => ({ room, bookedMs })),
    byHour,
    meals,
    subsidies: [...tiers.values()],
    childcare: {
      capacity: sessions.flat().reduce((s, x) => s + (x.capacity ?? 0), 0),
      booked: childcare.filter((b) => (PLACE_HOLDING_CHILDCARE as readonly string[]).includes(b.status)).length,
    },
    volunteerMinutes: assignments.filter((a) => a.status === 'approved').reduce((s, a) => s + (a.approvedMinutes ?? 0), 0),
    ratings,
  };
}

/** The day's current freshness token (null: never marked). Read it *before* the records. */
export async function dayToken(community: Types.ObjectId, day: string): Promise<string | null> {
  return (await DailyStamp.findById(idOf(community, day)).lean())?.token ?? null;
}

/** Days recomputed at once by one report: a cold month is 30 × 7 equality reads. */
const RECOMPUTE_CONCURRENCY = 3;

/**
 * The figures of each of the community's `days` (in order): stored ones while fresh, the
 * others recomputed and stored. Two equality reads per calendar month the days touch
 * (`{community, month}` on DailyStamp and DailyFigures: at most 31 small documents each).
 * Not `_id: {$in}` (filtered in Go on FerretDB v1) nor one findById per day: 60 parallel
 * `_id` reads cost more than the two month reads on a loaded FerretDB.
 */
export async function readDailyFigures(community: Types.ObjectId, days: string[]): Promise<DayFigures[]> {
  const found = await storedDays(community, days);
  await recomputeDays(community, found.filter((f) => !f.figures));
  return found.map((f) => f.figures!);
}

interface FoundDay { day: string; token: string | null; figures: DayFigures | null }

/** Each day's current token and its stored figures while they carry it (else null: stale or missing). */
async function storedDays(community: Types.ObjectId, days: string[]): Promise<FoundDay[]> {
  const months = [...new Set(days.map((d) => d.slice(0, 7)))];
  const [stamps, stored] = await Promise.all([
    Promise.all(months.map((month) => DailyStamp.find({ community, month }).select('day token').lean())),
    Promise.all(months.map((month) => DailyFigures.find({ community, month }).lean())),
  ]);
  const tokens = new Map(stamps.flat().map((s) => [s.day, s.token]));
  const figuresOf = new Map(stored.flat().map((f) => [f.day, f]));
  return days.map((day) => {
    const token = tokens.get(day) ?? null;
    const kept = figuresOf.get(day);
    return { day, token, figures: kept && (kept.stamp ?? null) === token ? (kept.figures as DayFigures) : null };
  });
}

/** Recomputes and stores the given days (RECOMPUTE_CONCURRENCY at a time), each with the token read before its records. */
async function recomputeDays(community: Types.ObjectId, stale: FoundDay[]): Promise<void> {
  if (!stale.length) return;
  const units = await unitsOf(community);
  for (let i = 0; i < stale.length; i += RECOMPUTE_CONCURRENCY) {
    await Promise.all(stale.slice(i, i + RECOMPUTE_CONCURRENCY).map(async (f) => {
      f.figures = await computeDayFigures(community, f.day, units);
      await storeDayFigures(community, f.day, f.token, f.figures);
    }));
  }
}

/** How many days back (today included) the warming job keeps computed: the dashboard's default span and a day. */
export const WARM_DAYS = 31;

/**
 * Keeps the dashboard's days warm (job `reports.warmDailyFigures`): for each community, the
 * days of the last `WARM_DAYS` (Shanghai, today included) whose figures are missing or older
 * than their mark are recomputed and stored, newest first, at most `limit` days a run over
 * all communities, so the first view of a span reads stored days. Reads are the report's own
 * (two `{community, month}` reads per month, then seven equality reads per day recomputed);
 * a day marked again while it is recomputed keeps its new token and is done at the next run.
 * Safe to re-run: a fresh day is never recomputed.
 */
export async function warmDailyFigures(now: Date, limit: number, communities?: Types.ObjectId[]): Promise<{ communities: number; stale: number; recomputed: number }> {
  const today = shanghaiDay(now);
  const days = Array.from({ length: WARM_DAYS }, (_, i) => shanghaiDay(new Date(atShanghai(today, '12:00').getTime() - i * 86_400_000)));
  const ids = communities ?? (await Community.find({}).select('_id').lean()).map((c) => c._id);
  let stale = 0;
  let recomputed = 0;
  for (const community of ids) {
    const found = (await storedDays(community, days)).filter((f) => !f.figures);
    stale += found.length;
    const batch = found.slice(0, Math.max(0, limit - recomputed));
    await recomputeDays(community, batch);
    recomputed += batch.length;
  }
  return { communities: ids.length, stale, recomputed };
}

/**
 * Stores a day's figures computed after `token` was read. Replacing the whole document: two
 * racing recomputes leave one consistent (token, figures) pair, and one that carries an
 * outdated token is simply recomputed at the next read.
 */
export async function storeDayFigures(community: Types.ObjectId, day: string, token: string | null, figures: DayFigures): Promise<void> {
  const doc = { community, day, month: day.slice(0, 7), stamp: token, computedAt: new Date(), figures };
  try {
    await DailyFigures.replaceOne({ _id: idOf(community, day) }, doc, { upsert: true });
  } catch (err) {
    // Another read stored the day at the same moment: either is as fresh as its token.
    if (!isDuplicateKey(err)) throw err;
  }
}

/**
 * Gives `day` to room bookings and volunteer assignments written before the field existed
 * (run at start, after the indexes), and marks their days changed so no figures computed
 * without them are used. Idle when every record has it.
 */
export async function backfillDays(): Promise<number> {
  let filled = 0;
  for (const model of [RoomBooking, VolunteerAssignment] as const) {
    const missing = await (model as typeof RoomBooking).find({ day: null }).select('community start').lean();
    for (let i = 0; i < missing.length; i += 500) {
      const batch = missing.slice(i, i + 500);
      await (model as typeof RoomBooking).bulkWrite(batch.map((r) => ({
        updateOne: { filter: { _id: r._id }, update: { $set: { day: shanghaiDay(r.start) } } },
      })));
      const days = new Map(batch.map((r) => [idOf(r.community, shanghaiDay(r.start)), r]));
      await Promise.all([...days.values()].map((r) => markDaysChanged(r.community, r.start)));
      filled += batch.length;
    }
  }
  return filled;
}
