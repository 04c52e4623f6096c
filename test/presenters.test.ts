import { expect } from 'chai';
import mongoose from 'mongoose';
import {
  Blackout, Child, ChildcareBooking, ChildcareSession, ChildcareWaitlistEntry, DeliveryRun, Facility, MealMenu, MealOrder,
  MealRating, MonthlyReport, Person, ProxyLink, RecurringMealOrder, Room, RoomBooking, ServiceRating, SubsidyRule, TimeBankEntry,
  UrgentAlert, VolunteerAbsence, VolunteerAssignment, VolunteerTask, WellnessAlert, WellnessVisit,
} from '../models/index.js';
import { asSelf } from '../src/auth/user.js';
import { presentChild, presentChildcareBooking, presentChildcareSession, presentWaitlistEntry } from '../src/presenters/childcare.js';
import {
  presentDeliveryRun, presentKitchen, presentMealMenu, presentMealOrder, presentMealRating, presentRecurring,
  presentSubsidyRule, presentWellnessAlert, presentWellnessVisit,
} from '../src/presenters/meal.js';
import { presentPerson } from '../src/presenters/person.js';
import { presentProxyLink } from '../src/presenters/proxyLink.js';
import { presentMonthlyReport } from '../src/presenters/monthlyReport.js';
import { presentBlackout, presentRoom } from '../src/presenters/room.js';
import { presentUrgentAlert } from '../src/presenters/urgentAlert.js';
import { presentRoomBooking, presentRoomRating } from '../src/presenters/roomBooking.js';
import { presentAbsence, presentAssignment, presentLedgerEntry, presentTask, presentVolunteer } from '../src/presenters/volunteer.js';
import { seedDemo } from '../src/seed/demo.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { createTestLogger } from './support/logs.js';
import { useCleanStorage } from './support/storage.js';

const { BSON } = mongoose.mongo;

/** A stored record three ways: a document, a lean record, and a lean record through BSON (the read cache). */
async function shapes(model: mongoose.Model<any>) {
  const docs = await model.find();
  const lean = await model.find().lean();
  const cached = lean.map((r) => BSON.deserialize(BSON.serialize(r)));
  return [...docs, ...lean, ...cached];
}

/** Drops every array and optional sub-object a document would default, as an older or hand-written record lacks them. */
function sparse(record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) if (!Array.isArray(v)) out[k] = v;
  return out;
}

describe('presenters on every stored record', () => {
  useCleanStorage();
  let admin: ReturnType<typeof asSelf>;

  before(async () => {
    await seedDemo(createTestLogger(), { password: 'demo-password-1', now: new Date() });
    const a = await Person.findOne({ roles: 'admin' }).lean();
    admin = asSelf(a!);
  });

  const cases: Array<[string, mongoose.Model<any>, (r: any) => unknown]> = [
    ['person', Person, (r) => presentPerson(r, admin)],
    ['volunteer', Person, (r) => presentVolunteer(r, admin)],
    ['kitchen', Facility, (r) => presentKitchen(r)],
    ['room', Room, (r) => presentRoom(r, { staff: true })],
    ['meal menu', MealMenu, (r) => presentMealMenu(r)],
    ['subsidy rule', SubsidyRule, (r) => presentSubsidyRule(r)],
    ['childcare session', ChildcareSession, (r) => presentChildcareSession(r)],
    ['child', Child, (r) => presentChild(r)],
    ['volunteer task', VolunteerTask, (r) => presentTask(r, admin)],
    ['meal order', MealOrder, (r) => presentMealOrder(r)],
    ['recurring order', RecurringMealOrder, (r) => presentRecurring(r)],
    ['delivery run', DeliveryRun, (r) => presentDeliveryRun(r)],
    ['wellness alert', WellnessAlert, (r) => presentWellnessAlert(r)],
    ['wellness visit', WellnessVisit, (r) => presentWellnessVisit(r)],
    ['meal rating', MealRating, (r) => presentMealRating(r)],
    ['childcare booking', ChildcareBooking, (r) => presentChildcareBooking(r)],
    ['waitlist entry', ChildcareWaitlistEntry, (r) => presentWaitlistEntry(r, 1)],
    ['assignment', VolunteerAssignment, (r) => presentAssignment(r)],
    ['ledger entry', TimeBankEntry, (r) => presentLedgerEntry(r)],
    ['absence', VolunteerAbsence, (r) => presentAbsence(r)],
    ['room rating', ServiceRating, (r) => presentRoomRating(r)],
    ['room booking', RoomBooking, (r) => presentRoomBooking(r)],
    ['blackout', Blackout, (r) => presentBlackout(r)],
    ['proxy link', ProxyLink, (r) => presentProxyLink(r)],
    ['urgent alert', UrgentAlert, (r) => presentUrgentAlert(r, '0571-00000000')],
    ['monthly report', MonthlyReport, (r) => presentMonthlyReport(r)],
  ];

  // Stored but never presented to a client as a record of its own (internal, or shown through another's presenter).
  const NOT_PRESENTED = new Set([
    'Community', 'Identity', 'OpeningHours', 'RefreshToken', 'AuditEntry', 'CapacityClaim', 'NoShow', 'Notification',
    'NotificationDelivery', 'BookingBlock', 'SubscriptionGrant', 'JobRun', 'IdempotencyRecord', 'Calendar',
    // The staff reports' per-day read model: its numbers go out through the dashboard and report presenters.
    'DailyFigures', 'DailyStamp',
    // Which months a person's own list spans: how the list is read, not a record.
    'ListHorizon',
  ]);

  it('has a presenter case for every model the seed stores records of', async () => {
    const presented = new Set(cases.map(([, model]) => model.modelName));
    const missing: string[] = [];
    for (const name of mongoose.modelNames()) {
      if (presented.has(name) || NOT_PRESENTED.has(name)) continue;
      if ((await mongoose.model(name).estimatedDocumentCount()) > 0) missing.push(name);
    }
    expect(missing, 'seeded models no presenter case covers').to.deep.equal([]);
  });

  for (const [name, model, present] of cases) {
    it(`presents every seeded ${name} as a document, a lean record, a cached record and a sparse record`, async () => {
      const records = await shapes(model);
      for (const r of records) {
        expect(() => present(r), `${name} ${String(r._id)}`).not.to.throw();
        const plain = typeof r.toObject === 'function' ? r.toObject() : r;
        const out = JSON.stringify(present(sparse(plain)));
        expect(out).not.to.include('"undefined"');
      }
    });
  }

  it('presents a room booking and a proxy link with any field missing', () => {
    const id = new mongoose.Types.ObjectId();
    expect(JSON.stringify(presentRoomBooking({ _id: id } as never))).not.to.include('"undefined"');
    expect(() => presentProxyLink({ _id: id } as never)).not.to.throw();
  });

  it('presents legacy records: an urgent alert without its arrays, a lean childcare booking, a report missing a section', () => {
    const id = new mongoose.Types.ObjectId();
    const alert = presentUrgentAlert({ _id: id, person: id, raisedBy: id, source: 'bot', status: 'open', raisedAt: new Date() } as never, '');
    expect(alert).to.include({ recipients: 0, dutyPhone: null });
    expect(alert.words).to.deep.equal([]);
    const booking = presentChildcareBooking({ _id: id, session: id, centre: id, child: id, bookedFor: id, bookedBy: id, status: 'booked' } as never);
    expect(booking.createdAt).to.equal(null);
    const report = presentMonthlyReport({ _id: id, community: id, month: '2026-01', generatedAt: new Date(), figures: { meals: { orders: 1 } } } as never);
    expect(report).to.include({ partial: false, ratings: null, rooms: null });
    expect(JSON.stringify([alert, booking, report])).not.to.include('"undefined"');
  });

  it('shows a profile without a community as null, not "undefined"', () => {
    const p = { _id: new mongoose.Types.ObjectId(), status: 'pending', roles: ['resident'] };
    const out = presentPerson(p as never, asSelf(p as never));
    expect(out.community).to.equal(null);
    expect(out.dietaryNeeds).to.deep.equal([]);
  });
});

describe('GET /me for every demo account', () => {
  useCleanStorage();
  let app: ReturnType<typeof createTestApp>;
  before(async () => {
    app = createTestApp();
    await seedDemo(createTestLogger(), { password: 'demo-password-1', now: new Date() });
  });

  it('answers 200 with the person for every seeded person, twice (the second from the read cache)', async () => {
    const people = await Person.find();
    expect(people.length).to.be.greaterThan(5);
    for (const person of people) {
      const auth = await bearerFor(person);
      for (const round of [1, 2]) {
        const res = await app.request.get('/api/v1/me').set('Authorization', auth);
        expect(res.status, `${person.name} round ${round}: ${res.text}`).to.equal(200);
        expect(res.body.id).to.equal(String(person._id));
      }
    }
  });
});
