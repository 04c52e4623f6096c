import type { FacilityDoc, FacilityFields } from '../../models/facility.js';
import type { RoomBookingDoc } from '../../models/roomBooking.js';
import type { RoomFields } from '../../models/room.js';
import { actsFor, isAdmin, isStaffOver } from '../auth/user.js';
import { allow } from './policy.js';

/**
 * A room with its facility (policies need the community): plain records from the read cache,
 * marked for the policies by `findRoom` (commands/roomBookings.ts).
 */
export type RoomWithFacility = Omit<RoomFields, 'facility'> & { facility: FacilityFields };

// Anyone signed in may look at rooms and book them (the booking rules decide the rest).
allow<RoomWithFacility>('Room', ['read', 'book'], () => true);

// Staff run the rooms of their facilities: schedules, blackouts, the day grid.
allow<RoomWithFacility>('Room', ['manage'], (user, room) =>
  isStaffOver(user, room.facility.community, room.facility._id) || isAdmin(user));

allow<FacilityDoc>('Facility', ['manage', 'viewSchedule', 'viewRoomRatings'], (user, facility) =>
  isStaffOver(user, facility.community, facility._id) || isAdmin(user));

const staffOver = (user: Parameters<typeof isAdmin>[0], b: RoomBookingDoc) =>
  isStaffOver(user, b.community, b.facility) || isAdmin(user);

// The resident it is for, whoever booked it for them, and the facility's staff.
allow<RoomBookingDoc>('RoomBooking', ['read', 'cancel', 'checkIn'], (user, b) =>
  actsFor(user, b.bookedFor) || user.id === String(b.bookedBy) || staffOver(user, b));

// 好差评: the resident who used the room, or whoever booked it for them.
allow<RoomBookingDoc>('RoomBooking', ['rate'], (user, b) => actsFor(user, b.bookedFor) || user.id === String(b.bookedBy));

allow<RoomBookingDoc>('RoomBooking', ['approve', 'reject', 'move', 'cancelAsStaff'], staffOver);

// A booking's history of changes names the staff who made them: the facility's staff and admins only.
allow<RoomBookingDoc>('RoomBooking', ['viewHistory'], staffOver);
