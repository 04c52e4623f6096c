import { expect } from 'chai';
import { trusted } from 'mongoose';
import { shanghaiDay } from '../models/calendar.js';
import { RoomBooking, ServiceRating, type PersonDoc, type RoomDoc } from '../models/index.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { useCleanStorage } from './support/storage.js';
import {
  makeCommunity, makeFacility, makeProxyLink, makeResident, makeRoom, makeRoomBookingRecord, makeStaff,
} from './factories/index.js';

describe('room 好差评', () => {
  useCleanStorage();
  let request: ReturnType<typeof createTestApp>['request'];
  let community: Awaited<ReturnType<typeof makeCommunity>>;
  let facility: Awaited<ReturnType<typeof makeFacility>>;
  let room: RoomDoc;
  let resident: PersonDoc;
  let auth: string;

  /** A booking of `person` that began an hour ago, in `status` (checked_in: the room was used). */
  async function bookingOf(person: PersonDoc, status = 'checked_in', on: RoomDoc = room) {
    const booking = await makeRoomBookingRecord(on, person, new Date(Date.now() - 60 * 60_000), 120);
    await RoomBooking.updateOne({ _id: booking._id }, { $set: { status } });
    return booking;
  }
  const rate = (bookingId: unknown, body: object, authorization = auth) =>
    request.post(`/api/v1/room-bookings/${bookingId}/rating`).set('Authorization', authorization).send(body);

  before(async () => {
    ({ request } = createTestApp());
    community = await makeCommunity();
    facility = await makeFacility(community);
    room = await makeRoom(facility, { name: '书画室' });
    resident = await makeResident({ community: community._id });
    auth = await bearerFor(resident);
  });

  describe('POST /api/v1/room-bookings/:bookingId/rating', () => {
    it('rates a used booking once, recording who rated it for whom; a second rating is 409 already_rated', async () => {
      const booking = await bookingOf(resident);
      const res = await rate(booking._id, { good: true, comment: '  很干净  ' }).expect(201);
      expect(res.body).to.include({ booking: String(booking._id), room: String(room._id), day: shanghaiDay(booking.start), good: true, comment: '很干净' });
      const again = await rate(booking._id, { good: false }).expect(409);
      expect(again.body.error).to.include({ code: 'already_rated' });
      expect(again.body.error.message).to.match(/已经评价过/);
      const stored = await ServiceRating.find({ subject: booking._id }).lean();
      expect(stored).to.have.length(1);
      expect(stored[0]).to.include({ service: 'room', good: true });
      expect(String(stored[0]!.person)).to.equal(String(resident._id));
    });

    it('lets a proxy rate for the elder (by X for Y), and refuses anyone else with 403', async () => {
      const elder = await makeResident({ community: community._id });
      const child = await makeResident({ community: community._id });
      await makeProxyLink(child, elder);
      const stranger = await makeResident({ community: community._id });
      const booking = await bookingOf(elder);
      const refused = await rate(booking._id, { good: true }, await bearerFor(stranger)).expect(403);
      expect(refused.body.error.code).to.equal('forbidden');
      await rate(booking._id, { good: true }, await bearerFor(child)).expect(201);
      const stored = (await ServiceRating.findOne({ subject: booking._id }).lean())!;
      expect([String(stored.by), String(stored.person)]).to.deep.equal([String(child._id), String(elder._id)]);
    });

    it('answers 401 without a token', async () => {
      const booking = await bookingOf(resident);
      await request.post(`/api/v1/room-bookings/${booking._id}/rating`).send({ good: true }).expect(401);
    });

    for (const status of ['confirmed', 'cancelled', 'released_no_show', 'rejected']) {
      it(`refuses a ${status} booking (409 room_booking_not_rateable) and stores nothing`, async () => {
        const booking = await bookingOf(resident, status);
        const res = await rate(booking._id, { good: false }).expect(409);
        expect(res.body.error.code).to.equal('room_booking_not_rateable');
        expect(res.body.error.message).to.match(/签到使用活动室之后才能评价/);
        expect(await ServiceRating.countDocuments({ subject: booking._id })).to.equal(0);
      });
    }

    it('refuses a booking checked in early, before its time has begun (409 room_booking_not_rateable)', async () => {
      const early = await makeRoomBookingRecord(room, resident, new Date(Date.now() + 10 * 60_000));
      await RoomBooking.updateOne({ _id: early._id }, { $set: { status: 'checked_in' } });
      expect((await rate(early._id, { good: true }).expect(409)).body.error.code).to.equal('room_booking_not_rateable');
    });

    const bad: Array<[string, object]> = [
      ['no good/bad', { comment: '不错' }],
      ['an unknown key', { good: true, stars: 5 }],
      ['an operator instead of a comment', { good: true, comment: trusted({ $ne: null }) }],
      ['a comment longer than 300 characters', { good: true, comment: '好'.repeat(301) }],
    ];
    for (const [what, body] of bad) {
      it(`refuses ${what} with 400 validation_error and stores nothing`, async () => {
        const booking = await bookingOf(resident);
        const res = await rate(booking._id, body).expect(400);
        expect(res.body.error.code).to.equal('validation_error');
        expect(await ServiceRating.countDocuments({ subject: booking._id })).to.equal(0);
      });
    }

    it('answers 404 for a booking that does not exist', async () => {
      await rate('0123456789abcdef01234567', { good: true }).expect(404);
    });

    it('20 racing ratings of one booking store exactly one', async () => {
      const booking = await bookingOf(resident);
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => rate(booking._id, { good: i % 2 === 0 })));
      expect(answers.filter((r) => r.status === 201)).to.have.length(1);
      expect(answers.filter((r) => r.status === 409).every((r) => r.body.error.code === 'already_rated')).to.equal(true);
      expect(answers.filter((r) => r.status === 409)).to.have.length(19);
      expect(await ServiceRating.countDocuments({ subject: booking._id })).to.equal(1);
    });
  });

  describe('GET /api/v1/facilities/:facilityId/room-ratings', () => {
    it('gives the facility’s staff the counts per room and the comments, without who wrote them', async () => {
      const own = await makeFacility(community);
      const hall = await makeRoom(own, { name: '多功能厅' });
      const quiet = await makeRoom(own, { name: '阅览室' });
      const raters = await Promise.all([0, 1, 2].map(() => makeResident({ community: community._id })));
      await rate((await bookingOf(raters[0]!, 'checked_in', hall))._id, { good: true, comment: '空调很好' }, await bearerFor(raters[0]!)).expect(201);
      await rate((await bookingOf(raters[1]!, 'checked_in', hall))._id, { good: false, comment: '投影仪坏了' }, await bearerFor(raters[1]!)).expect(201);
      await rate((await bookingOf(raters[2]!, 'checked_in', quiet))._id, { good: true }, await bearerFor(raters[2]!)).expect(201);
      const staff = (await makeStaff({ community: community._id, staffScope: { community: community._id, facilities: [own._id] } })).person;

      const res = await request.get(`/api/v1/facilities/${own._id}/room-ratings`).set('Authorization', await bearerFor(staff)).expect(200);
      expect(res.body).to.include({ good: 2, bad: 1, to: shanghaiDay(new Date()) });
      expect(res.body.rooms).to.deep.equal([
        { room: String(hall._id), name: '多功能厅', good: 1, bad: 1 },
        { room: String(quiet._id), name: '阅览室', good: 1, bad: 0 },
      ]);
      expect(res.body.comments.map((c: { comment: string }) => c.comment).sort()).to.deep.equal(['投影仪坏了', '空调很好']);
      const text = JSON.stringify(res.body);
      for (const p of raters) {
        expect(text).to.not.include(p.name!);
        expect(text).to.not.include(p.phone!);
      }
    });

    it('refuses staff of another facility and residents (403), and a day that does not exist (400)', async () => {
      const other = await makeFacility(community);
      const otherStaff = (await makeStaff({ community: community._id, staffScope: { community: community._id, facilities: [other._id] } })).person;
      await request.get(`/api/v1/facilities/${facility._id}/room-ratings`).set('Authorization', await bearerFor(otherStaff)).expect(403);
      await request.get(`/api/v1/facilities/${facility._id}/room-ratings`).set('Authorization', auth).expect(403);
      const staff = (await makeStaff({ community: community._id, staffScope: { community: community._id, facilities: [facility._id] } })).person;
      const res = await request.get(`/api/v1/facilities/${facility._id}/room-ratings?from=2026-02-30`).set('Authorization', await bearerFor(staff)).expect(400);
      expect(res.body.error.code).to.equal('validation_error');
    });
  });
});
