import type { Types } from 'mongoose';
import { shanghaiDay } from '../../models/calendar.js';
import { RoomBooking, type RoomBookingDoc } from '../../models/roomBooking.js';
import { widenListHorizon } from './listHorizon.js';
import { listOwn, type OwnListPage } from './monthWalk.js';

const monthOf = (b: { month?: string | null; start: Date }) => b.month ?? shanghaiDay(b.start).slice(0, 7);

/**
 * A page of a resident's room bookings (or an elder's, for a proxy): `upcoming` (today on, soonest
 * first) or `past` (newest first), `limit` of them after the cursor. Read a month at a time
 * (`{bookedFor, month}` equality), so the page costs the months it shows, not the person's history.
 */
export function listMyRoomBookings(person: Types.ObjectId, page: OwnListPage): Promise<{ items: RoomBookingDoc[]; next: string | null }> {
  return listOwn({
    list: 'room-bookings',
    owner: person,
    readMonth: (month) => RoomBooking.find({ bookedFor: person, month }),
    readAll: () => RoomBooking.find({ bookedFor: person }),
    monthOf,
  }, page);
}

/** Before a booking is written in (or moved to) `start`'s month: the person's list covers it. */
export const roomBookingListed = (b: { bookedFor: Types.ObjectId; start: Date }, added = true) =>
  widenListHorizon('room-bookings', b.bookedFor, monthOf({ start: b.start }), added);
