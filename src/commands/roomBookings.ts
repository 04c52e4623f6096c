import { Types, trusted } from 'mongoose';
import { Blackout } from '../../models/blackout.js';
import { CapacityClaim } from '../../models/capacityClaim.js';
import { Facility } from '../../models/facility.js';
import type { PersonFields } from '../../models/person.js';
import { shanghaiDay } from '../../models/calendar.js';
import { Room } from '../../models/room.js';
import { RoomBooking, type RoomBookingDoc, type RoomBookingFields, type RoomBookingStatus } from '../../models/roomBooking.js';
import type { AuthUser } from '../auth/user.js';
import { isAdmin, isStaffOver } from '../auth/user.js';
import { releaseClaims, withClaims } from '../booking/claims.js';
import { failpoint } from '../runtime/failpoints.js';
import { assertNotBlocked, blockNotice, recordNoShow } from '../booking/noShows.js';
import type { Transitions } from '../booking/stateMachine.js';
import {
  UNIT_MINUTES, hhmm, openingLabel, rangeLabel, unitStart, unitsBetween, weekOf, withinOpeningHours,
} from '../booking/time.js';
import type { Redis } from 'ioredis';
import { cachedRead } from '../cache/readCache.js';
import { projectNewBooking, refreshScheduleEntries } from '../booking/scheduleProjection.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { BookingRuleError, ConflictError, NotFoundError, SlotTakenError } from '../errors.js';
import { recordOf } from '../policies/policy.js';
import type { RoomWithFacility } from '../policies/room.js';
import { notify } from './notify.js';
import { withdrawRoomReminders } from './roomReminders.js';
import { BOOKED_ROOM_STATUSES, markDaysChanged } from './dailyFigures.js';
import { roomBookingListed } from './roomBookingList.js';

export const ROOM_TRANSITIONS: Transitions<RoomBookingStatus> = {
  pending: ['confirmed', 'rejected', 'cancelled'],
  confirmed: ['checked_in', 'cancelled', 'released_no_show'],
  checked_in: ['completed'],
  completed: [],
  cancelled: [],
  rejected: [],
  released_no_show: [],
};

/** Statuses that hold the room's units. */
const HOLDING: RoomBookingStatus[] = ['pending', 'confirmed', 'checked_in'];

export const roomKey = (roomId: Types.ObjectId | string) => `room:${roomId}`;
export const quotaKey = (person: Types.ObjectId, week: string, room: Types.ObjectId) => `room-quota:${person}:${room}:${week}`;

/** Loads a room with its facility; 404 when there is none. */
export async function findRoom(id: string): Promise<RoomWithFacility> {
  if (!Types.ObjectId.isValid(id)) throw NotFoundError('没有找到这个活动室');
  // Read on every booking and availability question: cached (src/cache/readCache.ts).
  const found = await cachedRead(`room:${id}`, ['Room', 'Facility'], async () => {
    // Two `_id` lookups rather than populate (an $in, which FerretDB filters in Go).
    const room = await Room.findById(id).lean();
    const facility = room ? await Facility.findById(room.facility).lean() : null;
    return room && facility ? { room, facility } : null;
  }, { shared: true });
  if (!found) throw NotFoundError('没有找到这个活动室');
  // Plain records, not documents: hydrating them was a tenth of a booking's CPU. Copies: the
  // cached ones are shared by every caller of this process.
  return recordOf(Room, { ...found.room, facility: recordOf(Facility, { ...found.facility }) });
}

/** The blackouts of a facility that have not ended (cached: every booking checks them). */
export function currentBlackouts(facility: Types.ObjectId, now: Date) {
  return cachedRead(`blackouts:${facility}`, ['Blackout'], () =>
    Blackout.find({ facility, end: trusted({ $gt: now }) }, { room: 1, start: 1, end: 1, reason: 1 }).lean(), { shared: true });
}

export async function findRoomBooking(id: string): Promise<RoomBookingDoc> {
  const booking = Types.ObjectId.isValid(id) ? await RoomBooking.findById(id) : null;
  if (!booking) throw NotFoundError('没有找到这条预约');
  return booking;
}

export interface RoomBookingRequest {
  start: Date;
  end: Date;
  purpose: string;
  attendees: number;
  /** A use that needs approval (e.g. 收费课程) though the room does not. */
  paid?: boolean;
  series?: string;
}

/** What the room booking commands need besides their arguments. */
export interface RoomBookingDeps {
  rules: Config['booking'];
  redis: Redis;
  log?: Logger;
}

/** How far ahead a booking may start; a staff series says how many weeks that is. */
export interface AdvanceLimit {
  days: number;
  seriesWeeks?: number;
}

/**
 * How far ahead this booking may be made. A weekly series that staff book (for a class, or
 * for a resident) may run a whole term, up to `seriesMaxWeeks`, past the room's
 * maxAdvanceDays; residents booking for themselves keep maxAdvanceDays.
 */
export function advanceLimit(room: Pick<RoomWithFacility, 'maxAdvanceDays'>, rules: Config['booking'], byStaff: boolean, inSeries: boolean): AdvanceLimit {
  const seriesDays = rules.seriesMaxWeeks * 7;
  return byStaff && inSeries && seriesDays > room.maxAdvanceDays
    ? { days: seriesDays, seriesWeeks: rules.seriesMaxWeeks }
    : { days: room.maxAdvanceDays };
}

/**
 * Checks every rule of a room booking that does not need a claim: alignment, duration,
 * notice, advance, opening hours, capacity, blackouts. Staff may book at short notice.
 */
export async function checkRoomRules(
  room: RoomWithFacility,
  req: RoomBookingRequest,
  byStaff: boolean,
  now: Date,
  advance: AdvanceLimit = { days: room.maxAdvanceDays },
): Promise<void> {
  const minutes = (req.end.getTime() - req.start.getTime()) / 60_000;
  const slot = Math.max(room.slotMinutes, UNIT_MINUTES);
  const startMinute = req.start.getTime() / 60_000;
  if (minutes <= 0 || minutes % slot !== 0 || startMinute % slot !== 0) {
    throw BookingRuleError(400, 'booking_misaligned', `预约时间需按 ${slot} 分钟为单位，例如 09:00–10:30`);
  }
  if (minutes > room.maxDurationMinutes) {
    throw BookingRuleError(400, 'booking_too_long', `该活动室每次最多预约 ${room.maxDurationMinutes / 60} 小时`);
  }
  if (req.start.getTime() < now.getTime() + (byStaff ? 0 : room.minNoticeMinutes) * 60_000) {
    throw BookingRuleError(400, 'booking_too_soon', req.start <= now ? '不能预约已经过去的时间' : `请至少提前 ${room.minNoticeMinutes} 分钟预约`);
  }
  if (req.start.getTime() > now.getTime() + advance.days * 86_400_000) {
    throw BookingRuleError(400, 'booking_too_far', advance.seriesWeeks
      ? `工作人员安排的每周重复预约最多可排到 ${advance.seriesWeeks} 周内（约 ${advance.days} 天），更晚的场次请届时再约`
      : `最多可提前 ${room.maxAdvanceDays} 天预约`);
  }
  if (!withinOpeningHours(room.openingHours, req.start, req.end)) {
    throw BookingRuleError(400, 'booking_outside_hours', `该时段不开放，当天开放时间：${openingLabel(room.openingHours, req.start)}`);
  }
  if (req.attendees > room.capacity) {
    throw BookingRuleError(400, 'too_many_attendees', `人数超过活动室容量，最多 ${room.capacity} 人`);
  }
  const blackout = (await currentBlackouts(room.facility._id, now)).find((b) =>
    (!b.room || b.room.equals(room._id)) && b.start < req.end && b.end > req.start);
  if (blackout) throw BookingRuleError(409, 'room_blacked_out', `该时段活动室暂停使用（${blackout.reason}），请选择其他时间`);
}

/**
 * Books a room. The rules are checked first; then the resident's weekly quota place and
 * every 30-minute unit are claimed (unique claims: of racing requests for overlapping time
 * exactly one gets the units); then the booking is written. Any failure before the write
 * (withClaims) gives every claim back.
 */
export async function createRoomBooking(
  deps: RoomBookingDeps,
  user: AuthUser,
  room: RoomWithFacility,
  forPerson: PersonFields,
  req: RoomBookingRequest,
  now = new Date(),
): Promise<RoomBookingFields> {
  const byStaff = isStaffOver(user, room.facility.community, room.facility._id) || isAdmin(user);
  await checkRoomRules(room, req, byStaff, now, advanceLimit(room, deps.rules, byStaff, Boolean(req.series)));
  await assertNotBlocked(forPerson._id, 'room', deps.rules, now);

  const id = new Types.ObjectId();
  const week = weekOf(req.start);
  const booking = await withClaims(async (claims) => {
    // The quota place and every unit in one insert (issue 20); a full quota is still the first refusal.
    const units = unitsBetween(req.start, req.end);
    const claimed = await claims.claimPlaceAndAll(quotaKey(forPerson._id, week, room._id), room.weeklyQuotaPerResident, roomKey(room._id), units, id);
    if (!claimed.ok && 'placesFull' in claimed) {
      throw BookingRuleError(409, 'weekly_quota_exceeded', `本周在「${room.name}」的预约已达 ${room.weeklyQuotaPerResident} 次上限，请下周再约`);
    }
    failpoint('rooms.create.afterQuota');
    if (!claimed.ok) {
      const first = unitStart(claimed.taken[0]!);
      throw SlotTakenError(`「${room.name}」${rangeLabel(first, new Date(first.getTime() + UNIT_MINUTES * 60_000))}`);
    }
    failpoint('rooms.create.afterUnits');
    // Before the insert: the person's list may then read a month too many, never miss one. After
    // the claims: a booking refused for a taken slot (most refusals in a rush) writes nothing
    // here, and if this fails the claims go back with the rest.
    await roomBookingListed({ bookedFor: forPerson._id, start: req.start });
    // Seeded and older rooms may lack the list: absent means nothing needs approval for its purpose.
    const needsApproval = room.approvalRequired || (req.paid && (room.approvalRequiredFor ?? []).includes('收费课程')) || false;
    const written = await insertBooking({
      _id: id,
      room: room._id,
      facility: room.facility._id,
      community: room.facility.community,
      bookedFor: forPerson._id,
      bookedBy: user.person._id,
      start: req.start,
      end: req.end,
      day: shanghaiDay(req.start),
      month: shanghaiDay(req.start).slice(0, 7),
      purpose: req.purpose,
      attendees: req.attendees,
      status: needsApproval ? 'pending' : 'confirmed',
      ...(req.series ? { series: req.series } : {}),
      quotaWeek: week,
      version: 0,
      history: [{ from: null, to: needsApproval ? 'pending' : 'confirmed', at: now, by: user.person._id }],
      createdAt: now,
      updatedAt: now,
    });
    claims.commit();
    return written;
  });
  if (holdsRoom(booking.status)) await markDaysChanged(booking.community, booking.start);
  await projectNewBooking(deps.redis, booking, forPerson, deps.log);
  return booking;
}

/**
 * Writes a new booking with one driver insert and returns it as the plain record it is. Why not
 * `RoomBooking.create`: a room booking has no save middleware, and mongoose's document work for
 * it (construct, cast, validate, toObject; `Model.validate` alone costs nearly as much) was a
 * tenth of a booking's CPU (docs/performance.md). What it would check holds by construction:
 * the record is typed by the schema (`RoomBookingFields`: every required field, ObjectIds,
 * Dates), its values come from validated input and the room, and test/roomBookings.test.ts
 * checks that a booking written here passes the schema's validation unchanged.
 */
/** Whether a booking in this status counts as booked time in the staff reports. */
const holdsRoom = (status: string) => (BOOKED_ROOM_STATUSES as readonly string[]).includes(status);

async function insertBooking(booking: RoomBookingFields): Promise<RoomBookingFields> {
  await RoomBooking.collection.insertOne({ ...booking, __v: 0 });
  return booking;
}

async function applyTransition(
  deps: RoomBookingDeps,
  booking: RoomBookingDoc,
  to: RoomBookingStatus,
  by: string,
  reason?: string,
  extra: object = {},
) {
  // The state claim goes back if the update is not written (else the booking could never move again).
  await withClaims(async (claims) => {
    const update = await claims.transition(booking, to, ROOM_TRANSITIONS, by, reason);
    failpoint('rooms.transition.afterStateClaim');
    await RoomBooking.updateOne({ _id: booking._id }, { ...update, $set: { ...update.$set, ...extra } });
    claims.commit();
  });
  if (holdsRoom(booking.status) !== holdsRoom(to)) await markDaysChanged(booking.community, booking.start);
  // Units and quota of a booking that no longer holds: left behind only if this fails, and
  // then found by the claims.reconcile job (src/commands/orphanClaims.ts).
  if (!HOLDING.includes(to)) await releaseClaims(booking._id);
  await refreshScheduleEntries(deps.redis, [booking._id], deps.log);
  return (await RoomBooking.findById(booking._id))!;
}

/**
 * Cancels a booking: residents (and their proxies) before the start; staff at any time, with
 * a reason that the resident is told.
 */
export async function cancelRoomBooking(
  deps: RoomBookingDeps,
  user: AuthUser,
  booking: RoomBookingDoc,
  asStaff: boolean,
  reason: string | undefined,
  now = new Date(),
) {
  if (!asStaff && booking.start <= now) {
    throw BookingRuleError(409, 'cancel_too_late', '活动已经开始，不能再取消；如有问题请联系工作人员');
  }
  if (asStaff && !reason) throw BookingRuleError(400, 'reason_required', '工作人员取消预约时需填写原因，系统会告知居民');
  const cancelled = await applyTransition(deps, booking, 'cancelled', user.id, reason);
  await withdrawRoomReminders(booking, now);
  if (asStaff) {
    await notify(booking.bookedFor, `room-booking:${booking._id}:cancelled`, 'room_booking_cancelled',
      `您预约的活动室（${rangeLabel(booking.start, booking.end)}）已被工作人员取消，原因：${reason}。如有疑问请联系社区。`);
  }
  return cancelled;
}

/** Staff approve a pending booking. */
export function approveRoomBooking(deps: RoomBookingDeps, user: AuthUser, booking: RoomBookingDoc) {
  return applyTransition(deps, booking, 'confirmed', user.id).then(async (b) => {
    await notify(b.bookedFor, `room-booking:${b._id}:approved`, 'room_booking_approved',
      `您的活动室预约（${rangeLabel(b.start, b.end)}）已通过审核。`);
    return b;
  });
}

/** Staff reject a pending booking, with a reason the resident is told. */
export async function rejectRoomBooking(deps: RoomBookingDeps, user: AuthUser, booking: RoomBookingDoc, reason: string) {
  const rejected = await applyTransition(deps, booking, 'rejected', user.id, reason);
  await withdrawRoomReminders(booking);
  await notify(booking.bookedFor, `room-booking:${booking._id}:rejected`, 'room_booking_rejected',
    `您的活动室预约（${rangeLabel(booking.start, booking.end)}）未通过审核，原因：${reason}。`);
  return rejected;
}

/**
 * Staff move a booking to another time or room: the new units are claimed before the old
 * ones are given back, so the booking never loses its place to a racing request.
 */
export async function moveRoomBooking(
  deps: RoomBookingDeps,
  user: AuthUser,
  booking: RoomBookingDoc,
  target: RoomWithFacility,
  start: Date,
  end: Date,
  reason: string,
  now = new Date(),
) {
  if (!HOLDING.includes(booking.status) || booking.status === 'checked_in') {
    throw ConflictError('只能调整待审核或已确认的预约', 'invalid_transition');
  }
  await checkRoomRules(target, { start, end, purpose: booking.purpose, attendees: booking.attendees }, true, now);
  const sameRoom = String(target._id) === String(booking.room);
  const wanted = unitsBetween(start, end);
  const owned = new Set(sameRoom ? unitsBetween(booking.start, booking.end) : []);
  const fresh = wanted.filter((u) => !owned.has(u));
  await roomBookingListed({ bookedFor: booking.bookedFor, start }, false);
  await withClaims(async (claims) => {
    const claimed = await claims.claimAll(roomKey(target._id), fresh, booking._id);
    if (!claimed.ok) throw SlotTakenError(`「${target.name}」${hhmm(unitStart(claimed.taken[0]!))} 起的时段`);
    failpoint('rooms.move.afterUnits');
    const update = await claims.transition(booking, booking.status, { ...ROOM_TRANSITIONS, [booking.status]: [booking.status] }, user.id, reason);
    failpoint('rooms.move.afterStateClaim');
    await RoomBooking.updateOne({ _id: booking._id }, {
      ...update,
      // The history keeps where the booking was, for the staff console's timeline.
      $push: { history: { ...update.$push.history, was: { room: booking.room, start: booking.start, end: booking.end } } },
      $set: { ...update.$set, room: target._id, facility: target.facility._id, start, end },
    });
    claims.commit();
  });
  await markDaysChanged(booking.community, booking.start, start);
  // Then give back the old units the booking no longer covers (the booking is never without
  // units; if this fails, claims.reconcile finds units outside its booking's time).
  await CapacityClaim.deleteMany({ key: roomKey(booking.room), holder: booking._id, slot: trusted({ $nin: sameRoom ? wanted : [] }) });
  await refreshScheduleEntries(deps.redis, [booking._id], deps.log, { facility: booking.facility, start: booking.start });
  // Reminders carry the start in their key: the reminder job enqueues the new time's.
  if (start.getTime() !== booking.start.getTime()) await withdrawRoomReminders(booking, now);
  await notify(booking.bookedFor, `room-booking:${booking._id}:moved:${booking.version + 1}`, 'room_booking_moved',
    `您的活动室预约已由工作人员调整为「${target.name}」${rangeLabel(start, end)}，原因：${reason}。`);
  return (await RoomBooking.findById(booking._id))!;
}

/** Check-in with the code shown in the room, from 15 minutes before the start until the end. */
export async function checkInRoomBooking(
  deps: RoomBookingDeps,
  user: AuthUser,
  booking: RoomBookingDoc,
  room: RoomWithFacility,
  code: string,
  now = new Date(),
) {
  if (code !== room.checkInCode) throw BookingRuleError(400, 'check_in_code_invalid', '签到码不正确，请核对活动室门口的签到码');
  if (now.getTime() < booking.start.getTime() - 15 * 60_000 || now >= booking.end) {
    throw BookingRuleError(409, 'check_in_not_open', `签到时间为活动开始前 15 分钟至结束（${rangeLabel(booking.start, booking.end)}）`);
  }
  return applyTransition(deps, booking, 'checked_in', user.id, undefined, { checkedInAt: now });
}

/**
 * Releases confirmed bookings nobody checked in to `releaseMinutes` after their start, and
 * counts each as a no-show. A bounded batch; safe to run again (a released booking is no
 * longer confirmed, and a no-show is recorded once per booking).
 */
export async function releaseNoShows(deps: RoomBookingDeps, now = new Date(), limit = 500): Promise<{ released: number }> {
  const { rules } = deps;
  const due = await RoomBooking.find({
    status: 'confirmed',
    start: trusted({ $lte: new Date(now.getTime() - rules.noShowReleaseMinutes * 60_000) }),
  }).sort({ start: 1 }).limit(limit);
  let released = 0;
  for (const booking of due) {
    try {
      await applyTransition(deps, booking, 'released_no_show', String(booking.bookedFor), 'no check-in');
      const blockedUntil = await recordNoShow(booking.bookedFor, 'room', booking._id, rules, now);
      released += 1;
      // The resident is told the room went, and of the block it starts, if any.
      const room = await Room.findById(booking.room).select('name').lean();
      await notify(booking.bookedFor, `room-booking:${booking._id}:released-no-show`, 'room_booking_released_no_show',
        `您预约的${room?.name ? `「${room.name}」` : '活动室'}（${rangeLabel(booking.start, booking.end)}）开始 ${rules.noShowReleaseMinutes} 分钟后仍未签到，`
        + '预约已自动释放给其他居民，并记一次未到场。不能前往时请提前取消。', now);
      if (blockedUntil) {
        const notice = blockNotice('room', booking.bookedFor, blockedUntil, rules, '活动室');
        await notify(booking.bookedFor, notice.key, 'booking_blocked', notice.text, now);
      }
    } catch (err) {
      // Another instance released it, or the resident checked in at the last moment.
      if ((err as { status?: number }).status !== 409) throw err;
    }
  }
  return { released };
}
