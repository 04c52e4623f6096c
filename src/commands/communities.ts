import { Types, trusted } from 'mongoose';
import { Community, type CommunityDoc } from '../../models/community.js';
import { Facility, type FacilityDoc } from '../../models/facility.js';
import { Notification } from '../../models/notification.js';
import { RoomBooking, type RoomBookingDoc } from '../../models/roomBooking.js';
import { Room } from '../../models/room.js';
import { Person } from '../../models/person.js';
import type { AuthUser } from '../auth/user.js';
import { isAdmin } from '../auth/user.js';
import { can } from '../policies/index.js';

/** Communities are few (one district's worth): the whole list is read at once. */
const MAX_COMMUNITIES = 500;

export interface CommunityListing {
  community: CommunityDoc;
  facilities: Array<{ facility: FacilityDoc; manage: boolean }>;
}

/**
 * Every community with its facilities (centres, kitchens, childcare centres), for choosing one's
 * community (residents) and for the staff console's pickers. `scope: 'staff'` keeps only the
 * communities the caller is staff of (all for an admin); each facility says whether the caller
 * may manage it, exactly as the Facility policy decides.
 */
export async function listCommunities(user: AuthUser, scope: 'all' | 'staff'): Promise<CommunityListing[]> {
  const mine = user.person.staffScope?.community;
  const filter = scope === 'staff' && !isAdmin(user) ? { _id: mine ?? new Types.ObjectId() } : {};
  const communities = await Community.find(filter).sort({ name: 1 }).limit(MAX_COMMUNITIES);
  if (!communities.length) return [];
  const facilities = await Facility.find(communities.length === 1 ? { community: communities[0]!._id } : {}).sort({ kind: 1, name: 1 });
  const byCommunity = new Map<string, CommunityListing['facilities']>();
  for (const facility of facilities) {
    const key = String(facility.community);
    const manage = can(user, 'manage', facility);
    if (scope === 'staff' && !manage) continue;
    byCommunity.set(key, [...(byCommunity.get(key) ?? []), { facility, manage }]);
  }
  return communities.map((community) => ({ community, facilities: byCommunity.get(String(community._id)) ?? [] }));
}

/** At most this many pending bookings in the queue at once (oldest first). */
export const PENDING_LIMIT = 200;

/**
 * The approvals queue of a facility: pending bookings not yet started, soonest first, with the
 * room's name and the booker's name and phone next to their ids (names next to ids).
 */
export async function pendingBookings(facility: FacilityDoc, now = new Date()) {
  const bookings = await RoomBooking.find({ facility: facility._id, status: 'pending' }).sort({ start: 1 }).limit(PENDING_LIMIT * 2);
  const upcoming = bookings.filter((b) => b.end > now).slice(0, PENDING_LIMIT);
  const roomIds = [...new Set(upcoming.map((b) => String(b.room)))];
  const personIds = [...new Set(upcoming.map((b) => String(b.bookedFor)))];
  const [rooms, people] = await Promise.all([
    roomIds.length ? Room.find({ _id: trusted({ $in: roomIds.map((id) => new Types.ObjectId(id)) }) }) : [],
    personIds.length ? Person.find({ _id: trusted({ $in: personIds.map((id) => new Types.ObjectId(id)) }) }) : [],
  ]);
  const roomName = new Map(rooms.map((r) => [String(r._id), r.name]));
  const person = new Map(people.map((p) => [String(p._id), p]));
  return upcoming.map((booking) => ({ booking, roomName: roomName.get(String(booking.room)) ?? null, booker: person.get(String(booking.bookedFor)) ?? null }));
}

/**
 * What the resident was told about a booking (approved, rejected, moved, cancelled, reminders):
 * the outbox entries keyed `room-booking:<id>:…`, oldest first. Read by their subject
 * (`room-booking:<id>`, an indexed equality set by notify()), so the read is the booking's few
 * messages, never the person's history.
 */
export async function bookingMessages(booking: RoomBookingDoc) {
  const found = await Notification.find({ subject: `room-booking:${String(booking._id)}`, person: booking.bookedFor }).sort({ createdAt: 1 }).limit(50);
  return found.map((n) => ({ kind: n.kind, text: n.text, at: (n as unknown as { createdAt?: Date }).createdAt ?? n.dueAt }));
}
