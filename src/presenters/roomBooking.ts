import type { RoomBookingFields } from '../../models/roomBooking.js';
import type { ServiceRatingDoc } from '../../models/serviceRating.js';
import { historyAction } from '../commands/roomBookingHistory.js';
import { idOf, idOrNull, listOf } from './fields.js';

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

type HistoryEntry = {
  from?: string | null; to?: string | null; at?: Date | null; by?: unknown; reason?: string | null;
  was?: { room?: unknown; start?: Date | null; end?: Date | null } | null;
};

/**
 * A booking's history of changes as the facility's staff see it (it names who made each change,
 * staff included, so residents never get it): oldest first, each with what happened, when, who
 * and why; a move says where the booking was before.
 */
export function presentRoomBookingHistory(
  history: readonly HistoryEntry[] | null | undefined,
  names: { people: Map<string, { name: string | null; staff: boolean }>; rooms: Map<string, string> },
) {
  return listOf(history).map((h) => {
    const by = idOrNull(h.by);
    const person = by ? names.people.get(by) : undefined;
    const wasRoom = idOrNull(h.was?.room);
    return {
      action: historyAction(h.from, h.to),
      from: h.from ?? null,
      to: h.to ?? null,
      at: h.at ?? null,
      by: by ? { id: by, name: person?.name ?? null, staff: person?.staff ?? false } : null,
      reason: h.reason ?? null,
      was: h.was?.start ? { room: wasRoom, roomName: wasRoom ? names.rooms.get(wasRoom) ?? null : null, start: h.was.start, end: h.was.end ?? null } : null,
    };
  });
}
