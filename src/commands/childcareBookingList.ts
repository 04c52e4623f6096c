import type { Types } from 'mongoose';
import { ChildcareBooking, type ChildcareBookingDoc } from '../../models/childcareBooking.js';
import { widenListHorizon } from './listHorizon.js';
import { listNewestFirst } from './monthWalk.js';

/**
 * A parent's childcare bookings, or one child's, newest first (by start), `limit` of them: read
 * a month at a time (`{bookedFor | child, month}` equality) from the furthest month there is one
 * in, so the page costs the months it shows, not the family's whole history.
 */
export function listChildcareBookings(filter: { parent?: Types.ObjectId; child?: Types.ObjectId }, limit = 50): Promise<ChildcareBookingDoc[]> {
  const [list, owner, key] = filter.child
    ? ['childcare-child' as const, filter.child, { child: filter.child }]
    : ['childcare-bookings' as const, filter.parent!, { bookedFor: filter.parent! }];
  return listNewestFirst({
    list,
    owner,
    want: limit,
    readMonth: (month) => ChildcareBooking.find({ ...key, month }),
    readAll: () => ChildcareBooking.find(key),
    monthOf: (b) => b.month,
    order: (a, b) => b.start.getTime() - a.start.getTime(),
  });
}

/** Before a booking is written: the parent's and the child's lists cover its month. */
export async function childcareBookingListed(b: { bookedFor: Types.ObjectId; child: Types.ObjectId; month: string }): Promise<void> {
  await Promise.all([
    widenListHorizon('childcare-bookings', b.bookedFor, b.month),
    widenListHorizon('childcare-child', b.child, b.month),
  ]);
}
