import type { RoomBookingFields } from '../../models/roomBooking.js';
import type { ServiceRatingDoc } from '../../models/serviceRating.js';
import { idOf } from './fields.js';

type PresentedFields = 'room' | 'facility' | 'start' | 'end' | 'purpose' | 'attendees' | 'status' | 'bookedFor' | 'bookedBy' | 'series' | 'checkedInAt';

/** A room booking as its resident, proxy or the facility's staff see it (a document or a plain record). */
export function presentRoomBooking(b: Pick<RoomBookingFields, '_id' | PresentedFields> & { flag?: { reason?: string | null; at?: Date | null } | null }) {
  return {
    id: idOf(b._id),
    room: idOf(b.room),
    facility: idOf(b.facility),
    start: b.start,
    end: b.end,
    purpose: b.purpose,
    attendees: b.attendees,
    status: b.status,
    bookedFor: idOf(b.bookedFor),
    bookedBy: idOf(b.bookedBy),
    series: b.series ?? null,
    flag: b.flag?.reason ? { reason: b.flag.reason, at: b.flag.at } : null,
    checkedInAt: b.checkedInAt ?? null,
  };
}

/** A room booking's 好差评, as its author sees it. */
export function presentRoomRating(r: ServiceRatingDoc) {
  return { id: idOf(r._id), booking: idOf(r.subject), room: idOf(r.unit), day: r.day, good: r.good, comment: r.comment ?? null };
}
