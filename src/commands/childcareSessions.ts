import { Types, trusted } from 'mongoose';
import { atShanghai } from '../../models/calendar.js';
import { CapacityClaim } from '../../models/capacityClaim.js';
import { Child } from '../../models/child.js';
import { ChildcareBooking, type ChildcareBookingDoc } from '../../models/childcareBooking.js';
import {
  CHILDCARE_CLASSES, ChildcareSession, sessionCapacity, type ChildcareClassType,
} from '../../models/childcareSession.js';
import { ChildcareWaitlistEntry } from '../../models/childcareWaitlist.js';
import { Facility, type FacilityDoc } from '../../models/facility.js';
import type { AuthUser } from '../auth/user.js';
import { isAdmin } from '../auth/user.js';
import { openingLabel, withinOpeningHours } from '../booking/time.js';
import { BookingRuleError, ConflictError, NotFoundError } from '../errors.js';
import type { SessionWithCentre } from '../policies/childcare.js';
import { isDuplicateKey } from '../storage/mongo.js';
import {
  HOLDING_BOOKING, offerFreedPlaces, placeKey, refreshBooked, repackPlaces, withdrawOffer, type ChildcareDeps,
} from './childcarePlaces.js';
import { markDaysChanged } from './dailyFigures.js';

/** Loads a session with its centre; 404 when there is none. */
export async function findChildcareSession(id: string): Promise<SessionWithCentre> {
  const session = Types.ObjectId.isValid(id) ? await ChildcareSession.findById(id) : null;
  const centre = session ? await Facility.findById(session.centre) : null;
  if (!session || !centre) throw NotFoundError('没有找到这个托育时段');
  return Object.assign(session, { centre }) as unknown as SessionWithCentre;
}

export async function findChildcareCentre(id: string): Promise<FacilityDoc> {
  const centre = Types.ObjectId.isValid(id) ? await Facility.findById(id) : null;
  if (!centre || centre.kind !== 'childcare_centre') throw NotFoundError('没有找到这个托育中心');
  return centre;
}

export interface SessionRequest {
  date: string;
  from: string;
  to: string;
  classType: ChildcareClassType;
  carersOnShift: number;
  /** Lower than the ratio allows, if staff want (never higher). */
  capacity?: number;
}

function capacityFor(classType: ChildcareClassType, carers: number, wanted?: number): number {
  const max = sessionCapacity(classType, carers);
  if (wanted !== undefined && wanted > max) {
    const cls = CHILDCARE_CLASSES[classType];
    throw BookingRuleError(400, 'capacity_above_ratio',
      `${classType}每名保育人员最多照看 ${cls.childrenPerCarer} 名幼儿、每班最多 ${cls.maxChildren} 名，${carers} 名保育人员最多 ${max} 个名额`);
  }
  return wanted ?? max;
}

/** Staff open a session of a class type at their centre. */
export async function createChildcareSession(centre: FacilityDoc, req: SessionRequest) {
  const start = atShanghai(req.date, req.from);
  const end = atShanghai(req.date, req.to);
  if (end <= start) throw BookingRuleError(400, 'session_time_invalid', '结束时间需晚于开始时间');
  // Children are only cared for while the centre is open (its opening hours, as for rooms).
  if (!withinOpeningHours(centre.openingHours ?? [], start, end)) {
    throw BookingRuleError(400, 'session_outside_hours',
      `托育时段需在中心开放时间内：${req.date} 当天开放时间为 ${openingLabel(centre.openingHours ?? [], start)}，请调整开始或结束时间`);
  }
  const capacity = capacityFor(req.classType, req.carersOnShift, req.capacity);
  try {
    const session = await ChildcareSession.create({
      centre: centre._id, date: req.date, start, end, classType: req.classType, carersOnShift: req.carersOnShift, capacity,
    });
    await markDaysChanged(centre.community, req.date);
    return session;
  } catch (err) {
    if (isDuplicateKey(err)) throw ConflictError('该托育中心这个时间已有同一班型的时段', 'session_exists');
    throw err;
  }
}

export interface OverCapacityChild {
  booking: ChildcareBookingDoc;
  childName: string;
}

/**
 * Staff change the carers on shift (and so the capacity: min(class maximum, carers × ratio),
 * or lower if they ask). Booked children are never dropped: after a reduction the answer names
 * the last-booked children beyond the new capacity, so staff can call in a carer or the
 * parents. Places are repacked under the new capacity (a freed place then goes to a child over
 * capacity before anyone in line); an offer whose place is gone is withdrawn; an increase
 * offers the new places to the line.
 */
export async function updateChildcareSession(
  deps: ChildcareDeps,
  user: AuthUser,
  session: SessionWithCentre,
  req: { carersOnShift?: number; capacity?: number },
  now = new Date(),
): Promise<{ session: SessionWithCentre; overCapacity: OverCapacityChild[] }> {
  const carers = req.carersOnShift ?? session.carersOnShift;
  const capacity = capacityFor(session.classType, carers, req.capacity);
  const before = session.capacity;
  await ChildcareSession.updateOne({ _id: session._id }, { $set: { carersOnShift: carers, capacity } });
  if (capacity !== before) await markDaysChanged(session.centre.community, session.date);
  const updated = await findChildcareSession(String(session._id));
  if (capacity < before) {
    const gone = await repackPlaces(updated);
    for (const holder of gone) {
      const entry = await ChildcareWaitlistEntry.findOne({ session: session._id, booking: holder, status: 'offered' });
      if (entry) await withdrawOffer(entry, user.id);
    }
  } else if (capacity > before) {
    await offerFreedPlaces(deps, session._id, now);
  }
  await refreshBooked(session._id);
  const bookings = await ChildcareBooking.find({ session: session._id, status: trusted({ $in: [...HOLDING_BOOKING] }) }).sort({ createdAt: 1, _id: 1 });
  const over = bookings.slice(capacity);
  const children = await Child.find({ _id: trusted({ $in: over.map((b) => b.child) }) }).lean();
  const names = new Map(children.map((c) => [String(c._id), c.name]));
  return {
    session: (await findChildcareSession(String(session._id))),
    overCapacity: over.map((booking) => ({ booking, childName: names.get(String(booking.child)) ?? '' })),
  };
}

export interface AvailabilityQuery {
  date: string;
  centre?: FacilityDoc;
  classType?: ChildcareClassType;
}

/**
 * Sessions of a day with their free places: at one centre, or at the childcare centres of the
 * caller's community (admins without one: every centre). `free` counts places neither booked
 * nor held for a waitlist offer; `waiting` is the length of the line.
 */
export async function childcareAvailability(user: AuthUser, query: AvailabilityQuery) {
  let centres: FacilityDoc[];
  if (query.centre) centres = [query.centre];
  else if (user.person.community) centres = await Facility.find({ community: user.person.community, kind: 'childcare_centre' });
  else centres = isAdmin(user) ? await Facility.find({ kind: 'childcare_centre' }) : [];
  const filter: Record<string, unknown> = { date: query.date, centre: trusted({ $in: centres.map((c) => c._id) }) };
  if (query.classType) filter.classType = query.classType;
  const sessions = await ChildcareSession.find(filter).sort({ start: 1, classType: 1 });
  const ids = sessions.map((s) => s._id);
  // One equality read per session (a day has a few): FerretDB v1 pushes equality down to the
  // store but filters `$in` in Go after decoding every document, so `$in` grew with history.
  const perSession = <T>(read: (id: (typeof ids)[number]) => Promise<T[]>) => Promise.all(ids.map(read)).then((r) => r.flat());
  const holding = new Set<string>(HOLDING_BOOKING);
  const [claims, bookings, waiting] = await Promise.all([
    perSession((id) => CapacityClaim.find({ key: placeKey(id) }).lean()),
    perSession((id) => ChildcareBooking.find({ session: id }).select('session status').lean()).then((all) => all.filter((b) => holding.has(b.status))),
    perSession((id) => ChildcareWaitlistEntry.find({ session: id, status: 'waiting' }).select('session').lean()),
  ]);
  const tally = (values: Array<{ toString(): string }>) => {
    const m = new Map<string, number>();
    for (const v of values) m.set(String(v), (m.get(String(v)) ?? 0) + 1);
    return m;
  };
  const held = tally(claims.filter((c) => {
    const s = sessions.find((x) => placeKey(x._id) === c.key);
    return s && c.slot < s.capacity;
  }).map((c) => c.key));
  const booked = tally(bookings.map((b) => b.session));
  const inLine = tally(waiting.map((w) => w.session));
  const names = new Map(centres.map((c) => [String(c._id), c.name]));
  return sessions.map((s) => {
    const free = Math.max(0, s.capacity - (held.get(placeKey(s._id)) ?? 0));
    return {
      session: s,
      centreName: names.get(String(s.centre)) ?? '',
      booked: booked.get(String(s._id)) ?? 0,
      free,
      waiting: inLine.get(String(s._id)) ?? 0,
    };
  });
}

/** Who is booked into a session, their health checks and pick-ups, and the line: for staff. */
export async function sessionAttendance(session: SessionWithCentre) {
  const [bookings, line] = await Promise.all([
    ChildcareBooking.find({ session: session._id }).sort({ createdAt: 1 }),
    ChildcareWaitlistEntry.find({ session: session._id, status: trusted({ $in: ['waiting', 'offered'] }) }).sort({ seq: 1 }),
  ]);
  const children = await Child.find({ _id: trusted({ $in: [...bookings.map((b) => b.child), ...line.map((e) => e.child)] }) });
  return { bookings, line, children: new Map(children.map((c) => [String(c._id), c])) };
}
