import { ageInMonths, type ChildDoc } from '../../models/child.js';
import type { ChildcareBookingDoc } from '../../models/childcareBooking.js';
import type { ChildcareSessionDoc } from '../../models/childcareSession.js';
import type { WaitlistEntryDoc } from '../../models/childcareWaitlist.js';
import type { OverCapacityChild } from '../commands/childcareSessions.js';
import { idOf, listOf } from './fields.js';

/** A child's profile as the parents see it (guardians' phones in full: they entered them). */
export function presentChild(c: ChildDoc, now = new Date()) {
  return {
    id: idOf(c._id),
    name: c.name,
    birthDate: c.birthDate,
    ageMonths: c.birthDate ? ageInMonths(c.birthDate, now) : null,
    allergies: listOf(c.allergies),
    healthNotes: c.healthNotes ?? null,
    parents: listOf(c.parents).map(idOf),
    guardians: listOf(c.guardians).map((g) => ({
      id: idOf(g._id), name: g.name, relation: g.relation, phone: g.phone,
      authorisedBy: idOf(g.authorisedBy), authorisedAt: g.authorisedAt,
    })),
  };
}

/** A child as the desk sees it when booking for a parent: name and age only (no health notes, no guardians). */
export function presentChildAtDesk(c: ChildDoc, now = new Date()) {
  return { id: idOf(c._id), name: c.name, ageMonths: c.birthDate ? ageInMonths(c.birthDate, now) : null };
}

type SessionFields = Pick<ChildcareSessionDoc, '_id' | 'date' | 'start' | 'end' | 'classType' | 'carersOnShift' | 'capacity' | 'booked'> & { centre: unknown };

/** `extra.booked`, counted from the bookings, wins over the session's display counter (which racing writes may leave behind). */
export function presentChildcareSession(s: SessionFields, extra: { free?: number; waiting?: number; centreName?: string; booked?: number } = {}) {
  return {
    id: idOf(s._id),
    centre: idOf(s.centre),
    ...(extra.centreName !== undefined ? { centreName: extra.centreName } : {}),
    date: s.date,
    start: s.start,
    end: s.end,
    classType: s.classType,
    carersOnShift: s.carersOnShift,
    capacity: s.capacity,
    booked: extra.booked ?? s.booked,
    ...(extra.free !== undefined ? { free: extra.free } : {}),
    ...(extra.waiting !== undefined ? { waiting: extra.waiting } : {}),
  };
}

/** A booking as its parent and the centre's staff see it; the pick-up code's hash never leaves. */
export function presentChildcareBooking(b: ChildcareBookingDoc) {
  return {
    id: idOf(b._id),
    session: idOf(b.session),
    centre: idOf(b.centre),
    child: idOf(b.child),
    bookedFor: idOf(b.bookedFor),
    bookedBy: idOf(b.bookedBy),
    date: b.date,
    start: b.start,
    end: b.end,
    classType: b.classType,
    status: b.status,
    lateCancellation: b.lateCancellation ?? false,
    fromWaitlist: b.fromWaitlist ? idOf(b.fromWaitlist) : null,
    healthCheck: b.healthCheck?.at ? { temperature: b.healthCheck.temperature, notes: b.healthCheck.notes ?? null, at: b.healthCheck.at } : null,
    pickedUp: b.pickedUp?.at ? { at: b.pickedUp.at, collectorName: b.pickedUp.collectorName, collectorRelation: b.pickedUp.collectorRelation } : null,
    pickupRefusals: listOf(b.pickupRefusals).length,
    // A document, or a lean / cached record (no `get`): either way the stored time, or null.
    createdAt: ((typeof b.get === 'function' ? b.get('createdAt') : (b as { createdAt?: Date }).createdAt) as Date | undefined) ?? null,
  };
}

export function presentWaitlistEntry(e: WaitlistEntryDoc, position: number | null) {
  return {
    id: idOf(e._id),
    session: idOf(e.session),
    child: idOf(e.child),
    bookedFor: idOf(e.bookedFor),
    start: e.start,
    status: e.status,
    position,
    offerExpiresAt: e.status === 'offered' ? e.offerExpiresAt ?? null : null,
    booking: e.status === 'accepted' ? idOf(e.booking) : null,
  };
}

export function presentOverCapacity(over: OverCapacityChild[]) {
  return over.map(({ booking, childName }) => ({ booking: String(booking._id), child: String(booking.child), childName, bookedAt: booking.get('createdAt') as Date }));
}

/** The staff attendance sheet: each booked child with what carers need, then the line. */
export function presentAttendance(
  session: SessionFields,
  bookings: ChildcareBookingDoc[],
  line: WaitlistEntryDoc[],
  children: Map<string, ChildDoc>,
) {
  const child = (id: unknown) => children.get(String(id));
  let rank = 0;
  return {
    session: presentChildcareSession(session),
    counts: {
      booked: bookings.filter((b) => ['confirmed', 'dropped_off', 'picked_up'].includes(b.status)).length,
      droppedOff: bookings.filter((b) => b.status === 'dropped_off').length,
      pickedUp: bookings.filter((b) => b.status === 'picked_up').length,
      absent: bookings.filter((b) => b.status === 'no_show' || b.status === 'turned_away').length,
      waiting: line.filter((e) => e.status === 'waiting').length,
    },
    children: bookings.map((b) => {
      const c = child(b.child);
      return {
        ...presentChildcareBooking(b),
        childName: c?.name ?? '',
        ageMonths: c ? ageInMonths(c.birthDate, session.start) : null,
        allergies: c ? listOf(c.allergies) : [],
        healthNotes: c?.healthNotes ?? null,
        guardians: c ? listOf(c.guardians).map((g) => ({ name: g.name, relation: g.relation })) : [],
      };
    }),
    waitlist: line.map((e) => ({ ...presentWaitlistEntry(e, e.status === 'waiting' ? (rank += 1) : null), childName: child(e.child)?.name ?? '' })),
  };
}
