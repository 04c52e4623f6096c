import { trusted, Types } from 'mongoose';
import type { Redis } from 'ioredis';
import { AuditEntry } from '../../models/auditEntry.js';
import { Child } from '../../models/child.js';
import { Identity } from '../../models/identity.js';
import type { PersonDoc } from '../../models/person.js';
import { ProxyLink } from '../../models/proxyLink.js';
import { ChildcareBooking } from '../../models/childcareBooking.js';
import { ChildcareWaitlistEntry } from '../../models/childcareWaitlist.js';
import { MealOrder } from '../../models/mealOrder.js';
import { MealRating } from '../../models/mealRating.js';
import { Notification } from '../../models/notification.js';
import { NotificationRead } from '../../models/notificationRead.js';
import { RecurringMealOrder } from '../../models/recurringMealOrder.js';
import { RoomBooking } from '../../models/roomBooking.js';
import { ServiceRating } from '../../models/serviceRating.js';
import { TimeBankEntry } from '../../models/timeBankEntry.js';
import { VolunteerAbsence } from '../../models/volunteerAbsence.js';
import { VolunteerAssignment } from '../../models/volunteerAssignment.js';
import { WellnessAlert } from '../../models/wellnessAlert.js';
import { WellnessVisit } from '../../models/wellnessVisit.js';
import { revokeAllSessions, type SessionSettings } from '../auth/sessions.js';
import type { AuthUser } from '../auth/user.js';
import { presentChild, presentChildcareBooking, presentWaitlistEntry } from '../presenters/childcare.js';
import { presentMealOrder, presentMealRating, presentRecurring, presentWellnessAlert, presentWellnessVisit } from '../presenters/meal.js';
import { presentMyNotification } from '../presenters/notification.js';
import { presentPerson } from '../presenters/person.js';
import { presentRoomBooking, presentRoomRating } from '../presenters/roomBooking.js';
import { presentAbsence, presentAssignment, presentLedgerEntry, presentVolunteer } from '../presenters/volunteer.js';
import { forgetBotContacts } from '../outbox/contacts.js';
import { auditAction } from './audit.js';
import { deletePersonExports } from './personalDataExport.js';
import { forgetMealContacts } from './mealOrders.js';

/** At most this many records of one kind in an export (the newest); more is a request to staff. */
export const EXPORT_LIMIT = 5_000;

/**
 * Everything held about the person, as they may download it (prepared in the background by
 * personalDataExport.ts, downloaded from GET /me/exports/{id}/file): the person
 * (presented as they see themselves, never the raw document), sign-ins (provider and since,
 * no subject), 代办 links, children, the access log, and every record of each service made
 * for or by them: room bookings, meal orders and standing orders, childcare bookings and
 * waitlist entries, volunteer assignments, absences and time bank, wellness alerts and visits
 * about them, their ratings and the notifications they were sent (with read marks). Each goes
 * through its own presenter, so the export shows what the API shows and nothing internal.
 */
export async function exportPersonData(person: PersonDoc, viewer: AuthUser) {
  const me = person._id;
  const newest = <T>(query: { sort: (s: Record<string, 1 | -1>) => { limit: (n: number) => T } }) => query.sort({ createdAt: -1 }).limit(EXPORT_LIMIT);
  // "For or by me" as two equality reads, merged: FerretDB v1 does not push an `$or` down, so one
  // `$or` read decoded every record of the collection, growing with its history (bench:year).
  // The second read is "by me for someone else" (`$ne` is filtered after the pushed-down
  // equality): what one books for oneself comes once, not twice.
  // A resident books for someone else only as their 代办, so for the booking collections that
  // read is one `{bookedFor: elder, bookedBy: me}` per elder they act (or acted) for: `bookedBy`
  // has no index, and a read by it alone scanned the whole collection (a year: 61,200 meal-order
  // rows for a person with 1,200). Staff book for anyone: theirs stays the `bookedBy` read.
  const staffish = (person.roles ?? []).some((r) => r === 'staff' || r === 'admin');
  const actedFor = staffish ? null : [...new Set((await ProxyLink.find({ proxy: me }).select({ elder: 1 }).lean()).map((l) => String(l.elder)))]
    .filter((id) => id !== String(me)).map((id) => new Types.ObjectId(id));
  const either = async <D extends { _id: unknown; get(path: string): unknown }>(
    model: { find(filter: Record<string, unknown>): { sort: (s: Record<string, 1 | -1>) => { limit: (n: number) => Promise<D[]> } } },
    a: string,
    b: string,
  ): Promise<D[]> => {
    const byMe = a === 'bookedFor' && actedFor
      ? Promise.all(actedFor.map((elder) => newest(model.find({ bookedFor: elder, bookedBy: me })))).then((lists) => lists.flat())
      : newest(model.find({ [b]: me, [a]: trusted({ $ne: me }) }));
    const [first, second] = await Promise.all([newest(model.find({ [a]: me })), byMe]);
    const byId = new Map([...first, ...second].map((d) => [String(d._id), d]));
    const at = (d: D) => (d.get('createdAt') as Date | undefined)?.getTime() ?? 0;
    return [...byId.values()].sort((x, y) => at(y) - at(x)).slice(0, EXPORT_LIMIT);
  };
  const [
    identities, links, children, audit, roomBookings, mealOrders, standingOrders, childcareBookings, waitlist,
    assignments, absences, timeBank, alerts, visits, mealRatings, roomRatings, notifications,
  ] = await Promise.all([
    Identity.find({ person: me }),
    either(ProxyLink, 'proxy', 'elder'),
    Child.find({ parents: me }),
    AuditEntry.find({ subject: me }).sort({ at: -1 }).limit(1000),
    either(RoomBooking, 'bookedFor', 'bookedBy'),
    either(MealOrder, 'bookedFor', 'bookedBy'),
    either(RecurringMealOrder, 'bookedFor', 'bookedBy'),
    either(ChildcareBooking, 'bookedFor', 'bookedBy'),
    either(ChildcareWaitlistEntry, 'bookedFor', 'bookedBy'),
    newest(VolunteerAssignment.find({ volunteer: me })),
    newest(VolunteerAbsence.find({ volunteer: me })),
    either(TimeBankEntry, 'volunteer', 'beneficiary'),
    newest(WellnessAlert.find({ elder: me })),
    newest(WellnessVisit.find({ elder: me })),
    either(MealRating, 'person', 'by'),
    either(ServiceRating, 'person', 'by'),
    Notification.find({ person: me }).sort({ dueAt: -1 }).limit(EXPORT_LIMIT).lean(),
  ]);
  // The person's marks by equality (a mark carries its notification's person), not `$in` over every mark.
  const marks = await NotificationRead.find({ person: me }).lean();
  const readAt = new Map(marks.map((m) => [String(m.notification), m.readAt]));
  return {
    exportedAt: new Date(),
    person: presentPerson(person, viewer),
    volunteer: person.volunteer?.registeredAt ? presentVolunteer(person, viewer) : null,
    signIns: identities.map((i) => ({ provider: i.provider, since: i.get('createdAt') as Date })),
    proxyLinks: links.map((l) => ({
      id: String(l._id),
      role: String(l.proxy) === String(me) ? 'proxy' : 'elder',
      relation: l.relation,
      status: l.status,
    })),
    children: children.map((c) => presentChild(c)),
    accessLog: audit.map((a) => ({ action: a.action, at: a.at, fields: a.fields ?? [] })),
    roomBookings: roomBookings.map((b) => presentRoomBooking(b)),
    mealOrders: mealOrders.map((o) => presentMealOrder(o)),
    standingMealOrders: standingOrders.map((r) => presentRecurring(r)),
    childcareBookings: childcareBookings.map((b) => presentChildcareBooking(b)),
    childcareWaitlist: waitlist.map((e) => presentWaitlistEntry(e, null)),
    volunteerAssignments: assignments.map((a) => presentAssignment(a)),
    volunteerAbsences: absences.map((a) => presentAbsence(a)),
    timeBank: timeBank.map((e) => ({ id: String(e._id), ...presentLedgerEntry(e) })),
    wellnessAlerts: alerts.map((a) => presentWellnessAlert(a)),
    wellnessVisits: visits.map((v) => presentWellnessVisit(v)),
    mealRatings: mealRatings.map((r) => presentMealRating(r)),
    roomRatings: roomRatings.map((r) => presentRoomRating(r)),
    notifications: notifications.map((note) => presentMyNotification({ note, readAt: readAt.get(String(note._id)) ?? null })),
  };
}

/**
 * Deletion on request: erases what identifies the person and keeps what the statistics need
 * (community, grid, building, tags, birth year, roles). Sign-ins, sessions, bot bindings and
 * 代办 links end at once; data exports are deleted.
 */
export async function anonymisePerson(
  deps: { sessions: SessionSettings; redis: Redis },
  person: PersonDoc,
  requestId?: string,
): Promise<void> {
  const birthYear = person.birthDate ? new Date(Date.UTC(person.birthDate.getUTCFullYear(), 6, 1)) : undefined;
  person.set({
    status: 'anonymised',
    name: '已注销居民',
    phone: undefined,
    birthDate: birthYear,
    gender: undefined,
    address: { building: person.address?.building, unit: undefined, room: undefined },
    emergencyContact: undefined,
    dietaryNeeds: [],
    // Staff's note on a refused sign-up may describe the person.
    verificationRejection: undefined,
  });
  // A volunteer's photo identifies them; skills and hours stay for the service statistics.
  if (person.volunteer?.photoUrl) person.set('volunteer.photoUrl', undefined);
  await person.save();
  await Identity.deleteMany({ person: person._id });
  // An export is a copy of everything this erases.
  await deletePersonExports(person._id);
  await forgetBotContacts(person._id);
  await forgetMealContacts(person._id, deps.redis);
  await ProxyLink.updateMany(
    { $or: [{ proxy: person._id }, { elder: person._id }], status: trusted({ $ne: 'revoked' }) },
    { $set: { status: 'revoked', revokedAt: new Date() } },
  );
  await revokeAllSessions(deps.sessions, person._id);
  await deps.redis.del(`wechat:session-key:${person._id}`);
  await auditAction(person._id, 'person.anonymise', person._id, { requestId });
}
