import { refreshScheduleEntries } from '../booking/scheduleProjection.js';
import type { RoomBookingDeps } from './roomBookings.js';
import { Types, trusted } from 'mongoose';
import { Blackout, type BlackoutDoc } from '../../models/blackout.js';
import type { FacilityDoc } from '../../models/facility.js';
import { Room } from '../../models/room.js';
import { RoomBooking, type RoomBookingDoc, type RoomBookingStatus } from '../../models/roomBooking.js';
import type { AuthUser } from '../auth/user.js';
import { BookingRuleError, NotFoundError } from '../errors.js';

/** Bookings a blackout puts in question: those still to happen. */
const FLAGGABLE: RoomBookingStatus[] = ['pending', 'confirmed'];

export interface BlackoutRequest {
  roomId?: string;
  start: Date;
  end: Date;
  reason: string;
}

/** Loads a blackout; 404 when there is none. */
export async function findBlackout(id: string): Promise<BlackoutDoc> {
  const blackout = Types.ObjectId.isValid(id) ? await Blackout.findById(id) : null;
  if (!blackout) throw NotFoundError('没有找到这条停用安排');
  return blackout;
}

/** The bookings of the facility (or of one room) overlapping [start, end) that still hold it. */
function overlapping(facility: Types.ObjectId, room: Types.ObjectId | null | undefined, start: Date, end: Date) {
  return {
    facility,
    ...(room ? { room } : {}),
    status: trusted({ $in: FLAGGABLE }),
    start: trusted({ $lt: end }),
    end: trusted({ $gt: start }),
  };
}

/**
 * Declares a period a room (or, without roomId, the whole facility) cannot be booked. New
 * bookings over it are refused from now on (checkRoomRules looks for blackouts); bookings
 * already made over it are not cancelled silently: each is flagged ({reason, at}) and
 * returned, so staff move or cancel them with a reason the resident is told.
 */
export async function createBlackout(deps: RoomBookingDeps, user: AuthUser, facility: FacilityDoc, req: BlackoutRequest, now = new Date()) {
  let room: Types.ObjectId | undefined;
  if (req.roomId) {
    const found = Types.ObjectId.isValid(req.roomId) ? await Room.findById(req.roomId, { facility: 1 }).lean() : null;
    if (!found) throw NotFoundError('没有找到这个活动室');
    if (String(found.facility) !== String(facility._id)) {
      throw BookingRuleError(400, 'room_not_in_facility', '该活动室不属于这个服务场所');
    }
    room = found._id;
  }
  if (req.end <= req.start) throw BookingRuleError(400, 'blackout_invalid', '停用的结束时间需晚于开始时间');
  const blackout = await Blackout.create({
    facility: facility._id, room, start: req.start, end: req.end, reason: req.reason, createdBy: user.id,
  });
  const filter = overlapping(facility._id, room, req.start, req.end);
  await RoomBooking.updateMany(filter, { $set: { flag: { reason: req.reason, at: now } } });
  // Read back by the same filter: what staff have to deal with now.
  const flagged = await RoomBooking.find(filter).sort({ start: 1 });
  await refreshScheduleEntries(deps.redis, flagged.map((b) => b._id), deps.log);
  return { blackout, flagged };
}

/** Blackouts of a facility overlapping [from, to). */
export function listBlackouts(facility: Types.ObjectId, from: Date, to: Date) {
  return Blackout.find({ facility, start: trusted({ $lt: to }), end: trusted({ $gt: from }) }).sort({ start: 1 }).lean();
}

/**
 * Lifts a blackout. A booking holds one flag, the latest blackout's reason; the bookings
 * whose flag names this blackout get the reason of another blackout still covering them,
 * or no flag when none does.
 */
export async function deleteBlackout(deps: RoomBookingDeps, blackout: BlackoutDoc, now = new Date()): Promise<{ unflagged: number }> {
  await Blackout.deleteOne({ _id: blackout._id });
  const flagged: RoomBookingDoc[] = await RoomBooking.find({
    ...overlapping(blackout.facility, blackout.room, blackout.start, blackout.end),
    'flag.reason': blackout.reason,
  });
  if (!flagged.length) return { unflagged: 0 };
  const others = await Blackout.find({
    facility: blackout.facility,
    start: trusted({ $lt: new Date(Math.max(...flagged.map((b) => b.end.getTime()))) }),
    end: trusted({ $gt: new Date(Math.min(...flagged.map((b) => b.start.getTime()))) }),
  }).sort({ createdAt: -1 }).lean();
  const coveringReason = (b: RoomBookingDoc) => others.find((o) =>
    (!o.room || String(o.room) === String(b.room)) && o.start < b.end && o.end > b.start)?.reason;
  const clear: RoomBookingDoc['_id'][] = [];
  const reflag = new Map<string, RoomBookingDoc['_id'][]>();
  for (const b of flagged) {
    const reason = coveringReason(b);
    if (reason) reflag.set(reason, [...(reflag.get(reason) ?? []), b._id]);
    else clear.push(b._id);
  }
  if (clear.length) await RoomBooking.updateMany({ _id: trusted({ $in: clear }) }, { $unset: { flag: 1 } });
  for (const [reason, ids] of reflag) {
    await RoomBooking.updateMany({ _id: trusted({ $in: ids }) }, { $set: { flag: { reason, at: now } } });
  }
  await refreshScheduleEntries(deps.redis, flagged.map((b) => b._id), deps.log);
  return { unflagged: clear.length };
}
