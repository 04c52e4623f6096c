import { expect } from 'chai';
import { atShanghai, dayjs } from '../models/calendar.js';
import { BookingBlock, CapacityClaim, ChildcareBooking, ChildcareSession, NoShow, Notification, type ChildDoc, type ChildcareSessionDoc, type FacilityDoc, type PersonDoc } from '../models/index.js';
import { bookChildcare, cancelChildcareBooking, releaseChildcareNoShows } from '../src/commands/childcareBookings.js';
import { findChildcareSession } from '../src/commands/childcareSessions.js';
import { loadAuthUser } from '../src/middlewares/authenticate.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { testConfig, testEnvironment } from './support/env.js';
import { useCleanStorage } from './support/storage.js';
import {
  HEALTHY, bornYearsAgo, makeChild, makeChildBornOn, makeChildcareCentre, makeCommunity, makeResident, makeSession, makeStaff,
  shanghaiDayFromNow,
} from './factories/index.js';

const deps = () => ({ rules: testConfig().childcare, redis: testEnvironment().redis });
const DAY = shanghaiDayFromNow(3);
const shift = (day: string, n: number) => dayjs.utc(day).add(n, 'day').format('YYYY-MM-DD');
const monthsBefore = (day: string, months: number) => dayjs.utc(day).subtract(months, 'month').format('YYYY-MM-DD');

describe('childcare bookings', () => {
  useCleanStorage();
  let request: ReturnType<typeof createTestApp>['request'];
  let community: Awaited<ReturnType<typeof makeCommunity>>;
  let centre: FacilityDoc;
  let parent: PersonDoc;
  let staff: PersonDoc;
  let auth: { parent: string; staff: string };
  let hour = 0;

  /** A new 托小班 session on DAY (a distinct start each time), or on `date`. */
  const session = (overrides: Parameters<typeof makeSession>[1] = {}) => {
    hour += 1;
    const from = `${String(7 + Math.floor(hour / 6)).padStart(2, '0')}:${String((hour % 6) * 10).padStart(2, '0')}`;
    return makeSession(centre, { date: DAY, from, to: '19:00', ...overrides });
  };
  const book = (s: { _id: unknown }, child: { _id: unknown }, token = auth.parent, body: object = {}) =>
    request.post(`/api/v1/childcare-sessions/${s._id}/bookings`).set('Authorization', token)
      .send({ childId: String(child._id), healthDeclaration: HEALTHY, ...body });
  const bookDirect = async (who: PersonDoc, s: ChildcareSessionDoc, child: ChildDoc, now: Date) => {
    const outcome = await bookChildcare(deps(), await loadAuthUser(String(who._id), 'test'), await findChildcareSession(String(s._id)), child, { healthDeclaration: HEALTHY }, now);
    if (outcome.kind !== 'booked') throw new Error('expected a booking');
    return outcome.booking;
  };

  before(async () => {
    ({ request } = createTestApp());
    community = await makeCommunity();
    centre = await makeChildcareCentre(community);
    parent = await makeResident({ community: community._id, birthDate: bornYearsAgo(31) });
    staff = (await makeStaff({ community: community._id, staffScope: { community: community._id, facilities: [centre._id] } })).person;
    auth = { parent: await bearerFor(parent), staff: await bearerFor(staff) };
  });

  describe('POST /api/v1/childcare-sessions/:sessionId/bookings', () => {
    it('books a place for the parent\'s child, with the health declaration, and claims it once', async () => {
      const s = await session();
      const child = await makeChild(parent);
      const res = await book(s, child, auth.parent, { healthDeclaration: { healthy: true, notes: '昨晚睡得好' } }).expect(201);
      expect(res.body).to.include({ status: 'confirmed', child: String(child._id), bookedFor: String(parent._id), classType: '托小班', date: DAY });
      expect(res.body).to.not.have.property('pickupCodeHash');
      expect(await CapacityClaim.countDocuments({ key: `childcare:${s._id}` })).to.equal(1);
      expect(await CapacityClaim.countDocuments({ key: `childcare-month:${child._id}:${DAY.slice(0, 7)}` })).to.equal(1);
      expect((await ChildcareSession.findById(s._id))!.booked).to.equal(1);
      const again = await book(s, child).expect(409);
      expect(again.body.error.code).to.equal('already_booked');
      expect(await CapacityClaim.countDocuments({ key: `childcare:${s._id}` })).to.equal(1);
    });

    describe('age on the session date must fit the class (乳儿班 6–12 months, 托小班 12–24)', () => {
      it('a child turning 12 months the day before the session is 12 months: 托小班, not 乳儿班', async () => {
        const child = await makeChildBornOn(parent, monthsBefore(shift(DAY, -1), 12));
        const infants = await session({ classType: '乳儿班', carersOnShift: 2 });
        const toddlers = await session({ classType: '托小班' });
        const refused = await book(infants, child).expect(409);
        expect(refused.body.error.code).to.equal('age_not_eligible');
        expect(refused.body.error.message).to.match(/乳儿班招收 6–12 个月的幼儿.*为 12 个月/);
        await book(toddlers, child).expect(201);
      });

      it('a child turning 12 months the day after the session is 11 months: 乳儿班, not 托小班', async () => {
        const child = await makeChildBornOn(parent, monthsBefore(shift(DAY, 1), 12));
        const infants = await session({ classType: '乳儿班', carersOnShift: 2 });
        const toddlers = await session({ classType: '托小班' });
        const refused = await book(toddlers, child).expect(409);
        expect(refused.body.error.code).to.equal('age_not_eligible');
        expect(refused.body.error.message).to.include('为 11 个月');
        await book(infants, child).expect(201);
      });

      it('a child turning 12 months on the session day is 12 months', async () => {
        const child = await makeChildBornOn(parent, monthsBefore(DAY, 12));
        await book(await session({ classType: '乳儿班', carersOnShift: 2 }), child).expect(409);
        await book(await session({ classType: '托小班' }), child).expect(201);
      });

      it('混龄 takes children from 18 months', async () => {
        const s = await session({ classType: '混龄', carersOnShift: 2 });
        const young = await makeChildBornOn(parent, monthsBefore(shift(DAY, 1), 18));
        expect((await book(s, young).expect(409)).body.error.code).to.equal('age_not_eligible');
        await book(s, await makeChildBornOn(parent, monthsBefore(DAY, 18))).expect(201);
      });
    });

    it('refuses a parent who does not declare the child well (400 health_declaration_required), or no declaration', async () => {
      const s = await session();
      const child = await makeChild(parent);
      const unwell = await book(s, child, auth.parent, { healthDeclaration: { healthy: false, notes: '有点咳嗽' } }).expect(400);
      expect(unwell.body.error.code).to.equal('health_declaration_required');
      expect(unwell.body.error.message).to.include('无发热');
      const missing = await request.post(`/api/v1/childcare-sessions/${s._id}/bookings`).set('Authorization', auth.parent)
        .send({ childId: String(child._id) }).expect(400);
      expect(missing.body.error.code).to.equal('validation_error');
      expect(missing.body.error.message).to.include('健康声明');
      expect(await CapacityClaim.countDocuments({ key: `childcare:${s._id}` })).to.equal(0);
    });

    it('closes booking at 17:00 the day before (staff may still book at the desk)', async () => {
      const s = await session();
      const child = await makeChild(parent);
      const user = await loadAuthUser(String(parent._id), 'test');
      const live = await findChildcareSession(String(s._id));
      const late = await bookChildcare(deps(), user, live, child, { healthDeclaration: HEALTHY }, atShanghai(shift(DAY, -1), '17:01')).catch((e) => e);
      expect(late.code).to.equal('booking_closed');
      expect(late.message).to.include('前一天 17:00 前预约');
      const inTime = await bookChildcare(deps(), user, live, child, { healthDeclaration: HEALTHY }, atShanghai(shift(DAY, -1), '17:00'));
      expect(inTime.kind).to.equal('booked');
      const started = await bookChildcare(deps(), user, live, await makeChild(parent), { healthDeclaration: HEALTHY }, new Date(s.start.getTime() + 60_000)).catch((e) => e);
      expect(started.code).to.equal('session_started');
    });

    it('lets the centre\'s staff book a child at the desk for the parent; staff of another centre and strangers get 403', async () => {
      const s = await session();
      const child = await makeChild(parent);
      const res = await book(s, child, auth.staff).expect(201);
      expect(res.body).to.include({ child: String(child._id), bookedFor: String(parent._id), bookedBy: String(staff._id) });
      const otherCentre = await makeChildcareCentre(community);
      const elsewhere = (await makeStaff({ community: community._id, staffScope: { community: community._id, facilities: [otherCentre._id] } })).person;
      const stranger = await makeResident({ community: community._id });
      const again = await session();
      for (const who of [elsewhere, stranger]) {
        const refused = await book(again, child, await bearerFor(who)).expect(403);
        expect(refused.body.error.code).to.equal('forbidden');
      }
    });

    it('allows at most 10 bookings a month per child (409 monthly_limit_reached), counting again after a cancellation', async () => {
      const child = await makeChild(parent);
      const sessions = [];
      for (let i = 0; i < 11; i += 1) sessions.push(await session());
      const booked = [];
      for (const s of sessions.slice(0, 10)) booked.push((await book(s, child).expect(201)).body.id);
      const over = await book(sessions[10]!, child).expect(409);
      expect(over.body.error).to.deep.include({ code: 'monthly_limit_reached' });
      expect(over.body.error.message).to.include('10 次上限');
      expect(await CapacityClaim.countDocuments({ key: `childcare:${sessions[10]!._id}` })).to.equal(0);
      // A booking in another month is not counted.
      const nextMonth = dayjs.utc(DAY).add(1, 'month').startOf('month').add(20, 'day').format('YYYY-MM-DD');
      await book(await makeSession(centre, { date: nextMonth }), child).expect(201);
      await request.post(`/api/v1/childcare-bookings/${booked[0]}/cancel`).set('Authorization', auth.parent).send({}).expect(200);
      await book(sessions[10]!, child).expect(201);
    });

    it('refuses a stranger (403), an unverified parent (403 resident_not_verified), no token (401) and an unknown session (404)', async () => {
      const s = await session();
      const child = await makeChild(parent);
      const stranger = await makeResident({ community: community._id });
      expect((await book(s, child, await bearerFor(stranger)).expect(403)).body.error.code).to.equal('forbidden');
      const pending = await makeResident({ community: community._id, status: 'pending' });
      const theirs = await makeChild(pending);
      expect((await book(s, theirs, await bearerFor(pending)).expect(403)).body.error.code).to.equal('resident_not_verified');
      await request.post(`/api/v1/childcare-sessions/${s._id}/bookings`).send({ childId: String(child._id), healthDeclaration: HEALTHY }).expect(401);
      const missing = await book({ _id: '65a1b2c3d4e5f6a7b8c9d0e1' }, child).expect(404);
      expect(missing.body.error.message).to.include('托育时段');
    });

    it('books once for a repeated Idempotency-Key', async () => {
      const s = await session();
      const child = await makeChild(parent);
      const first = await book(s, child).set('Idempotency-Key', 'childcare-retry-0001').expect(201);
      const again = await book(s, child).set('Idempotency-Key', 'childcare-retry-0001').expect(201);
      expect(again.body).to.deep.equal(first.body);
      expect(await ChildcareBooking.countDocuments({ session: s._id })).to.equal(1);
    });
  });

  describe('no-shows and late cancellations', () => {
    it('count once each; two block booking for 60 days (403 booking_blocked), then booking opens again', async () => {
      const child = await makeChild(parent);
      // A no-show: a session that started an hour ago, booked two days before it.
      const past = await ChildcareSession.create({
        centre: centre._id, date: dayjs(new Date(Date.now() - 3_600_000)).tz('Asia/Shanghai').format('YYYY-MM-DD'),
        start: new Date(Date.now() - 3_600_000), end: new Date(Date.now() + 3_600_000), classType: '托小班', carersOnShift: 2,
      });
      const missed = await bookDirect(parent, past, child, new Date(Date.now() - 2 * 86_400_000));
      expect(await releaseChildcareNoShows(deps())).to.deep.equal({ released: 1 });
      expect(await releaseChildcareNoShows(deps())).to.deep.equal({ released: 0 });
      expect((await ChildcareBooking.findById(missed._id))!.status).to.equal('no_show');
      const noShowNote = (await Notification.findOne({ key: `childcare-booking:${missed._id}:no-show` }))!;
      expect(String(noShowNote.person)).to.equal(String(parent._id));
      expect(noShowNote.text).to.match(/仍未入托，名额已释放/);
      expect(await CapacityClaim.countDocuments({ key: `childcare:${past._id}` })).to.equal(0);
      await book(await session(), child).expect(201); // one does not block

      // A late cancellation: after 12:00 the day before.
      const s = await session();
      const res = await book(s, child).expect(201);
      const user = await loadAuthUser(String(parent._id), 'test');
      const lateAt = atShanghai(shift(DAY, -1), '12:01');
      const cancelled = await cancelChildcareBooking(deps(), user, (await ChildcareBooking.findById(res.body.id))!, false, undefined, lateAt);
      expect(cancelled).to.include({ status: 'cancelled', lateCancellation: true });
      expect(await NoShow.countDocuments({ person: child._id, service: 'childcare' })).to.equal(2);

      const blocked = await book(await session(), child).expect(403);
      expect(blocked.body.error.code).to.equal('booking_blocked');
      expect(blocked.body.error.message).to.match(/近 60 天内有 2 次预约未到场/);
      const blockNote = await Notification.find({ person: parent._id, kind: 'booking_blocked' });
      expect(blockNote).to.have.length(1);
      expect(blockNote[0]!.text).to.match(/近 60 天内有 2 次托育预约未到场/);
      const block = await BookingBlock.findById(`childcare:${child._id}`);
      expect(block!.until.getTime()).to.equal(lateAt.getTime() + 60 * 86_400_000);
      // Another child of the same parent is not blocked.
      await book(await session(), await makeChild(parent)).expect(201);
      // After the block, the child books again.
      const later = await makeSession(centre, { date: dayjs(block!.until).tz('Asia/Shanghai').add(3, 'day').format('YYYY-MM-DD') });
      const afterBlock = await bookDirect(parent, later, child, new Date(block!.until.getTime() + 60_000));
      expect(afterBlock.status).to.equal('confirmed');
    });

    it('a cancellation by 12:00 the day before is not counted', async () => {
      const child = await makeChild(parent);
      const s = await session();
      const res = await book(s, child).expect(201);
      const user = await loadAuthUser(String(parent._id), 'test');
      const cancelled = await cancelChildcareBooking(deps(), user, (await ChildcareBooking.findById(res.body.id))!, false, undefined, atShanghai(shift(DAY, -1), '12:00'));
      expect(cancelled.lateCancellation).to.equal(false);
      expect(await NoShow.countDocuments({ person: child._id })).to.equal(0);
    });
  });

  describe('POST /api/v1/childcare-bookings/:bookingId/cancel', () => {
    it('lets the parent cancel, freeing the place, the monthly count and the child\'s slot in the session', async () => {
      const s = await session({ carersOnShift: 1, capacity: 1 });
      const child = await makeChild(parent);
      const res = await book(s, child).expect(201);
      const cancelled = await request.post(`/api/v1/childcare-bookings/${res.body.id}/cancel`).set('Authorization', auth.parent).send({}).expect(200);
      expect(cancelled.body).to.include({ status: 'cancelled', lateCancellation: false });
      expect((await CapacityClaim.find({ holder: res.body.id })).map((c) => c.key).filter((k) => !k.startsWith('state:'))).to.deep.equal([]);
      await book(s, child).expect(201);
      const twice = await request.post(`/api/v1/childcare-bookings/${res.body.id}/cancel`).set('Authorization', auth.parent).send({}).expect(409);
      expect(twice.body.error.code).to.equal('invalid_transition');
    });

    it('refuses a parent once the session has started (409 cancel_too_late)', async () => {
      const s = await session();
      const booking = await bookDirect(parent, s, await makeChild(parent), new Date());
      const user = await loadAuthUser(String(parent._id), 'test');
      const err = await cancelChildcareBooking(deps(), user, booking, false, undefined, new Date(s.start.getTime() + 1)).catch((e) => e);
      expect(err.code).to.equal('cancel_too_late');
    });

    it('requires staff to give a reason and tells the parent; strangers get 403', async () => {
      const s = await session();
      const res = await book(s, await makeChild(parent)).expect(201);
      const stranger = await bearerFor(await makeResident({ community: community._id }));
      await request.post(`/api/v1/childcare-bookings/${res.body.id}/cancel`).set('Authorization', stranger).send({}).expect(403);
      const noReason = await request.post(`/api/v1/childcare-bookings/${res.body.id}/cancel`).set('Authorization', auth.staff).send({}).expect(400);
      expect(noReason.body.error.code).to.equal('reason_required');
      await request.post(`/api/v1/childcare-bookings/${res.body.id}/cancel`).set('Authorization', auth.staff).send({ reason: '保育员病假' }).expect(200);
      const note = await Notification.findOne({ key: `childcare-booking:${res.body.id}:cancelled` });
      expect(String(note!.person)).to.equal(String(parent._id));
      expect(note!.text).to.include('保育员病假');
    });
  });

  describe('GET /api/v1/childcare-bookings/mine and /:bookingId', () => {
    it('lists the parent\'s bookings, or one child\'s; others get 403', async () => {
      const child = await makeChild(parent);
      const res = await book(await session(), child).expect(201);
      const mine = await request.get('/api/v1/childcare-bookings/mine').set('Authorization', auth.parent).expect(200);
      expect(mine.body.items.map((b: { id: string }) => b.id)).to.include(res.body.id);
      const ofChild = await request.get(`/api/v1/childcare-bookings/mine?childId=${child._id}`).set('Authorization', auth.parent).expect(200);
      expect(ofChild.body.items.map((b: { id: string }) => b.id)).to.deep.equal([res.body.id]);
      const stranger = await bearerFor(await makeResident({ community: community._id }));
      await request.get(`/api/v1/childcare-bookings/mine?childId=${child._id}`).set('Authorization', stranger).expect(403);
      await request.get(`/api/v1/childcare-bookings/${res.body.id}`).set('Authorization', stranger).expect(403);
      await request.get(`/api/v1/childcare-bookings/${res.body.id}`).set('Authorization', auth.staff).expect(200);
      await request.get('/api/v1/childcare-bookings/65a1b2c3d4e5f6a7b8c9d0e1').set('Authorization', auth.parent).expect(404);
    });
  });
});
