import { expect } from 'chai';
import { Types, trusted } from 'mongoose';
import {
  CapacityClaim, Notification, RoomBooking, type CommunityDoc, type FacilityDoc, type PersonDoc, type RoomDoc,
} from '../models/index.js';
import { atShanghai, dayjs, shanghaiDay } from '../models/calendar.js';
import { roomKey } from '../src/commands/roomBookings.js';
import { SERIES_ROLLBACK_REASON } from '../src/commands/roomSeries.js';
import { unitsBetween } from '../src/booking/time.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { recordNoShow } from '../src/booking/noShows.js';
import { testConfig } from './support/env.js';
import { useCleanStorage } from './support/storage.js';
import { makeCommunity, makeFacility, makeProxyLink, makeResident, makeRoom, makeStaff } from './factories/index.js';

const daysFromNow = (n: number) => dayjs.utc(shanghaiDay(new Date())).add(n, 'day').format('YYYY-MM-DD');
const CHINESE = /[\u4e00-\u9fff]/;

interface Occ {
  start: string;
  end: string;
  status: 'booked' | 'free' | 'conflict';
  booking?: string;
  reason?: { code: string; message: string };
  conflictWith?: { start: string; end: string; purpose: string };
}

describe('weekly room series', () => {
  useCleanStorage();
  let request: ReturnType<typeof createTestApp>['request'];
  let community: CommunityDoc;
  let facility: FacilityDoc;
  let staff: PersonDoc;
  let otherStaff: PersonDoc;
  let teacher: PersonDoc;
  let neighbour: PersonDoc;
  const day = daysFromNow(3);
  /** 10:00–12:00 Shanghai, `week` weeks after `day`. */
  const week = (n: number, from = '10:00', to = '12:00') => {
    const d = dayjs.utc(day).add(n, 'week').format('YYYY-MM-DD');
    return { start: atShanghai(d, from).toISOString(), end: atShanghai(d, to).toISOString() };
  };
  const auth = (person: PersonDoc) => bearerFor(person);

  /** POSTs a series; with `status`, asserts it (showing the body when it differs). */
  async function series(person: PersonDoc, room: RoomDoc, body: object, status?: number, key?: string) {
    const req = request.post(`/api/v1/rooms/${room._id}/bookings/series`).set('Authorization', await auth(person));
    if (key) req.set('Idempotency-Key', key);
    const res = await req.send({ ...week(0), purpose: '书法班', attendees: 12, ...body });
    if (status) expect(res.status, JSON.stringify(res.body)).to.equal(status);
    return res;
  }
  /** A refusal: the status, the stable code and a message in Chinese. */
  function expectRefusal(res: { status: number; body: { error?: { code: string; message: string } } }, status: number, code: string) {
    expect(res.status, JSON.stringify(res.body)).to.equal(status);
    expect(res.body.error!.code).to.equal(code);
    expect(res.body.error!.message).to.match(CHINESE);
  }
  const holdingOf = (person: PersonDoc, room: RoomDoc) =>
    RoomBooking.find({ bookedFor: person._id, room: room._id, status: trusted({ $in: ['pending', 'confirmed'] }) }).sort({ start: 1 });

  before(async () => {
    ({ request } = createTestApp());
    community = await makeCommunity();
    facility = await makeFacility(community);
    staff = (await makeStaff({ community: community._id, staffScope: { community: community._id, facilities: [facility._id] } })).person;
    otherStaff = (await makeStaff({ community: community._id, staffScope: { community: community._id, facilities: [(await makeFacility(community))._id] } })).person;
    teacher = await makeResident({ community: community._id, name: '书法老师' });
    neighbour = await makeResident({ community: community._id });
  });

  describe('POST /api/v1/rooms/:roomId/bookings/series with one occurrence already taken', () => {
    let room: RoomDoc;
    let taiChi: { id: string };
    before(async () => {
      room = await makeRoom(facility, { name: '书画室', maxAdvanceDays: 60 });
      // Someone else holds 10:00–11:00 of the second week.
      taiChi = (await request.post(`/api/v1/rooms/${room._id}/bookings`).set('Authorization', await auth(neighbour))
        .send({ ...week(1, '10:00', '11:00'), purpose: '太极拳', attendees: 6 }).expect(201)).body;
    });

    function expectTheConflict(occ: Occ) {
      expect(occ).to.include({ status: 'conflict', start: week(1).start, end: week(1).end });
      expect(occ.reason!.code).to.equal('slot_taken');
      expect(occ.reason!.message).to.match(CHINESE);
      expect(occ.conflictWith).to.deep.equal({ ...week(1, '10:00', '11:00'), purpose: '太极拳' });
    }

    it('preview lists every occurrence and books nothing', async () => {
      const res = await series(teacher, room, { weeks: 4, mode: 'preview' }, 200);
      expect(res.body).to.include({ series: null, mode: 'preview', booked: 0, conflicts: 1 });
      const occ = res.body.occurrences as Occ[];
      expect(occ.map((o) => o.status)).to.deep.equal(['free', 'conflict', 'free', 'free']);
      expect(occ.map((o) => o.start)).to.deep.equal([0, 1, 2, 3].map((n) => week(n).start));
      expectTheConflict(occ[1]!);
      expect(await holdingOf(teacher, room)).to.have.length(0);
    });

    it('all_or_nothing books none and answers 409 with the occurrences', async () => {
      const res = await series(teacher, room, { weeks: 4, mode: 'all_or_nothing' }, 409);
      expect(res.body.error.code).to.equal('series_conflict');
      expect(res.body.error.message).to.match(CHINESE).and.include('全部未预约');
      expect(res.body).to.include({ series: null, booked: 0, conflicts: 1 });
      expect((res.body.occurrences as Occ[]).map((o) => o.status)).to.deep.equal(['free', 'conflict', 'free', 'free']);
      expectTheConflict(res.body.occurrences[1]);
      expect(await RoomBooking.countDocuments({ bookedFor: teacher._id })).to.equal(0);
      expect(await CapacityClaim.countDocuments({ key: roomKey(room._id), holder: trusted({ $ne: taiChi.id }) })).to.equal(0);
    });

    it('free_only books the free occurrences and reports the taken one with what it collides with', async () => {
      const res = await series(teacher, room, { weeks: 4, mode: 'free_only' }, 201);
      expect(res.body).to.include({ mode: 'free_only', booked: 3, conflicts: 1 });
      expect(res.body.series).to.match(/^[0-9a-f]{24}$/);
      const occ = res.body.occurrences as Occ[];
      expect(occ.map((o) => o.status)).to.deep.equal(['booked', 'conflict', 'booked', 'booked']);
      expectTheConflict(occ[1]!);
      const held = await holdingOf(teacher, room);
      expect(held.map((b) => String(b._id))).to.deep.equal([occ[0]!.booking, occ[2]!.booking, occ[3]!.booking]);
      for (const b of held) expect(b).to.include({ series: res.body.series, status: 'confirmed', purpose: '书法班' });
      // The neighbour's booking is untouched.
      expect((await RoomBooking.findById(taiChi.id))!.status).to.equal('confirmed');
    });

    it('cancels the whole series (POST /room-bookings/series/:seriesId/cancel), freeing its units', async () => {
      const seriesId = (await holdingOf(teacher, room))[0]!.series!;
      const stranger = await request.post(`/api/v1/room-bookings/series/${seriesId}/cancel`).set('Authorization', await auth(neighbour)).send({});
      expectRefusal(stranger, 404, 'not_found');
      const res = await request.post(`/api/v1/room-bookings/series/${seriesId}/cancel`).set('Authorization', await auth(teacher)).send({}).expect(200);
      expect(res.body.cancelled).to.have.length(3);
      for (const b of res.body.cancelled) expect(b.status).to.equal('cancelled');
      expect(await holdingOf(teacher, room)).to.have.length(0);
      const units = unitsBetween(new Date(week(0).start), new Date(week(0).end));
      expect(await CapacityClaim.countDocuments({ key: roomKey(room._id), slot: trusted({ $in: units }) })).to.equal(0);
      // Nothing left to cancel: an empty answer, not an error.
      const again = await request.post(`/api/v1/room-bookings/series/${seriesId}/cancel`).set('Authorization', await auth(teacher)).send({}).expect(200);
      expect(again.body.cancelled).to.deep.equal([]);
    });
  });

  describe('rules applied to each occurrence', () => {
    it('with the default maxAdvanceDays (14) a resident\'s later occurrences are booking_too_far conflicts', async () => {
      const room = await makeRoom(facility, { name: '活动室一' });
      const res = await series(teacher, room, { weeks: 4, mode: 'free_only' }, 201);
      const occ = res.body.occurrences as Occ[];
      expect(occ.map((o) => o.status)).to.deep.equal(['booked', 'booked', 'conflict', 'conflict']);
      expect(occ[2]!.reason!.code).to.equal('booking_too_far');
      expect(occ[2]!.reason!.message).to.include('14 天');
    });

    it('lets staff book a term-long class for a resident (8 weeks), up to SERIES_MAX_WEEKS (20) ahead', async () => {
      const room = await makeRoom(facility, { name: '学期教室' });
      const term = await series(staff, room, { ...week(0, '14:00', '16:00'), weeks: 8, mode: 'all_or_nothing', forPerson: String(teacher._id) }, 201);
      expect((term.body.occurrences as Occ[]).map((o) => o.status)).to.deep.equal(Array(8).fill('booked'));
      const booked = await RoomBooking.find({ series: term.body.series });
      expect(booked.map((b) => String(b.bookedFor))).to.deep.equal(Array(8).fill(String(teacher._id)));
      // 22 weekly occurrences from three days ahead: the 21st falls after 20 weeks.
      const long = await series(staff, room, { ...week(0, '16:00', '18:00'), weeks: 22, mode: 'preview' }, 200);
      const codes = (long.body.occurrences as Occ[]).map((o) => o.reason?.code ?? o.status);
      expect(codes).to.deep.equal([...Array(20).fill('free'), 'booking_too_far', 'booking_too_far']);
      expect((long.body.occurrences as Occ[])[20]!.reason!.message).to.include('20 周');
      // The resident asking for the same keeps the room's 14 days.
      const own = await series(teacher, room, { ...week(0, '16:00', '18:00'), weeks: 3, mode: 'preview' }, 200);
      expect((own.body.occurrences as Occ[]).map((o) => o.reason?.code ?? o.status)).to.deep.equal(['free', 'free', 'booking_too_far']);
    });

    it('reports the weekly quota in preview as booking would', async () => {
      const room = await makeRoom(facility, { name: '活动室二', maxAdvanceDays: 60, weeklyQuotaPerResident: 1 });
      const student = await makeResident({ community: community._id });
      await request.post(`/api/v1/rooms/${room._id}/bookings`).set('Authorization', await auth(student))
        .send({ ...week(2, '16:00', '17:00'), purpose: '练字', attendees: 1 }).expect(201);
      const preview = await series(student, room, { weeks: 3, mode: 'preview' }, 200);
      expect((preview.body.occurrences as Occ[]).map((o) => o.reason?.code ?? o.status)).to.deep.equal(['free', 'free', 'weekly_quota_exceeded']);
      const booked = await series(student, room, { weeks: 3, mode: 'free_only' }, 201);
      expect((booked.body.occurrences as Occ[]).map((o) => o.reason?.code ?? o.status)).to.deep.equal(['booked', 'booked', 'weekly_quota_exceeded']);
    });

    it('answers 409 series_nothing_booked when free_only finds nothing free', async () => {
      const room = await makeRoom(facility, { name: '活动室三', maxAdvanceDays: 60 });
      await series(teacher, room, { weeks: 2, mode: 'free_only' }, 201);
      const res = await series(neighbour, room, { weeks: 2, mode: 'free_only' }, 409);
      expect(res.body.error.code).to.equal('series_nothing_booked');
      expect(res.body.error.message).to.match(CHINESE);
      expect(res.body.occurrences.every((o: Occ) => o.status === 'conflict')).to.equal(true);
    });

    it('takes until (a last day) instead of weeks, and refuses a series outside 2–26 weeks', async () => {
      const room = await makeRoom(facility, { name: '活动室四', maxAdvanceDays: 60 });
      const until = dayjs.utc(day).add(2, 'week').format('YYYY-MM-DD');
      const res = await series(teacher, room, { until, mode: 'preview' }, 200);
      expect(res.body.occurrences).to.have.length(3);
      const tooLong = await series(teacher, room, { until: dayjs.utc(day).add(30, 'week').format('YYYY-MM-DD'), mode: 'preview' }, 400);
      expectRefusal(tooLong, 400, 'series_length_invalid');
      expect(tooLong.body.error.message).to.include('26 周');
      const one = await series(teacher, room, { weeks: 1, mode: 'preview' }, 400);
      expectRefusal(one, 400, 'validation_error');
      const both = await series(teacher, room, { weeks: 2, until, mode: 'preview' }, 400);
      expectRefusal(both, 400, 'validation_error');
    });

    it('refuses a resident blocked for no-shows (403 booking_blocked), even a preview', async () => {
      const room = await makeRoom(facility, { name: '活动室九', maxAdvanceDays: 60 });
      const absent = await makeResident({ community: community._id });
      for (const d of [3, 2, 1]) {
        await recordNoShow(absent._id, 'room', new Types.ObjectId(), testConfig().booking, new Date(Date.now() - d * 86_400_000));
      }
      expectRefusal(await series(absent, room, { weeks: 2, mode: 'preview' }), 403, 'booking_blocked');
      expectRefusal(await series(absent, room, { weeks: 2, mode: 'free_only' }), 403, 'booking_blocked');
      expect(await RoomBooking.countDocuments({ bookedFor: absent._id })).to.equal(0);
    });

    it('books for an elder through 代办, recording who booked for whom', async () => {
      const room = await makeRoom(facility, { name: '活动室五', maxAdvanceDays: 60 });
      const elder = await makeResident({ community: community._id, name: '钱爷爷' });
      const son = await makeResident({ community: community._id });
      await makeProxyLink(son, elder);
      const res = await series(son, room, { weeks: 2, mode: 'all_or_nothing', forPerson: String(elder._id) }, 201);
      expect(res.body.booked).to.equal(2);
      const held = await holdingOf(elder, room);
      expect(held).to.have.length(2);
      for (const b of held) expect(String(b.bookedBy)).to.equal(String(son._id));
      const stranger = await series(neighbour, room, { ...week(0, '14:00', '15:00'), weeks: 2, mode: 'preview', forPerson: String(elder._id) });
      expectRefusal(stranger, 403, 'forbidden');
    });
  });

  describe('idempotency and races', () => {
    it('a repeated POST with the same Idempotency-Key books once and answers the same', async () => {
      const room = await makeRoom(facility, { name: '活动室六', maxAdvanceDays: 60 });
      const first = await series(teacher, room, { weeks: 3, mode: 'free_only' }, 201, 'series-key-0001');
      const again = await series(teacher, room, { weeks: 3, mode: 'free_only' }, 201, 'series-key-0001');
      expect(again.headers['idempotent-replayed']).to.equal('true');
      expect(again.body).to.deep.equal(first.body);
      expect(await holdingOf(teacher, room)).to.have.length(3);
      expect(await RoomBooking.countDocuments({ room: room._id })).to.equal(3);
    });

    // Which series win depends on timing (a loser may have booked a week or two and given them
    // back); what may never happen is a partial series or two bookings on one unit.
    it('racing all_or_nothing series leave each series whole or empty, and never two bookings on one unit', async () => {
      const room = await makeRoom(facility, { name: '活动室七', maxAdvanceDays: 90 });
      const people = await Promise.all([0, 1, 2, 3, 4, 5].map(() => makeResident({ community: community._id })));
      // Overlapping windows: person i asks for weeks i … i+3.
      const answers = await Promise.all(people.map((p, i) =>
        series(p, room, { ...week(i % 3), weeks: 4, mode: 'all_or_nothing' })));
      for (const [i, res] of answers.entries()) {
        expect([201, 409], JSON.stringify(res.body)).to.include(res.status);
        const held = await holdingOf(people[i]!, room);
        expect(held.length).to.equal(res.status === 201 ? 4 : 0);
        const rolledBack = await RoomBooking.find({ bookedFor: people[i]!._id, status: 'cancelled' });
        for (const b of rolledBack) expect(b.history.at(-1)!.reason).to.equal(SERIES_ROLLBACK_REASON);
      }
      const holding = await RoomBooking.find({ room: room._id, status: trusted({ $in: ['pending', 'confirmed'] }) }).sort({ start: 1 });
      for (let i = 1; i < holding.length; i += 1) expect(holding[i]!.start >= holding[i - 1]!.end).to.equal(true);
      // Every claimed unit belongs to a booking that holds it.
      const holders = new Set(holding.map((b) => String(b._id)));
      const claims = await CapacityClaim.find({ key: roomKey(room._id) });
      for (const c of claims) expect(holders.has(String(c.holder))).to.equal(true);
    });
  });

  describe('POST /api/v1/room-bookings/series/:seriesId/cancel by staff', () => {
    let room: RoomDoc;
    let seriesId: string;
    before(async () => {
      room = await makeRoom(facility, { name: '活动室八', maxAdvanceDays: 60 });
      seriesId = (await series(teacher, room, { weeks: 2, mode: 'free_only' }, 201)).body.series;
    });

    it('needs a reason from staff (400), refuses staff of another facility, then cancels and tells the resident', async () => {
      const noReason = await request.post(`/api/v1/room-bookings/series/${seriesId}/cancel`).set('Authorization', await auth(staff)).send({}).expect(400);
      expect(noReason.body.error.code).to.equal('reason_required');
      expect(noReason.body.error.message).to.match(CHINESE);
      const foreign = await request.post(`/api/v1/room-bookings/series/${seriesId}/cancel`).set('Authorization', await auth(otherStaff)).send({ reason: '场地调整' });
      expectRefusal(foreign, 404, 'not_found');
      expect(await holdingOf(teacher, room)).to.have.length(2);

      const res = await request.post(`/api/v1/room-bookings/series/${seriesId}/cancel`).set('Authorization', await auth(staff))
        .send({ reason: '场地改造' }).expect(200);
      expect(res.body.cancelled).to.have.length(2);
      expect(await holdingOf(teacher, room)).to.have.length(0);
      const told = await Notification.find({ person: teacher._id, kind: 'room_booking_cancelled' });
      expect(told.length).to.be.at.least(2);
      expect(told[0]!.text).to.include('场地改造');
    });

    it('answers 404 for a series that does not exist', async () => {
      const res = await request.post('/api/v1/room-bookings/series/0123456789abcdef01234567/cancel').set('Authorization', await auth(teacher)).send({});
      expectRefusal(res, 404, 'not_found');
    });
  });
});
