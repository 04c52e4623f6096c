import type { ChildDoc } from '../../models/child.js';
import type { ChildcareBookingDoc } from '../../models/childcareBooking.js';
import type { ChildcareSessionDoc } from '../../models/childcareSession.js';
import type { WaitlistEntryDoc } from '../../models/childcareWaitlist.js';
import type { FacilityDoc } from '../../models/facility.js';
import { actsFor, isAdmin, isStaffOver, type AuthUser } from '../auth/user.js';
import { allow } from './policy.js';

/** A session with its centre loaded (policies need the community). */
export type SessionWithCentre = Omit<ChildcareSessionDoc, 'centre'> & { centre: FacilityDoc };

/** Whether the user is one of the child's parents, or acts for one (代办). */
export const parentOf = (user: AuthUser, child: Pick<ChildDoc, 'parents'>) => child.parents.some((p) => actsFor(user, p));

// A child's profile and guardians: the parents (and admins). Staff see what they need of a
// child through the attendance of their own sessions.
allow<ChildDoc>('Child', ['read', 'update', 'book'], (user, child) => parentOf(user, child) || isAdmin(user));

/**
 * Booking a child into a session: whether it may happen depends on both. The parents (and
 * their proxies) and admins book any session; the centre's staff book at the desk for any
 * child brought to them, since the booking is in that centre. Judged here, over the pair, so
 * no route has to combine a session rule and a child rule.
 */
export interface ChildcareBookingRequestSubject { session: SessionWithCentre; child: ChildDoc }
export const CHILDCARE_BOOKING_REQUEST = { modelName: 'ChildcareBookingRequest' };
allow<ChildcareBookingRequestSubject>('ChildcareBookingRequest', ['create'], (user, { session, child }) =>
  parentOf(user, child) || isAdmin(user) || isStaffOver(user, session.centre.community, session.centre._id));
// Authorising pick-up people is the parents' own decision.
allow<ChildDoc>('Child', ['manageGuardians'], (user, child) => child.parents.some((p) => String(p) === user.id));

// Anyone signed in may see sessions and book them (the rules decide the rest); staff of the
// centre run them.
allow<SessionWithCentre>('ChildcareSession', ['read', 'book'], () => true);
allow<SessionWithCentre>('ChildcareSession', ['manage', 'attendance'], (user, s) =>
  isStaffOver(user, s.centre.community, s.centre._id) || isAdmin(user));

const staffOver = (user: AuthUser, b: { community: unknown; centre: unknown }) =>
  isStaffOver(user, b.community as string, b.centre as string) || isAdmin(user);

allow<ChildcareBookingDoc>('ChildcareBooking', ['read', 'cancel'], (user, b) =>
  actsFor(user, b.bookedFor) || user.id === String(b.bookedBy) || staffOver(user, b));
// A new pick-up code goes to the parent: only the parent (or their proxy) asks for one.
allow<ChildcareBookingDoc>('ChildcareBooking', ['resendPickupCode'], (user, b) => actsFor(user, b.bookedFor));
allow<ChildcareBookingDoc>('ChildcareBooking', ['cancelAsStaff', 'dropOff', 'pickUp'], staffOver);

allow<WaitlistEntryDoc>('ChildcareWaitlistEntry', ['read', 'leave'], (user, e) =>
  actsFor(user, e.bookedFor) || user.id === String(e.bookedBy) || staffOver(user, e));
allow<WaitlistEntryDoc>('ChildcareWaitlistEntry', ['accept'], (user, e) => actsFor(user, e.bookedFor) || user.id === String(e.bookedBy));
