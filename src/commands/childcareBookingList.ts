import type { Types } from 'mongoose';
import { ChildcareBooking, type ChildcareBookingDoc } from '../../models/childcareBooking.js';
import { widenListHorizon } from './listHorizon.js';
import { listOwn, type OwnListPage } from './monthWalk.js';

/**
 * A page of a parent's childcare bookings, or one child's: `upcoming` (today on, soonest first)
 * or `past` (newest first), `limit` of them after the cursor. Read a month at a time
 * (`{bookedFor | child, month}` equality), so the page costs the months it shows, not the
 * family's whole history.
 */
export function listChildcareBookings(
  filter: { parent?: Types.ObjectId; child?: Types.ObjectId }, page: OwnListPage,
): Promise<{ items: ChildcareBookingDoc[]; next: string | null }> {
  const [list, owner, key] = filter.child
    ? ['childcare-child' as const, filter.child, { child: filter.child }]
    : ['childcare-bookings' as const, filter.parent!, { bookedFor: filter.parent! }];
  return listOwn({
    list,
    owner,
    readMonth: (month) => ChildcareBooking.find({ ...key, month }),
    readAll: () => ChildcareBooking.find(key),
    monthOf: (b) => b.month,
  }, page);
}

/** Before a booking is written: the parent's and the child's lists cover its month. */
export async function childcareBookingListed(b: { bookedFor: Types.ObjectId; child: Types.ObjectId; month: string }): Promise<void> {
  await Promise.all([
    widenListHorizon('childcare-bookings', b.bookedFor, b.month),
    widenListHorizon('childcare-child', b.child, b.month),
  ]);
}
