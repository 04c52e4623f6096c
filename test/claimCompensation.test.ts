import { expect } from 'chai';
import { Types, trusted } from 'mongoose';
import { atShanghai, dayjs, shanghaiDay } from '../models/calendar.js';
import {
  CapacityClaim, ChildcareSession, ChildcareWaitlistEntry, MealOrder, RoomBooking, TimeBankEntry, VolunteerAssignment, WellnessAlert,
  type CommunityDoc, type FacilityDoc,
} from '../models/index.js';
import { asSelf } from '../src/auth/user.js';
import { offerFreedPlaces } from '../src/commands/childcarePlaces.js';
import { releaseOrphanClaims } from '../src/commands/orphanClaims.js';
import { closeWellnessAlert } from '../src/commands/wellness.js';
import { earnTimeBank } from '../src/commands/timeBank.js';
import { announceVolunteerTasks } from '../src/commands/volunteerAnnouncements.js';
import { armFailpoint, disarmFailpoints, isArmed } from '../src/runtime/failpoints.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { testConfig, testEnvironment } from './support/env.js';
import { useCleanStorage } from './support/storage.js';
import {
  HEALTHY, bornYearsAgo, dayFromToday, makeChild, makeChildcareCentre, makeCommunity, makeFacility, makeKitchen, makeMenu,
  makeResident, makeRoom, makeSession, makeStaff, makeTask, makeVolunteer, shanghaiDayFromNow,
} from './factories/index.js';

// Failpoints may be armed in this process (src/runtime/failpoints.ts reads the flag when arming).
process.env.CSB_FAILPOINTS = '1';

const CHINESE = /[\u4e00-\u9fff]/;
const dayFromNow = (n: number) => dayjs.utc(shanghaiDay(new Date())).add(n, 'day').format('YYYY-MM-DD');
const at = (days: number, hhmm: string) => atShanghai(dayFromNow(days), hhmm).toISOString();

type Res = { status: number; headers: Record<string, string>; body: { error?: { code: string; message: string } } };

/** The answer to a request interrupted by the armed failpoint: 503 booking_interrupted, safe to retry. */
function expectInterrupted(res: Res, failpoint: string) {
  expect(isArmed(failpoint), `${failpoint} was never reached`).to.equal(false);
  expect(res.status, JSON.stringify(res.body)).to.equal(503);
  expect(res.body.error!.code).to.equal('booking_interrupted');
  expect(res.body.error!.message).to.match(CHINESE);
  expect(res.headers['retry-after']).to.match(/^\d+$/);
}

/** Claims under `key` (a prefix match when it ends with ':'). */
const claimsUnder = (key: string) =>
  CapacityClaim.countDocuments(key.endsWith(':') ? { key: trusted({ $regex: `^${key}` }) } : { key });
const stateClaims = (id: unknown) => CapacityClaim.countDocuments({ key: `state:${id}` });

describe('compensation: a failure after any claim step leaves no claim behind', () => {
  useCleanStorage();
  let request: ReturnType<typeof createTestApp>['request'];
  let community: CommunityDoc;
  let facility: FacilityDoc;
  let staffToken: string;

  before(async () => {
    ({ request } = createTestApp());
    community = await makeCommunity();
    facility = await makeFacility(community);
    const staff = (await makeStaff({ community: community._id, staffScope: { community: community._id, facilities: [facility._id] } })).person;
    staffToken = await bearerFor(staff);
  });
  afterEach(() => disarmFailpoints());

  describe('rooms', () => {
    let day = 1;
    const slot = (d: number, from = '09:00', to = '10:00') => ({ start: at(d, from), end: at(d, to), purpose: '书法练习', attendees: 4 });
    const book = async (roomId: unknown, body: object, token: string) =>
      request.post(`/api/v1/rooms/${roomId}/bookings`).set('Authorization', token).send(body);

    for (const point of ['rooms.create.afterQuota', 'rooms.create.afterUnits']) {
      it(`booking interrupted at ${point}: no unit or quota place left; the same request then books`, async () => {
        const room = await makeRoom(facility, { weeklyQuotaPerResident: 1 });
        const resident = await makeResident({ community: community._id });
        const token = await bearerFor(resident);
        day += 1;
        armFailpoint(point);
        expectInterrupted(await book(room._id, slot(day), token), point);
        expect(await claimsUnder(`room:${room._id}`)).to.equal(0);
        expect(await claimsUnder(`room-quota:${resident._id}:`)).to.equal(0);
        expect(await RoomBooking.countDocuments({ room: room._id })).to.equal(0);
        const ok = await book(room._id, slot(day), token);
        expect(ok.status, JSON.stringify(ok.body)).to.equal(201);
      });
    }

    it('a paid booking on a seeded room (no approvalRequiredFor) books, the issue-15 leak', async () => {
      const room = await makeRoom(facility);
      await room.collection.updateOne({ _id: room._id }, { $unset: { approvalRequiredFor: 1 } });
      const token = await bearerFor(await makeResident({ community: community._id }));
      day += 1;
      const res = await book(room._id, { ...slot(day), paid: true }, token);
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
    });

    for (const [point, action, body] of [
      ['rooms.transition.afterStateClaim', 'cancel', {}],
      ['rooms.move.afterUnits', 'move', null],
      ['rooms.move.afterStateClaim', 'move', null],
    ] as const) {
      it(`${action} interrupted at ${point}: the booking keeps exactly its units and can still ${action}`, async () => {
        const room = await makeRoom(facility);
        const token = await bearerFor(await makeResident({ community: community._id }));
        day += 1;
        const booked = (await book(room._id, slot(day), token)).body as unknown as { id: string };
        const send = () => request.post(`/api/v1/room-bookings/${booked.id}/${action}`).set('Authorization', action === 'cancel' ? token : staffToken)
          .send(body ?? { start: at(day, '11:00'), end: at(day, '12:00'), reason: '调整场地' });
        armFailpoint(point);
        expectInterrupted(await send(), point);
        expect(await stateClaims(booked.id)).to.equal(0);
        const units = (await CapacityClaim.find({ key: `room:${room._id}`, holder: booked.id }).lean()).map((c) => c.slot);
        expect(units).to.have.length(2); // 09:00–10:00, two 30-minute units, not the new ones
        expect((await RoomBooking.findById(booked.id))!.status).to.equal('confirmed');
        const again = await send();
        expect(again.status, JSON.stringify(again.body)).to.equal(200);
      });
    }

    it('series interrupted after its second occurrence: every occurrence taken back, nothing held; the same request then books', async () => {
      const room = await makeRoom(facility, { maxAdvanceDays: 60 });
      const token = await bearerFor(await makeResident({ community: community._id }));
      day += 1;
      const send = () => request.post(`/api/v1/rooms/${room._id}/bookings/series`).set('Authorization', token)
        .send({ ...slot(day), weeks: 3, mode: 'all_or_nothing' });
      armFailpoint('series.afterOccurrence', { after: 1 });
      expectInterrupted(await send(), 'series.afterOccurrence');
      expect(await RoomBooking.countDocuments({ room: room._id, status: trusted({ $in: ['pending', 'confirmed'] }) })).to.equal(0);
      expect(await claimsUnder(`room:${room._id}`)).to.equal(0);
      const again = await send();
      expect(again.status, JSON.stringify(again.body)).to.equal(201);
      expect(await RoomBooking.countDocuments({ room: room._id, status: 'confirmed' })).to.equal(3);
    });

    it('an occurrence interrupted inside createRoomBooking: the series answers 503 and keeps nothing', async () => {
      const room = await makeRoom(facility, { maxAdvanceDays: 60 });
      const token = await bearerFor(await makeResident({ community: community._id }));
      day += 1;
      armFailpoint('rooms.create.afterUnits', { after: 1 });
      expectInterrupted(await request.post(`/api/v1/rooms/${room._id}/bookings/series`).set('Authorization', token)
        .send({ ...slot(day), weeks: 3, mode: 'free_only' }), 'rooms.create.afterUnits');
      expect(await RoomBooking.countDocuments({ room: room._id, status: 'confirmed' })).to.equal(0);
      expect(await claimsUnder(`room:${room._id}`)).to.equal(0);
    });
  });

  describe('meals', () => {
    const newMenu = async (capacity: number) => makeMenu(await makeKitchen(community), { date: dayFromToday(2), capacity });
    const order = (menuId: unknown, token: string) =>
      request.post(`/api/v1/meal-menus/${menuId}/orders`).set('Authorization', token).send({ mode: 'dine_in' });

    for (const point of ['meals.place.afterPerson', 'meals.place.afterPlaces']) {
      it(`order interrupted at ${point}: the portion and the one-per-person claim go back`, async () => {
        const menu = await newMenu(1);
        const token = await bearerFor(await makeResident({ community: community._id }));
        armFailpoint(point);
        expectInterrupted(await order(menu._id, token), point);
        expect(await claimsUnder(`meal:${menu._id}`)).to.equal(0);
        expect(await claimsUnder(`meal-person:${menu._id}:`)).to.equal(0);
        expect((await order(menu._id, token)).status).to.equal(201);
      });
    }

    for (const point of ['meals.change.afterPlaces', 'meals.change.afterStateClaim', 'meals.change.afterHandOver']) {
      it(`change interrupted at ${point}: the order keeps its one portion, the extra goes back, it can change again`, async () => {
        const menu = await newMenu(2);
        const token = await bearerFor(await makeResident({ community: community._id }));
        const placed = (await order(menu._id, token)).body as unknown as { id: string };
        const change = () => request.patch(`/api/v1/meal-orders/${placed.id}`).set('Authorization', token).send({ quantity: 2 });
        armFailpoint(point);
        expectInterrupted(await change(), point);
        expect(await claimsUnder(`meal:${menu._id}`)).to.equal(1);
        expect(await stateClaims(placed.id)).to.equal(0);
        expect((await MealOrder.findById(placed.id))!.quantity).to.equal(1);
        expect((await change()).status).to.equal(200);
        expect(await claimsUnder(`meal:${menu._id}`)).to.equal(2);
      });
    }

    it('cancel interrupted after its state claim: the order can still be cancelled', async () => {
      const menu = await newMenu(2);
      const token = await bearerFor(await makeResident({ community: community._id }));
      const placed = (await order(menu._id, token)).body as unknown as { id: string };
      const cancel = () => request.post(`/api/v1/meal-orders/${placed.id}/cancel`).set('Authorization', token).send({});
      armFailpoint('meals.cancel.afterStateClaim');
      expectInterrupted(await cancel(), 'meals.cancel.afterStateClaim');
      expect(await stateClaims(placed.id)).to.equal(0);
      expect((await cancel()).status).to.equal(200);
      expect(await claimsUnder(`meal:${menu._id}`)).to.equal(0);
    });

    it('closing a wellness alert interrupted after its state claim: 503, the alert stays open and can still be closed', async () => {
      const kitchen = await makeKitchen(community);
      const elder = await makeResident({ community: community._id });
      const staff = (await makeStaff({ community: community._id })).person;
      const alert = await WellnessAlert.create({
        order: new Types.ObjectId(), elder: elder._id, community: community._id, kitchen: kitchen._id, kind: 'not_at_home',
        raisedBy: staff._id, raisedAt: new Date(), recipients: [], history: [{ from: null, to: 'open', at: new Date(), by: staff._id }],
      });
      armFailpoint('wellness.close.afterStateClaim');
      let failed: unknown;
      await closeWellnessAlert(asSelf(staff), alert, '已电话联系').catch((err: unknown) => { failed = err; });
      expect(isArmed('wellness.close.afterStateClaim')).to.equal(false);
      expect((failed as { code?: string }).code).to.equal('booking_interrupted');
      expect(await stateClaims(alert._id)).to.equal(0);
      expect((await WellnessAlert.findById(alert._id))!.status).to.equal('open');
      const closed = await closeWellnessAlert(asSelf(staff), alert, '已电话联系');
      expect(closed).to.include({ status: 'closed', resolution: '已电话联系' });
      expect(await stateClaims(alert._id)).to.equal(1);
    });
  });

  describe('childcare and its waitlist', () => {
    let centre: FacilityDoc;
    let minute = 0;
    const deps = () => ({ rules: testConfig().childcare, redis: testEnvironment().redis });
    const family = async () => {
      const parent = await makeResident({ community: community._id, birthDate: bornYearsAgo(30) });
      return { parent, child: await makeChild(parent), token: await bearerFor(parent) };
    };
    type Family = Awaited<ReturnType<typeof family>>;
    const session = (capacity: number) => {
      minute += 5;
      const from = dayjs.utc('2000-01-01T07:00:00Z').add(minute, 'minute').format('HH:mm');
      return makeSession(centre, { date: shanghaiDayFromNow(4), from, to: '20:00', carersOnShift: 1, capacity });
    };
    const book = (sessionId: unknown, f: Family) =>
      request.post(`/api/v1/childcare-sessions/${sessionId}/bookings`).set('Authorization', f.token)
        .send({ childId: String(f.child._id), healthDeclaration: HEALTHY });
    const claimsOfChild = (f: Family) => CapacityClaim.countDocuments({ key: trusted({ $regex: `${f.child._id}` }) });

    before(async () => {
      centre = await makeChildcareCentre(community);
    });

    for (const point of ['childcare.book.afterChild', 'childcare.book.afterMonth', 'childcare.book.afterPlace']) {
      it(`booking interrupted at ${point}: no place, month or child claim left; the same request then books`, async () => {
        const s = await session(1);
        const f = await family();
        armFailpoint(point);
        expectInterrupted(await book(s._id, f), point);
        expect(await claimsUnder(`childcare:${s._id}`)).to.equal(0);
        expect(await claimsOfChild(f)).to.equal(0);
        expect((await book(s._id, f)).status).to.equal(201);
      });
    }

    it('cancel interrupted after its state claim: the booking can still be cancelled', async () => {
      const s = await session(1);
      const f = await family();
      const booked = (await book(s._id, f)).body as unknown as { id: string };
      const cancel = () => request.post(`/api/v1/childcare-bookings/${booked.id}/cancel`).set('Authorization', f.token).send({});
      armFailpoint('childcare.transition.afterStateClaim');
      expectInterrupted(await cancel(), 'childcare.transition.afterStateClaim');
      expect(await stateClaims(booked.id)).to.equal(0);
      expect((await cancel()).status).to.equal(200);
      expect(await claimsUnder(`childcare:${s._id}`)).to.equal(0);
    });

    for (const point of ['childcare.cancel.beforeHandOver', 'waitlist.handOver.afterPlace']) {
      it(`a cancel whose hand-over fails at ${point}: answered 200 (the cancel stands), the place is free and the waitlist job offers it`, async () => {
        const s = await session(1);
        const [a, b] = [await family(), await family()];
        const aRes = (await book(s._id, a)).body as unknown as { id: string };
        expect((await book(s._id, b)).status).to.equal(202);
        armFailpoint(point);
        const res = await request.post(`/api/v1/childcare-bookings/${aRes.id}/cancel`).set('Authorization', a.token).send({});
        expect(isArmed(point), `${point} was never reached`).to.equal(false);
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        expect(res.body).to.include({ status: 'cancelled' });
        expect(await CapacityClaim.countDocuments({ holder: new Types.ObjectId(aRes.id), key: trusted({ $not: /^state:/ }) })).to.equal(0);
        const entry = (await ChildcareWaitlistEntry.findOne({ child: b.child._id, session: s._id }))!;
        expect(entry.status).to.equal('waiting');
        expect(await claimsUnder(`childcare:${s._id}`)).to.equal(0);
        expect(await offerFreedPlaces(deps(), s._id)).to.deep.equal({ offered: 1 });
        expect((await ChildcareWaitlistEntry.findById(entry._id))!.status).to.equal('offered');
      });
    }

    it('a cancel whose hand-over and release both fail: 200, claims.reconcile frees the place and the waitlist job offers it', async () => {
      const s = await session(1);
      const [a, b] = [await family(), await family()];
      const aRes = (await book(s._id, a)).body as unknown as { id: string };
      expect((await book(s._id, b)).status).to.equal(202);
      armFailpoint('childcare.cancel.beforeHandOver');
      armFailpoint('childcare.cancel.release');
      const res = await request.post(`/api/v1/childcare-bookings/${aRes.id}/cancel`).set('Authorization', a.token).send({});
      expect(isArmed('childcare.cancel.release')).to.equal(false);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      // The cancelled booking still holds its place: nothing can be offered yet.
      expect(await CapacityClaim.countDocuments({ key: `childcare:${s._id}`, holder: new Types.ObjectId(aRes.id) })).to.equal(1);
      expect(await offerFreedPlaces(deps(), s._id)).to.deep.equal({ offered: 0 });
      await releaseOrphanClaims({ limit: 1000, graceMinutes: 10 }, new Date(Date.now() + 11 * 60_000));
      expect(await CapacityClaim.countDocuments({ holder: new Types.ObjectId(aRes.id), key: trusted({ $not: /^state:/ }) })).to.equal(0);
      expect(await offerFreedPlaces(deps(), s._id)).to.deep.equal({ offered: 1 });
      expect((await ChildcareWaitlistEntry.findOne({ child: b.child._id, session: s._id }))!.status).to.equal('offered');
    });

    for (const point of ['waitlist.accept.afterMonth', 'waitlist.accept.afterStateClaim']) {
      it(`accepting an offer interrupted at ${point}: the offer still stands, the month is not counted, accepting again books`, async () => {
        const s = await session(1);
        const [a, b] = [await family(), await family()];
        const aRes = (await book(s._id, a)).body as unknown as { id: string };
        expect((await book(s._id, b)).status).to.equal(202);
        await request.post(`/api/v1/childcare-bookings/${aRes.id}/cancel`).set('Authorization', a.token).send({}).expect(200);
        const entry = (await ChildcareWaitlistEntry.findOne({ child: b.child._id, session: s._id }))!;
        expect(entry.status).to.equal('offered');
        const accept = () => request.post(`/api/v1/childcare-waitlist/${entry._id}/accept`).set('Authorization', b.token).send({ healthDeclaration: HEALTHY });
        armFailpoint(point);
        expectInterrupted(await accept(), point);
        expect((await ChildcareWaitlistEntry.findById(entry._id))!.status).to.equal('offered');
        expect(await stateClaims(entry._id)).to.equal(entry.version);
        expect(await claimsUnder(`childcare-month:${b.child._id}:`)).to.equal(0);
        expect(await CapacityClaim.countDocuments({ key: `childcare:${s._id}`, holder: entry.booking })).to.equal(1);
        expect((await accept()).status).to.equal(201);
      });
    }

    for (const point of ['waitlist.offer.afterStateClaim', 'waitlist.offer.afterPlace']) {
      it(`an offer of a freed place interrupted at ${point}: the entry still waits, holds nothing, and is offered on the next run`, async () => {
        const s = await session(1);
        const [a, b] = [await family(), await family()];
        await book(s._id, a).expect(201);
        await book(s._id, b).expect(202);
        await ChildcareSession.updateOne({ _id: s._id }, { $set: { capacity: 2 } });
        const entry = (await ChildcareWaitlistEntry.findOne({ child: b.child._id, session: s._id }))!;
        armFailpoint(point);
        let failed: unknown;
        await offerFreedPlaces(deps(), s._id).catch((err: unknown) => { failed = err; });
        expect(isArmed(point)).to.equal(false);
        expect((failed as { code?: string }).code).to.equal('booking_interrupted');
        const after = (await ChildcareWaitlistEntry.findById(entry._id))!;
        expect(after.status).to.equal('waiting');
        expect(await stateClaims(entry._id)).to.equal(entry.version);
        expect(await CapacityClaim.countDocuments({ key: `childcare:${s._id}`, holder: entry.booking })).to.equal(0);
        expect(await offerFreedPlaces(deps(), s._id)).to.deep.equal({ offered: 1 });
      });
    }
  });

  describe('volunteers and the time bank', () => {
    for (const point of ['volunteers.claim.afterOne', 'volunteers.claim.afterTime', 'volunteers.claim.afterPlace']) {
      it(`claiming a task interrupted at ${point}: no task place, time or one-per-task claim left; claiming again works`, async () => {
        const task = await makeTask(facility, { peopleNeeded: 1 });
        const volunteer = await makeVolunteer({ community: community._id });
        const token = await bearerFor(volunteer);
        const claim = () => request.post(`/api/v1/volunteer-tasks/${task._id}/claim`).set('Authorization', token);
        armFailpoint(point);
        expectInterrupted(await claim(), point);
        expect(await claimsUnder(`task:${task._id}`)).to.equal(0);
        expect(await claimsUnder(`task-volunteer:${task._id}:`)).to.equal(0);
        expect(await claimsUnder(`volunteer-time:${volunteer._id}`)).to.equal(0);
        expect(await VolunteerAssignment.countDocuments({ task: task._id })).to.equal(0);
        expect((await claim()).status).to.equal(201);
      });
    }

    it('announcing tasks interrupted after the post claims: the claims go back and the next run posts', async () => {
      const task = await makeTask(facility, { start: new Date(Date.now() + 3 * 86_400_000) });
      const posted: string[][] = [];
      const board = { postTasks: async (sections: Array<{ tasks: Array<{ title: string }> }>) => { posted.push(sections.flatMap((s) => s.tasks.map((t) => t.title))); return true; } };
      armFailpoint('volunteers.announce.afterPostClaims');
      let failed: unknown;
      await announceVolunteerTasks(board as never, new Date()).catch((err: unknown) => { failed = err; });
      expect((failed as { code?: string }).code).to.equal('booking_interrupted');
      expect(await claimsUnder(`task-post:${task._id}:`)).to.equal(0);
      const second = await announceVolunteerTasks(board as never, new Date());
      expect(second.announced).to.be.greaterThan(0);
      expect(posted.flat()).to.include(task.title);
    });

    it('a redemption interrupted before its entry: 503, the balance unchanged, redeeming again works', async () => {
      const volunteer = await makeVolunteer({ community: community._id });
      const token = await bearerFor(volunteer);
      await earnTimeBank(volunteer._id, 120, new Types.ObjectId(), volunteer._id);
      const redeem = () => request.post(`/api/v1/volunteers/${volunteer._id}/time-bank/redeem`).set('Authorization', token).send({ hours: 1, service: 'meal' });
      armFailpoint('timebank.append.beforeEntry');
      expectInterrupted(await redeem(), 'timebank.append.beforeEntry');
      expect(await TimeBankEntry.countDocuments({ volunteer: volunteer._id })).to.equal(1);
      const ok = await redeem();
      expect(ok.status).to.equal(201);
      expect(ok.body).to.include({ balanceHours: 1 });
    });
  });

  it('failpoints cannot be armed without NODE_ENV=test or CSB_FAILPOINTS=1', () => {
    const saved = { flag: process.env.CSB_FAILPOINTS, env: process.env.NODE_ENV };
    delete process.env.CSB_FAILPOINTS;
    process.env.NODE_ENV = 'production';
    try {
      expect(() => armFailpoint('rooms.create.afterQuota')).to.throw(/disabled/);
    } finally {
      process.env.CSB_FAILPOINTS = saved.flag;
      if (saved.env === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = saved.env;
    }
  });
});
