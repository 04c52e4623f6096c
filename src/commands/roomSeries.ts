import { Types } from 'mongoose';
import { dayjs, shanghaiDay } from '../../models/calendar.js';
import { CapacityClaim } from '../../models/capacityClaim.js';
import type { PersonFields } from '../../models/person.js';
import { RoomBooking, type RoomBookingDoc, type RoomBookingFields } from '../../models/roomBooking.js';
import type { AuthUser } from '../auth/user.js';
import { isAdmin, isStaffOver } from '../auth/user.js';
import { claimedSlots } from '../booking/claims.js';
import { assertNotBlocked } from '../booking/noShows.js';
import { UNIT_MINUTES, rangeLabel, unitStart, unitsBetween, weekOf } from '../booking/time.js';
import { TIME_ZONE } from '../config.js';
import { AppError, BookingInterruptedError, BookingRuleError, NotFoundError, SlotTakenError } from '../errors.js';
import { storageUnreachable } from '../middlewares/errorHandler.js';
import { failpoint } from '../runtime/failpoints.js';
import { authorize, can } from '../policies/index.js';
import type { RoomWithFacility } from '../policies/room.js';
import { refreshScheduleEntries } from '../booking/scheduleProjection.js';
import { markDaysChanged } from './dailyFigures.js';
import { liveClaims, releaseClaims, withClaims } from '../booking/claims.js';
import { ROOM_TRANSITIONS, type AdvanceLimit, type RoomBookingDeps, advanceLimit, cancelRoomBooking, checkRoomRules, createRoomBooking, quotaKey, roomKey } from './roomBookings.js';

export const SERIES_MIN_WEEKS = 2;
export const SERIES_MAX_WEEKS = 26;
export const SERIES_MODES = ['preview', 'free_only', 'all_or_nothing'] as const;
export type SeriesMode = (typeof SERIES_MODES)[number];

/** The reason recorded on occurrences taken back when an all-or-nothing series fails half-way. */
export const SERIES_ROLLBACK_REASON = 'series rolled back';

export interface SeriesRequest {
  /** The first occurrence; the others are at the same Shanghai time, a week apart each. */
  start: Date;
  end: Date;
  /** How many weeks (occurrences), or the last day (YYYY-MM-DD, Shanghai) an occurrence may fall on. */
  weeks?: number;
  until?: string;
  purpose: string;
  attendees: number;
  paid?: boolean;
  mode: SeriesMode;
}

export interface Occurrence {
  start: Date;
  end: Date;
  status: 'booked' | 'free' | 'conflict';
  booking?: string;
  reason?: { code: string; message: string };
  conflictWith?: { start: Date; end: Date; purpose: string };
}

export interface SeriesResult {
  /** false: nothing was booked (all_or_nothing with a conflict, or free_only with no free occurrence). */
  ok: boolean;
  series: string | null;
  mode: SeriesMode;
  occurrences: Occurrence[];
}

/** The weekly occurrences of a series: `weeks` of them, or every week up to `until`. */
export function seriesOccurrences(req: Pick<SeriesRequest, 'start' | 'end' | 'weeks' | 'until'>): Array<{ start: Date; end: Date }> {
  const first = dayjs(req.start).tz(TIME_ZONE);
  const length = req.end.getTime() - req.start.getTime();
  const at = (i: number) => {
    const start = first.add(i, 'week').toDate();
    return { start, end: new Date(start.getTime() + length) };
  };
  let count = req.weeks ?? 0;
  if (req.until !== undefined) {
    count = 0;
    while (count <= SERIES_MAX_WEEKS && shanghaiDay(at(count).start) <= req.until) count += 1;
  }
  if (count < SERIES_MIN_WEEKS || count > SERIES_MAX_WEEKS) {
    const got = count > SERIES_MAX_WEEKS ? `超过 ${SERIES_MAX_WEEKS} 周` : `${count} 周`;
    throw BookingRuleError(400, 'series_length_invalid',
      `每周重复预约需为 ${SERIES_MIN_WEEKS} 到 ${SERIES_MAX_WEEKS} 周（按所选截止日期为${got}），请调整截止日期`);
  }
  return Array.from({ length: count }, (_, i) => at(i));
}


const conflict = (slot: { start: Date; end: Date }, err: AppError, conflictWith?: Occurrence['conflictWith']): Occurrence => ({
  start: slot.start, end: slot.end, status: 'conflict', reason: { code: err.code, message: err.message },
  ...(conflictWith ? { conflictWith } : {}),
});

/** The booking holding the first taken unit of `slot`, if any: what the occurrence conflicts with. */
/** Who holds the first taken unit of a slot, and their booking (null: the slot is free). */
export type SlotHolder = (room: RoomWithFacility, slot: { start: Date; end: Date }) => Promise<{
  unit: number;
  conflictWith?: { start: Date; end: Date; purpose: string };
} | null>;

const holderOf: SlotHolder = async (room, slot) => {
  const claimed = await claimedSlots(roomKey(room._id), unitsBetween(slot.start, slot.end));
  if (!claimed.size) return null;
  const unit = Math.min(...claimed.keys());
  const booking = await RoomBooking.findById(claimed.get(unit), { start: 1, end: 1, purpose: 1 }).lean();
  return {
    unit,
    conflictWith: booking ? { start: booking.start, end: booking.end, purpose: booking.purpose } : undefined,
  };
};

/**
 * Whether one occurrence could be booked now, without booking it (same rules, same order as
 * createRoomBooking). Exported for the bot's summary (src/commands/roomChecks.ts), where a
 * single booking keeps the room's own advance limit.
 */
export async function assessOccurrence(
  room: RoomWithFacility, person: PersonFields, slot: { start: Date; end: Date }, req: SeriesRequest, byStaff: boolean, now: Date,
  advance: AdvanceLimit = { days: room.maxAdvanceDays },
  /** Who holds the slot: the claims (exact), unless the caller has a cheaper view of it. */
  holder: SlotHolder = holderOf,
): Promise<Occurrence> {
  try {
    await checkRoomRules(room, { ...slot, purpose: req.purpose, attendees: req.attendees, paid: req.paid }, byStaff, now, advance);
  } catch (err) {
    if (err instanceof AppError && err.status < 500) return conflict(slot, err);
    throw err;
  }
  // Both reads at once (issue 20: one wait in the bot's summary, not two); the quota still answers first.
  const [used, taken] = await Promise.all([
    CapacityClaim.countDocuments({ key: quotaKey(person._id, weekOf(slot.start), room._id), ...liveClaims(now) }),
    holder(room, slot),
  ]);
  if (used >= room.weeklyQuotaPerResident) {
    return conflict(slot, BookingRuleError(409, 'weekly_quota_exceeded',
      `本周在「${room.name}」的预约已达 ${room.weeklyQuotaPerResident} 次上限，请下周再约`));
  }
  if (taken) {
    const first = unitStart(taken.unit);
    return conflict(slot, SlotTakenError(`「${room.name}」${rangeLabel(first, new Date(first.getTime() + UNIT_MINUTES * 60_000))}`), taken.conflictWith);
  }
  return { start: slot.start, end: slot.end, status: 'free' };
}

/**
 * Takes back an occurrence booked moments ago (all_or_nothing failed later on): cancelled
 * with reason SERIES_ROLLBACK_REASON, its room units and quota place given back. Done here,
 * not through cancelRoomBooking, so nobody is notified or counted for a booking they never
 * saw. Returns false when the booking changed meanwhile and could not be taken back.
 */
async function rollBack(deps: RoomBookingDeps, user: AuthUser, booking: RoomBookingFields): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const current = attempt === 0 ? booking : await RoomBooking.findById(booking._id).lean();
    if (!current || current.status === 'cancelled') return true;
    try {
      await withClaims(async (claims) => {
        const update = await claims.transition(current, 'cancelled', ROOM_TRANSITIONS, user.id, SERIES_ROLLBACK_REASON);
        await RoomBooking.updateOne({ _id: current._id }, update);
        claims.commit();
      });
      await markDaysChanged(current.community, current.start);
      await releaseClaims(current._id);
      await refreshScheduleEntries(deps.redis, [current._id], deps.log);
      return true;
    } catch (err) {
      if (!(err instanceof AppError) || err.status !== 409) throw err;
    }
  }
  return false;
}

/**
 * A weekly series of room bookings (a calligraphy class every Tuesday for 8 weeks). Every
 * occurrence is reported, as booked, free (preview, or not booked because another failed)
 * or conflict with the reason and, for a taken slot, the booking it collides with.
 *
 * - preview: books nothing.
 * - free_only: books each free occurrence through createRoomBooking (so the same claims keep
 *   it from double booking); one that fails at booking time (a race, a rule) is reported as
 *   a conflict, never dropped.
 * - all_or_nothing: books nothing if any occurrence is in conflict; if one fails while
 *   booking (a race), the ones already booked are taken back.
 *
 * Each occurrence must pass the room's rules on its own. A resident books a series only as far
 * ahead as the room's maxAdvanceDays; staff (booking for a class or for a resident) may book
 * up to BOOKING seriesMaxWeeks (SERIES_MAX_WEEKS, a term) ahead. Later occurrences are
 * conflicts with booking_too_far, to be booked once they come within reach.
 */
export async function bookRoomSeries(
  deps: RoomBookingDeps,
  user: AuthUser,
  room: RoomWithFacility,
  forPerson: PersonFields,
  req: SeriesRequest,
  now = new Date(),
): Promise<SeriesResult> {
  const slots = seriesOccurrences(req);
  await assertNotBlocked(forPerson._id, 'room', deps.rules, now);
  const byStaff = isStaffOver(user, room.facility.community, room.facility._id) || isAdmin(user);
  const occurrences: Occurrence[] = [];
  const advance = advanceLimit(room, deps.rules, byStaff, true);
  for (const slot of slots) occurrences.push(await assessOccurrence(room, forPerson, slot, req, byStaff, now, advance));

  if (req.mode === 'preview') return { ok: true, series: null, mode: req.mode, occurrences };
  if (req.mode === 'all_or_nothing' && occurrences.some((o) => o.status === 'conflict')) {
    return { ok: false, series: null, mode: req.mode, occurrences };
  }

  const series = new Types.ObjectId().toHexString();
  const booked: RoomBookingFields[] = [];
  try {
    for (const [i, occ] of occurrences.entries()) {
      if (occ.status !== 'free') continue;
      try {
        const booking = await createRoomBooking(deps, user, room, forPerson,
          { start: occ.start, end: occ.end, purpose: req.purpose, attendees: req.attendees, paid: req.paid, series }, now);
        booked.push(booking);
        occurrences[i] = { start: occ.start, end: occ.end, status: 'booked', booking: String(booking._id) };
        failpoint('series.afterOccurrence');
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500) throw err;
        const taken = err.code === 'slot_taken' ? await holderOf(room, occ) : null;
        occurrences[i] = conflict(occ, err, taken?.conflictWith);
        if (req.mode === 'all_or_nothing') break;
      }
    }
  } catch (err) {
    // Not the user's fault (an occurrence failed half-way, its own claims already given back):
    // the occurrences this call booked are taken back too, whatever the mode, so the answer
    // (503 booking_interrupted) means nothing was kept and the same request may be sent again.
    for (const booking of booked) await rollBack(deps, user, booking).catch(() => false);
    if (err instanceof AppError || storageUnreachable(err)) throw err;
    throw BookingInterruptedError(err);
  }

  if (req.mode === 'all_or_nothing' && occurrences.some((o) => o.status === 'conflict')) {
    for (const booking of booked) {
      const i = occurrences.findIndex((o) => o.booking === String(booking._id));
      if (await rollBack(deps, user, booking)) occurrences[i] = { start: booking.start, end: booking.end, status: 'free' };
    }
    const kept = occurrences.some((o) => o.status === 'booked');
    return { ok: false, series: kept ? series : null, mode: req.mode, occurrences };
  }
  return { ok: booked.length > 0, series: booked.length ? series : null, mode: req.mode, occurrences };
}

/** Why nothing was booked, for the 409 answer. */
export function seriesRefusal(result: SeriesResult): AppError {
  const conflicts = result.occurrences.filter((o) => o.status === 'conflict');
  const first = conflicts[0];
  const detail = first ? `：${rangeLabel(first.start, first.end)} ${first.reason?.message ?? ''}` : '';
  return result.mode === 'all_or_nothing'
    ? BookingRuleError(409, 'series_conflict',
      `共 ${result.occurrences.length} 次中有 ${conflicts.length} 次无法预约，按您的选择全部未预约${detail}`)
    : BookingRuleError(409, 'series_nothing_booked', `这组重复预约没有一次可以预约${detail}`);
}

/**
 * Cancels every occurrence of a series still to come (pending or confirmed, starting after
 * now), each through cancelRoomBooking: residents (and their proxies) their own; staff with a
 * reason the resident is told. Past and already-ended occurrences stay as they are.
 */
export async function cancelRoomSeries(deps: RoomBookingDeps, user: AuthUser, series: string, reason: string | undefined, now = new Date()) {
  const all = await RoomBooking.find({ series }).sort({ start: 1 });
  const mine = all.filter((b) => can(user, 'read', b));
  if (!mine.length) throw NotFoundError('没有找到这组重复预约');
  authorize(user, 'cancel', mine[0]!);
  const asStaff = can(user, 'cancelAsStaff', mine[0]!);
  if (asStaff && !reason) throw BookingRuleError(400, 'reason_required', '工作人员取消预约时需填写原因，系统会告知居民');
  const cancelled: RoomBookingDoc[] = [];
  const skipped: Array<{ id: string; code: string; message: string }> = [];
  for (const booking of mine.filter((b) => b.start > now && (b.status === 'pending' || b.status === 'confirmed'))) {
    try {
      cancelled.push(await cancelRoomBooking(deps, user, booking, asStaff, reason, now));
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      skipped.push({ id: String(booking._id), code: err.code, message: err.message });
    }
  }
  return { cancelled, skipped };
}
