import type { RoomBookingFields } from '../../models/roomBooking.js';
import type { ServiceRatingDoc } from '../../models/serviceRating.js';

type PresentedFields = 'room' | 'facility' | 'start' | 'end' | 'purpose' | 'attendees' | 'status' | 'bookedFor' | 'bookedBy' | 'series' | 'checkedInAt';

/** A room booking as its resident, proxy or the facility's staff see it (a document or a plain record). */
export function presentRoomBooking(b: Pick<RoomBookingFields, '_id' | PresentedFields> & { flag?: { reason?: string | null; at?: Date | null } | null }) {
  return {
    id: String(b._id),
    room: String(b.room),
    facility: String(b.facility),
    start: b.start,
    end: b.end,
    purpose: b.purpose,
    attendees: b.attendees,
    status: b.status,
    bookedFor: String(b.bookedFor),
    bookedBy: String(b.bookedBy),
    series: b.series ?? null,
    flag: b.flag?.reason ? { reason: b.flag.reason, at: b.flag.at } : null,
    checkedInAt: b.checkedInAt ?? null,
  };
}

/** A room booking's 好差评, as its author sees it. */
export function presentRoomRating(r: ServiceRatingDoc) {
  return { id: String(r._id), booking: String(r.subject), room: String(r.unit), day: r.day, good: r.good, comment: r.comment ?? null };
}
