import type { Types } from 'mongoose';
import { shanghaiDay } from '../../models/calendar.js';
import { RoomBooking, type RoomBookingDoc } from '../../models/roomBooking.js';
import { widenListHorizon } from './listHorizon.js';
import { listOwn, pageOf, type ListCursor, type ListWhen } from './monthWalk.js';

const monthOf = (b: { month?: string | null; start: Date }) => b.month ?? shanghaiDay(b.start).slice(0, 7);

/**
 * A page of a resident's room bookings (or an elder's, for a proxy): `upcoming` (today on, soonest
 * first) or `past` (newest first), `limit` of them after the cursor. Read a month at a time
 * (`{bookedFor, month}` equality), so the page costs the months it shows, not the person's history.
 */
export async function listMyRoomBookings(
  person: Types.ObjectId, q: { when: ListWhen; limit: number; after?: ListCursor },
): Promise<{ items: RoomBookingDoc[]; next: string | null }> {
  const found = await listOwn({
    list: 'room-bookings',
    owner: person,
    readMonth: (month) => RoomBooking.find({ bookedFor: person, month }),
    readAll: () => RoomBooking.find({ bookedFor: person }),
    monthOf,
  }, { when: q.when, want: q.limit + 1, after: q.after });
  return pageOf(found, 0, q.limit);
}

/** Before a booking is written in (or moved to) `start`'s month: the person's list covers it. */
export const roomBookingListed = (b: { bookedFor: Types.ObjectId; start: Date }, added = true) =>
  widenListHorizon('room-bookings', b.bookedFor, monthOf({ start: b.start }), added);
