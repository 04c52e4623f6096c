import type { Types } from 'mongoose';
import { shanghaiDay } from '../../models/calendar.js';
import { RoomBooking, type RoomBookingDoc } from '../../models/roomBooking.js';
import { widenListHorizon } from './listHorizon.js';
import { listNewestFirst } from './monthWalk.js';

const monthOf = (b: { month?: string | null; start: Date }) => b.month ?? shanghaiDay(b.start).slice(0, 7);

/**
 * A resident's room bookings (or an elder's, for a proxy), newest first (by start), `limit` of
 * them: read a month at a time (`{bookedFor, month}` equality) from the furthest month they
 * have one in, so the page costs the months it shows, not the person's whole history.
 */
export function listMyRoomBookings(person: Types.ObjectId, limit: number): Promise<RoomBookingDoc[]> {
  return listNewestFirst({
    list: 'room-bookings',
    owner: person,
    want: limit,
    readMonth: (month) => RoomBooking.find({ bookedFor: person, month }),
    readAll: () => RoomBooking.find({ bookedFor: person }),
    monthOf,
    order: (a, b) => b.start.getTime() - a.start.getTime(),
  });
}

/** Before a booking is written in (or moved to) `start`'s month: the person's list covers it. */
export const roomBookingListed = (b: { bookedFor: Types.ObjectId; start: Date }, added = true) =>
  widenListHorizon('room-bookings', b.bookedFor, monthOf({ start: b.start }), added);
