import { Types, trusted } from 'mongoose';
import { Person } from '../../models/person.js';
import { Room } from '../../models/room.js';
import type { RoomBookingDoc } from '../../models/roomBooking.js';

/** What a history entry records, in the words the staff console shows. */
export type HistoryAction = 'created' | 'approved' | 'rejected' | 'cancelled' | 'moved' | 'checked_in' | 'completed' | 'released_no_show' | 'changed';

export function historyAction(from: string | null | undefined, to: string | null | undefined): HistoryAction {
  if (!from) return 'created';
  if (from === to) return 'moved';
  if (from === 'pending' && to === 'confirmed') return 'approved';
  if (to === 'rejected' || to === 'cancelled' || to === 'checked_in' || to === 'completed' || to === 'released_no_show') return to;
  return 'changed';
}

/** Names of who made each change and of the rooms a move left, read by `_id` (two reads at most). */
export async function roomBookingHistoryNames(booking: RoomBookingDoc) {
  const history = booking.history ?? [];
  const ids = (values: unknown[]) => [...new Set(values.filter(Boolean).map(String))].map((id) => new Types.ObjectId(id));
  const personIds = ids(history.map((h) => h.by));
  const roomIds = ids(history.map((h) => h.was?.room));
  const [people, rooms] = await Promise.all([
    personIds.length ? Person.find({ _id: trusted({ $in: personIds }) }, { name: 1, roles: 1 }).lean() : [],
    roomIds.length ? Room.find({ _id: trusted({ $in: roomIds }) }, { name: 1 }).lean() : [],
  ]);
  return {
    people: new Map(people.map((p) => [String(p._id), { name: p.name ?? null, staff: (p.roles ?? []).some((r) => r === 'staff' || r === 'admin') }])),
    rooms: new Map(rooms.map((r) => [String(r._id), r.name])),
  };
}
