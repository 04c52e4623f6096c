import { trusted, type Types } from 'mongoose';
import { shanghaiDay } from '../../models/calendar.js';
import { Room } from '../../models/room.js';
import type { RoomBookingDoc } from '../../models/roomBooking.js';
import { ServiceRating, type ServiceRatingDoc } from '../../models/serviceRating.js';
import type { AuthUser } from '../auth/user.js';
import { BookingRuleError, ConflictError } from '../errors.js';
import { isDuplicateKey } from '../storage/mongo.js';
import { markDaysChanged } from './dailyFigures.js';

export interface RoomRatingRequest {
  good: boolean;
  comment?: string;
}

/**
 * 好差评 after using a room, once per booking: the booking was checked in (the room was
 * used) and its time has begun. Cancelled, rejected and no-show bookings cannot be rated.
 */
export async function rateRoomBooking(user: AuthUser, booking: RoomBookingDoc, req: RoomRatingRequest, now = new Date()): Promise<ServiceRatingDoc> {
  const used = (booking.status === 'checked_in' || booking.status === 'completed') && now >= booking.start;
  if (!used) throw BookingRuleError(409, 'room_booking_not_rateable', '签到使用活动室之后才能评价；未签到、已取消或未通过审核的预约不能评价');
  try {
    const rating = await ServiceRating.create({
      service: 'room', subject: booking._id, unit: booking.room, facility: booking.facility, community: booking.community,
      day: shanghaiDay(booking.start), person: booking.bookedFor, by: user.id, good: req.good, comment: req.comment,
    });
    await markDaysChanged(booking.community, rating.day);
    return rating;
  } catch (err) {
    if (isDuplicateKey(err)) throw ConflictError('这次预约已经评价过了，谢谢您的反馈', 'already_rated');
    throw err;
  }
}

export interface RoomRatingReport {
  from: string;
  to: string;
  good: number;
  bad: number;
  rooms: Array<{ room: string; name: string; good: number; bad: number }>;
  /** The latest 50 comments, without who wrote them. */
  comments: Array<{ day: string; room: string; good: boolean; comment: string }>;
}

/** The 好差评 of a facility's rooms between two Shanghai days (inclusive), for its staff. */
export async function roomRatingReport(facility: Types.ObjectId, from: string, to: string): Promise<RoomRatingReport> {
  const [ratings, rooms] = await Promise.all([
    ServiceRating.find({ service: 'room', facility, day: trusted({ $gte: from, $lte: to }) }).sort({ createdAt: -1 }).lean(),
    Room.find({ facility }, { name: 1 }).sort({ name: 1 }).lean(),
  ]);
  const names = new Map(rooms.map((r) => [String(r._id), r.name]));
  const perRoom = new Map<string, { room: string; name: string; good: number; bad: number }>();
  for (const r of ratings) {
    const id = String(r.unit);
    const row = perRoom.get(id) ?? { room: id, name: names.get(id) ?? '已删除的活动室', good: 0, bad: 0 };
    if (r.good) row.good += 1;
    else row.bad += 1;
    perRoom.set(id, row);
  }
  return {
    from,
    to,
    good: ratings.filter((r) => r.good).length,
    bad: ratings.filter((r) => !r.good).length,
    rooms: [...perRoom.values()].sort((a, b) => a.name.localeCompare(b.name, 'zh')),
    comments: ratings.filter((r) => r.comment).slice(0, 50)
      .map((r) => ({ day: r.day, room: names.get(String(r.unit)) ?? '已删除的活动室', good: r.good, comment: r.comment! })),
  };
}
