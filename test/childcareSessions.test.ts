import { expect } from 'chai';
import { trusted } from 'mongoose';
import { CapacityClaim, ChildcareSession, ChildcareWaitlistEntry, type ChildcareClassType, type FacilityDoc, type PersonDoc } from '../models/index.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { useCleanStorage } from './support/storage.js';
import {
  HEALTHY, bornYearsAgo, makeChild, makeChildcareCentre, makeCommunity, makeResident, makeSession, makeStaff, shanghaiDayFromNow,
} from './factories/index.js';

const DAY = shanghaiDayFromNow(3);

describe('childcare sessions', () => {
  useCleanStorage();
  let request: ReturnType<typeof createTestApp>['request'];
  let community: Awaited<ReturnType<typeof makeCommunity>>;
  let centre: FacilityDoc;
  let parent: PersonDoc;
  let auth: { parent: string; staff: string; otherStaff: string };
  let minute = 0;

  const create = (body: object, token = auth.staff, centreId: unknown = centre._id) =>
    request.post(`/api/v1/childcare-centres/${centreId}/sessions`).set('Authorization', token).send(body);
  const nextFrom = () => {
    minute += 10;
    return `${String(8 + Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
  };
  const family = async () => {
    const p = await makeResident({ community: community._id, birthDate: bornYearsAgo(30) });
    return { child: await makeChild(p), token: await bearerFor(p) };
  };
  const book = async (sessionId: unknown, status?: number) => {
    const f = await family();
    const req = request.post(`/api/v1/childcare-sessions/${sessionId}/bookings`).set('Authorization', f.token)
      .send({ childId: String(f.child._id), healthDeclaration: HEALTHY });
    return status ? req.expect(status) : req;
  };
  const cancel = (bookingId: string) =>
    request.post(`/api/v1/childcare-bookings/${bookingId}/cancel`).set('Authorization', auth.staff).send({ reason: '家长电话取消' }).expect(200);
  const placesBelow = (sessionId: unknown, capacity: number) =>
    CapacityClaim.countDocuments({ key: `childcare:${sessionId}`, slot: trusted({ $lt: capacity }) });
  const placesFrom = (sessionId: unknown, capacity: number) =>
    CapacityClaim.countDocuments({ key: `childcare:${sessionId}`, slot: trusted({ $gte: capacity }) });

  before(async () => {
    ({ request } = createTestApp());
    community = await makeCommunity();
    centre = await makeChildcareCentre(community);
    const other = await makeChildcareCentre(community);
    parent = await makeResident({ community: community._id, birthDate: bornYearsAgo(30) });
    const staff = (await makeStaff({ community: community._id, staffScope: { community: community._id, facilities: [centre._id] } })).person;
    const otherStaff = (await makeStaff({ community: community._id, staffScope: { community: community._id, facilities: [other._id] } })).person;
    auth = { parent: await bearerFor(parent), staff: await bearerFor(staff), otherStaff: await bearerFor(otherStaff) };
  });

  describe('POST /api/v1/childcare-centres/:centreId/sessions', () => {
    const cases: Array<[ChildcareClassType, number, number]> = [
      ['乳儿班', 1, 3], ['乳儿班', 3, 9], ['乳儿班', 4, 10],
      ['托小班', 2, 10], ['托小班', 3, 15], ['托小班', 4, 15],
      ['托大班', 2, 14], ['托大班', 3, 20], ['托大班', 4, 20],
      ['混龄', 3, 15], ['混龄', 4, 18],
    ];
    for (const [classType, carers, capacity] of cases) {
      it(`${classType} with ${carers} carer(s) holds ${capacity} children`, async () => {
        const res = await create({ date: DAY, from: nextFrom(), to: '18:00', classType, carersOnShift: carers }).expect(201);
        expect(res.body).to.include({ classType, carersOnShift: carers, capacity, free: capacity, date: DAY });
      });
    }

    it('refuses a session outside the centre\'s opening hours (400 session_outside_hours)', async () => {
      const weekdayOf = (day: string) => new Date(`${day}T12:00:00+08:00`).getUTCDay();
      const next = (weekday: number) => [1, 2, 3, 4, 5, 6, 7].map((d) => shanghaiDayFromNow(d)).find((d) => weekdayOf(d) === weekday)!;
      const [monday, sunday] = [next(1), next(0)];
      // A community of its own: its Monday session must not show in the other tests' day listings
      // (next Monday is six days ahead on a Tuesday, the day GET /childcare-sessions lists).
      const own = await makeCommunity();
      const weekdays = await makeChildcareCentre(own, { openingHours: [1, 2, 3, 4, 5].map((weekday) => ({ weekday, open: '08:00', close: '18:00' })) });
      const staff = (await makeStaff({ community: own._id, staffScope: { community: own._id, facilities: [weekdays._id] } })).person;
      const token = await bearerFor(staff);
      for (const [date, from, to] of [[monday, '02:00', '03:30'], [monday, '18:00', '20:00'], [monday, '07:30', '09:00'], [sunday, '09:00', '11:00']]) {
        const res = await create({ date, from, to, classType: '托小班', carersOnShift: 2 }, token, weekdays._id);
        expect(res.status, `${date} ${from}–${to}`).to.equal(400);
        expect(res.body.error.code).to.equal('session_outside_hours');
        expect(res.body.error.message).to.match(date === sunday ? /开放时间为 不开放/ : /开放时间为 08:00–18:00/);
      }
      const within = await create({ date: monday, from: '08:00', to: '18:00', classType: '托小班', carersOnShift: 2 }, token, weekdays._id).expect(201);
      expect(within.body.date).to.equal(monday);
      expect(await ChildcareSession.countDocuments({ centre: weekdays._id })).to.equal(1);
    });

    it('takes a lower capacity, refuses one above the ratio (400 capacity_above_ratio)', async () => {
      const from = nextFrom();
      const lower = await create({ date: DAY, from, to: '12:00', classType: '托大班', carersOnShift: 2, capacity: 12 }).expect(201);
      expect(lower.body.capacity).to.equal(12);
      const above = await create({ date: DAY, from: nextFrom(), to: '12:00', classType: '托大班', carersOnShift: 2, capacity: 15 }).expect(400);
      expect(above.body.error.code).to.equal('capacity_above_ratio');
      expect(above.body.error.message).to.include('每名保育人员最多照看 7 名幼儿');
      const dup = await create({ date: DAY, from, to: '12:00', classType: '托大班', carersOnShift: 2 }).expect(409);
      expect(dup.body.error.code).to.equal('session_exists');
    });

    it('refuses a bad class type, a time that ends before it starts, residents, other centres\' staff and non-centres', async () => {
      const body = { date: DAY, from: nextFrom(), to: '18:00', classType: '托小班', carersOnShift: 2 };
      expect((await create({ ...body, classType: '大班' }).expect(400)).body.error.message).to.include('班型');
      expect((await create({ ...body, to: '06:00' }).expect(400)).body.error.code).to.equal('session_time_invalid');
      expect((await create(body, auth.parent).expect(403)).body.error.code).to.equal('forbidden');
      await create(body, auth.otherStaff).expect(403);
      await create(body, auth.staff, '65a1b2c3d4e5f6a7b8c9d0e1').expect(404);
    });
  });

  describe('GET /api/v1/childcare-sessions', () => {
    it('lists a day\'s sessions of the caller\'s community with free places and the line, by centre and class type', async () => {
      const date = shanghaiDayFromNow(6);
      const small = await makeSession(centre, { date, from: '08:30', to: '12:00', classType: '托小班', carersOnShift: 1, capacity: 1 });
      await makeSession(centre, { date, from: '08:30', to: '12:00', classType: '托大班', carersOnShift: 2 });
      await book(small._id);
      await book(small._id);
      const all = await request.get(`/api/v1/childcare-sessions?date=${date}`).set('Authorization', auth.parent).expect(200);
      expect(all.body.items.map((s: { classType: string }) => s.classType)).to.deep.equal(['托大班', '托小班']);
      const toddlers = await request.get(`/api/v1/childcare-sessions?date=${date}&classType=${encodeURIComponent('托小班')}&centre=${centre._id}`)
        .set('Authorization', auth.parent).expect(200);
      expect(toddlers.body.items).to.have.length(1);
      expect(toddlers.body.items[0]).to.include({ id: String(small._id), capacity: 1, booked: 1, free: 0, waiting: 1, centreName: centre.name });
      const one = await request.get(`/api/v1/childcare-sessions/${small._id}`).set('Authorization', auth.parent).expect(200);
      expect(one.body).to.include({ free: 0, waiting: 1 });
      const bad = await request.get('/api/v1/childcare-sessions?date=2026-02-30').set('Authorization', auth.parent).expect(400);
      expect(bad.body.error.message).to.include('日期');
      await request.get(`/api/v1/childcare-sessions?date=${date}`).expect(401);
    });
  });

  describe('PATCH /api/v1/childcare-sessions/:sessionId (carers on shift)', () => {
    it('recomputes capacity; a reduction drops nobody and names the last-booked children over capacity', async () => {
      const s = await makeSession(centre, { date: DAY, from: nextFrom(), to: '18:00', classType: '托小班', carersOnShift: 2 });
      const ids: string[] = [];
      for (let i = 0; i < 8; i += 1) ids.push((await book(s._id, 201)).body.id);
      await request.patch(`/api/v1/childcare-sessions/${s._id}`).set('Authorization', auth.parent).send({ carersOnShift: 1 }).expect(403);
      await request.patch(`/api/v1/childcare-sessions/${s._id}`).set('Authorization', auth.otherStaff).send({ carersOnShift: 1 }).expect(403);
      const res = await request.patch(`/api/v1/childcare-sessions/${s._id}`).set('Authorization', auth.staff).send({ carersOnShift: 1 }).expect(200);
      expect(res.body.session).to.include({ carersOnShift: 1, capacity: 5, booked: 8 });
      expect(res.body.overCapacity.map((o: { booking: string }) => o.booking)).to.deep.equal(ids.slice(5));
      expect(res.body.overCapacity[0].childName).to.match(/^测试宝宝/);
      // Every place below the new capacity is taken (repacked), the rest sit above it: nobody is dropped.
      expect(await placesBelow(s._id, 5)).to.equal(5);
      expect(await placesFrom(s._id, 5)).to.equal(3);

      // So a new request waits, even though the claims were spread over ten places before.
      const waiting = await book(s._id, 202);

      // Places freed below the capacity go to the children over capacity first, then to the line.
      for (const id of ids.slice(0, 3)) await cancel(id);
      expect(await placesBelow(s._id, 5)).to.equal(5);
      expect(await placesFrom(s._id, 5)).to.equal(0);
      expect((await ChildcareWaitlistEntry.findById(waiting.body.id))!.status).to.equal('waiting');
      await cancel(ids[3]!);
      expect((await ChildcareWaitlistEntry.findById(waiting.body.id))!.status).to.equal('offered');
      expect(await placesBelow(s._id, 5)).to.equal(5);

      // Cancelling a child over capacity frees no place below it.
      const again = await request.patch(`/api/v1/childcare-sessions/${s._id}`).set('Authorization', auth.staff).send({ carersOnShift: 0 }).expect(200);
      expect(again.body.session.capacity).to.equal(0);
      expect(again.body.overCapacity).to.have.length(4);
      expect(await placesFrom(s._id, 0)).to.equal(4); // the held offer was withdrawn
      expect((await ChildcareWaitlistEntry.findById(waiting.body.id))!.status).to.equal('waiting');
    });

    it('an increase offers the new places to the line in order', async () => {
      const s = await makeSession(centre, { date: DAY, from: nextFrom(), to: '18:00', classType: '混龄', carersOnShift: 1 });
      for (let i = 0; i < 5; i += 1) await book(s._id, 201);
      const line = [];
      for (let i = 0; i < 9; i += 1) line.push((await book(s._id, 202)).body.id);
      const res = await request.patch(`/api/v1/childcare-sessions/${s._id}`).set('Authorization', auth.staff).send({ carersOnShift: 2 }).expect(200);
      expect(res.body.session.capacity).to.equal(10);
      expect(res.body.overCapacity).to.deep.equal([]);
      const statuses = await Promise.all(line.map(async (id) => (await ChildcareWaitlistEntry.findById(id))!.status));
      expect(statuses).to.deep.equal([...Array(5).fill('offered'), ...Array(4).fill('waiting')]);
      expect(await placesBelow(s._id, 10)).to.equal(10);
      const above = await request.patch(`/api/v1/childcare-sessions/${s._id}`).set('Authorization', auth.staff).send({ carersOnShift: 2, capacity: 11 }).expect(400);
      expect(above.body.error.code).to.equal('capacity_above_ratio');
      expect((await ChildcareSession.findById(s._id))!.capacity).to.equal(10);
    });
  });

  describe('GET /api/v1/childcare-sessions/:sessionId/attendance', () => {
    it('gives the centre\'s staff each child with allergies and health notes; others 403', async () => {
      const s = await makeSession(centre, { date: DAY, from: nextFrom(), to: '18:00' });
      const child = await makeChild(parent, { allergies: ['花生'], healthNotes: '哮喘，备有喷雾' });
      await request.post(`/api/v1/childcare-sessions/${s._id}/bookings`).set('Authorization', auth.parent)
        .send({ childId: String(child._id), healthDeclaration: HEALTHY }).expect(201);
      const sheet = await request.get(`/api/v1/childcare-sessions/${s._id}/attendance`).set('Authorization', auth.staff).expect(200);
      expect(sheet.body.counts).to.deep.equal({ booked: 1, droppedOff: 0, pickedUp: 0, absent: 0, waiting: 0 });
      expect(sheet.body.children[0]).to.include({ childName: child.name, healthNotes: '哮喘，备有喷雾', status: 'confirmed' });
      expect(sheet.body.children[0].allergies).to.deep.equal(['花生']);
      await request.get(`/api/v1/childcare-sessions/${s._id}/attendance`).set('Authorization', auth.parent).expect(403);
      await request.get(`/api/v1/childcare-sessions/${s._id}/attendance`).set('Authorization', auth.otherStaff).expect(403);
    });
  });
});
