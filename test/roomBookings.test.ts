import { Types, trusted } from 'mongoose';
import { expect } from 'chai';
import { atShanghai, dayjs, shanghaiDay } from '../models/calendar.js';
import { CapacityClaim, NoShow, Notification, ProxyLink, RoomBooking } from '../models/index.js';
import { cancelRoomBooking, checkInRoomBooking, findRoom, releaseNoShows } from '../src/commands/roomBookings.js';
import { loadAuthUser } from '../src/middlewares/authenticate.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { testConfig, testEnvironment } from './support/env.js';
import { useCleanStorage } from './support/storage.js';
import { makeCommunity, makeFacility, makeResident, makeRoom, makeStaff } from './factories/index.js';

const roomDeps = () => ({ rules: testConfig().booking, redis: testEnvironment().redis });

/** A Shanghai day `days` from now, as YYYY-MM-DD. */
const dayFromNow = (days: number) => dayjs.utc(shanghaiDay(new Date())).add(days, 'day').format('YYYY-MM-DD');
const at = (days: number, hhmm: string) => atShanghai(dayFromNow(days), hhmm).toISOString();

describe('room bookings', () => {
  useCleanStorage();
  let request: ReturnType<typeof createTestApp>['request'];
  let community: Awaited<ReturnType<typeof makeCommunity>>;
  let facility: Awaited<ReturnType<typeof makeFacility>>;
  let room: Awaited<ReturnType<typeof makeRoom>>;
  let resident: Awaited<ReturnType<typeof makeResident>>;
  let staff: Awaited<ReturnType<typeof makeResident>>;
  let auth: { resident: string; staff: string };

  const book = (roomId: unknown, body: object, authorization = auth.resident) =>
    request.post(`/api/v1/rooms/${roomId}/bookings`).set('Authorization', authorization).send(body);
  /** The next 30-minute boundary from now, for `minutes`. */
  const soonest = (minutes: number) => {
    const start = Math.ceil((Date.now() + 60_000) / 1_800_000) * 1_800_000;
    return { start: new Date(start).toISOString(), end: new Date(start + minutes * 60_000).toISOString(), purpose: '下棋', attendees: 2 };
  };
  const slot = (days: number, from: string, to: string) => ({ start: at(days, from), end: at(days, to), purpose: '书法练习', attendees: 8 });

  before(async () => {
    ({ request } = createTestApp());
    community = await makeCommunity();
    facility = await makeFacility(community);
    // A quota no test of the shared room reaches, whatever weekday the suite runs on; the quota
    // test has a room of its own.
    room = await makeRoom(facility, { capacity: 20, weeklyQuotaPerResident: 20 });
    resident = await makeResident({ community: community._id });
    staff = (await makeStaff({ community: community._id, staffScope: { community: community._id, facilities: [facility._id] } })).person;
    auth = { resident: await bearerFor(resident), staff: await bearerFor(staff) };
  });

  describe('POST /api/v1/rooms/:roomId/bookings', () => {
    it('books a free slot for the caller, confirmed, recording who booked it for whom', async () => {
      const res = await book(room._id, slot(3, '09:00', '10:30')).expect(201);
      expect(res.body).to.include({ status: 'confirmed', purpose: '书法练习', attendees: 8, bookedFor: String(resident._id), bookedBy: String(resident._id) });
      expect(await CapacityClaim.countDocuments({ key: `room:${room._id}` })).to.equal(3);
    });

    it('stores a booking the schema accepts unchanged, with the fields mongoose itself writes', async () => {
      // The create path writes the record with the driver (commands/roomBookings.ts, insertBooking).
      const res = await book(room._id, slot(4, '09:00', '10:00')).expect(201);
      const stored = await RoomBooking.collection.findOne({ _id: new Types.ObjectId(res.body.id as string) });
      const doc = RoomBooking.hydrate(stored!);
      await doc.validate();
      expect(doc.toObject({ depopulate: true })).to.deep.equal(stored);
      const { _id, __v, createdAt, updatedAt, ...fields } = stored!;
      const viaMongoose = await RoomBooking.create({ ...fields, start: new Date('2001-01-01T01:00:00Z'), end: new Date('2001-01-01T02:00:00Z') });
      expect(Object.keys(stored!).sort()).to.deep.equal(Object.keys(viaMongoose.toObject()).sort());
      await viaMongoose.deleteOne();
    });

    const refusals: Array<[string, () => object, number, string, RegExp]> = [
      ['a time not on 30-minute units', () => slot(3, '11:10', '12:00'), 400, 'booking_misaligned', /30 分钟/],
      ['longer than the maximum duration', () => slot(3, '08:00', '13:00'), 400, 'booking_too_long', /最多预约 4 小时/],
      ['too little notice', () => soonest(30), 400, 'booking_too_soon', /提前/],
      ['further ahead than 14 days', () => slot(16, '09:00', '10:00'), 400, 'booking_too_far', /14 天/],
      ['outside the opening hours', () => slot(3, '19:30', '20:30'), 400, 'booking_outside_hours', /开放时间：08:00–20:00/],
      ['more attendees than seats', () => ({ ...slot(3, '14:00', '15:00'), attendees: 21 }), 400, 'too_many_attendees', /最多 20 人/],
      ['an end before the start', () => ({ ...slot(3, '14:00', '15:00'), end: at(3, '13:00') }), 400, 'validation_error', /晚于开始时间/],
      ['an operator object instead of a time', () => ({ ...slot(3, '14:00', '15:00'), start: trusted({ $gt: '' }) }), 400, 'validation_error', /日期时间/],
    ];
    for (const [what, body, status, code, message] of refusals) {
      it(`refuses ${what} (${status} ${code}) and claims nothing`, async () => {
        const before = await CapacityClaim.countDocuments();
        const res = await book(room._id, body()).expect(status);
        expect(res.body.error.code).to.equal(code);
        expect(res.body.error.message).to.match(message);
        expect(await CapacityClaim.countDocuments()).to.equal(before);
      });
    }

    it('refuses an overlapping booking with 409 slot_taken, saying when', async () => {
      const other = await makeResident({ community: community._id });
      const res = await book(room._id, slot(3, '10:00', '11:00'), await bearerFor(other)).expect(409);
      expect(res.body.error).to.deep.equal({ code: 'slot_taken', message: `「${room.name}」${dayjs(at(3, '10:00')).tz('Asia/Shanghai').format('M月D日')} 10:00–10:30已被预约，请换一个时间` });
    });

    it('keeps a weekly quota per resident and room', async () => {
      const quotaRoom = await makeRoom(facility, { weeklyQuotaPerResident: 3 });
      const fresh = await makeResident({ community: community._id });
      const token = await bearerFor(fresh);
      const monday = dayjs.utc(shanghaiDay(new Date())).add(7, 'day').startOf('week').add(1, 'day'); // a whole future week
      const daysAhead = monday.diff(dayjs.utc(shanghaiDay(new Date())), 'day');
      for (const d of [0, 1, 2]) await book(quotaRoom._id, slot(daysAhead + d, '15:00', '15:30'), token).expect(201);
      const res = await book(quotaRoom._id, slot(daysAhead + 3, '15:00', '15:30'), token).expect(409);
      expect(res.body.error.code).to.equal('weekly_quota_exceeded');
      expect(res.body.error.message).to.include('3 次上限');
    });

    it('needs approval for a room that requires it (pending), and staff approve it', async () => {
      const approvalRoom = await makeRoom(facility, { approvalRequired: true });
      const res = await book(approvalRoom._id, slot(4, '09:00', '10:00')).expect(201);
      expect(res.body.status).to.equal('pending');
      await request.post(`/api/v1/room-bookings/${res.body.id}/approve`).set('Authorization', auth.resident).expect(403);
      const approved = await request.post(`/api/v1/room-bookings/${res.body.id}/approve`).set('Authorization', auth.staff).expect(200);
      expect(approved.body.status).to.equal('confirmed');
      const again = await request.post(`/api/v1/room-bookings/${res.body.id}/approve`).set('Authorization', auth.staff).expect(409);
      expect(again.body.error.code).to.equal('invalid_transition');
      expect(await Notification.countDocuments({ key: `room-booking:${res.body.id}:approved` })).to.equal(1);
    });

    it('lets a proxy book for the elder they act for (booked by X for Y), and nobody else', async () => {
      const elder = await makeResident({ community: community._id, name: '周奶奶' });
      const son = await makeResident({ community: community._id });
      const stranger = await makeResident({ community: community._id });
      await book(room._id, { ...slot(5, '09:00', '10:00'), forPerson: String(elder._id) }, await bearerFor(stranger)).expect(403);
      await ProxyLink.create({ proxy: son._id, elder: elder._id, relation: '子女', status: 'active', confirmedBy: 'elder' });
      const res = await book(room._id, { ...slot(5, '09:00', '10:00'), forPerson: String(elder._id) }, await bearerFor(son)).expect(201);
      expect(res.body).to.include({ bookedFor: String(elder._id), bookedBy: String(son._id) });
      const mine = await request.get(`/api/v1/room-bookings/mine?forPerson=${elder._id}`).set('Authorization', await bearerFor(son)).expect(200);
      expect(mine.body.items.map((b: { id: string }) => b.id)).to.include(res.body.id);
    });

    it('refuses a pending (unverified) resident with 403 resident_not_verified', async () => {
      const pending = await makeResident({ community: community._id, status: 'pending' });
      const res = await book(room._id, slot(6, '09:00', '10:00'), await bearerFor(pending)).expect(403);
      expect(res.body.error.code).to.equal('resident_not_verified');
    });

    it('books once for a repeated Idempotency-Key and replays the first answer', async () => {
      const body = slot(6, '11:00', '12:00');
      const first = await book(room._id, body).set('Idempotency-Key', 'mini-program-retry-0001').expect(201);
      const again = await book(room._id, body).set('Idempotency-Key', 'mini-program-retry-0001').expect(201);
      expect(again.body).to.deep.equal(first.body);
      expect(again.headers['idempotent-replayed']).to.equal('true');
      expect(await RoomBooking.countDocuments({ room: room._id, start: new Date(body.start) })).to.equal(1);
      const reused = await book(room._id, slot(6, '13:00', '14:00')).set('Idempotency-Key', 'mini-program-retry-0001').expect(409);
      expect(reused.body.error.code).to.equal('idempotency_key_reused');
    });

    it('books once when the same idempotent request races itself', async () => {
      const body = slot(6, '16:00', '17:00');
      const results = await Promise.all(
        Array.from({ length: 10 }, () => book(room._id, body).set('Idempotency-Key', 'mini-program-race-0001')),
      );
      expect(results.filter((r) => r.status === 201).length).to.be.greaterThan(0);
      expect(results.every((r) => r.status === 201 || r.body.error?.code === 'idempotency_in_progress')).to.equal(true);
      expect(await RoomBooking.countDocuments({ room: room._id, start: new Date(body.start) })).to.equal(1);
    });
  });

  describe('racing requests', () => {
    it('50 concurrent requests for the same slot leave exactly one booking', async () => {
      const raceRoom = await makeRoom(facility);
      const people = await Promise.all(Array.from({ length: 50 }, () => makeResident({ community: community._id })));
      const tokens = await Promise.all(people.map((p) => bearerFor(p)));
      const results = await Promise.all(tokens.map((t) => book(raceRoom._id, slot(7, '10:00', '11:30'), t)));
      expect(results.filter((r) => r.status === 201)).to.have.length(1);
      expect(results.filter((r) => r.status === 409).every((r) => r.body.error.code === 'slot_taken')).to.equal(true);
      expect(results.filter((r) => r.status === 409)).to.have.length(49);
      expect(await RoomBooking.countDocuments({ room: raceRoom._id })).to.equal(1);
      expect(await CapacityClaim.countDocuments({ key: `room:${raceRoom._id}` })).to.equal(3);
    });

    it('50 concurrent overlapping (not identical) requests leave no two bookings overlapping', async () => {
      const raceRoom = await makeRoom(facility);
      const people = await Promise.all(Array.from({ length: 50 }, () => makeResident({ community: community._id })));
      const starts = ['09:00', '09:30', '10:00', '10:30', '11:00'];
      const results = await Promise.all(people.map(async (p, i) => {
        const from = starts[i % starts.length]!;
        const to = dayjs(`2000-01-01T${from}`).add(90, 'minute').format('HH:mm');
        return book(raceRoom._id, slot(7, from, to), await bearerFor(p));
      }));
      const booked = (await RoomBooking.find({ room: raceRoom._id }).sort({ start: 1 })).map((b) => [b.start.getTime(), b.end.getTime()]);
      expect(booked.length).to.equal(results.filter((r) => r.status === 201).length);
      for (let i = 1; i < booked.length; i++) expect(booked[i]![0]).to.be.at.least(booked[i - 1]![1]!);
    });

    it('50 concurrent requests for 50 different slots leave 50 bookings', async () => {
      const rooms = await Promise.all(Array.from({ length: 5 }, () => makeRoom(facility)));
      const people = await Promise.all(Array.from({ length: 50 }, () => makeResident({ community: community._id })));
      const results = await Promise.all(people.map(async (p, i) => {
        const hour = 8 + (i % 10);
        return book(rooms[Math.floor(i / 10)]!._id, slot(8, `${String(hour).padStart(2, '0')}:00`, `${String(hour).padStart(2, '0')}:30`), await bearerFor(p));
      }));
      expect(results.map((r) => r.status)).to.deep.equal(Array(50).fill(201));
      expect(await RoomBooking.countDocuments({ room: trusted({ $in: rooms.map((r) => r._id) }) })).to.equal(50);
    });
  });

  describe('after booking: cancel, reject, move, check in', () => {
    it('lets the resident cancel before the start, freeing the slot', async () => {
      const res = await book(room._id, slot(9, '09:00', '10:00')).expect(201);
      const cancelled = await request.post(`/api/v1/room-bookings/${res.body.id}/cancel`).set('Authorization', auth.resident).send({}).expect(200);
      expect(cancelled.body.status).to.equal('cancelled');
      await book(room._id, slot(9, '09:00', '10:00'), await bearerFor(await makeResident({ community: community._id }))).expect(201);
    });

    it('refuses a resident’s cancellation once the booking has started (409 cancel_too_late)', async () => {
      const res = await book(room._id, slot(9, '12:00', '13:00')).expect(201);
      const booking = (await RoomBooking.findById(res.body.id))!;
      const user = await loadAuthUser(String(resident._id), 'test');
      const late = await cancelRoomBooking(roomDeps(), user, booking, false, undefined, new Date(booking.start.getTime() + 60_000)).catch((e) => e);
      expect(late.code).to.equal('cancel_too_late');
      expect(late.message).to.match(/已经开始/);
      expect((await RoomBooking.findById(res.body.id))!.status).to.equal('confirmed');
    });

    it('requires staff to give a reason, and tells the resident', async () => {
      const res = await book(room._id, slot(9, '11:00', '12:00')).expect(201);
      const noReason = await request.post(`/api/v1/room-bookings/${res.body.id}/cancel`).set('Authorization', auth.staff).send({}).expect(400);
      expect(noReason.body.error.code).to.equal('reason_required');
      await request.post(`/api/v1/room-bookings/${res.body.id}/cancel`).set('Authorization', auth.staff).send({ reason: '消防检查' }).expect(200);
      const note = await Notification.findOne({ key: `room-booking:${res.body.id}:cancelled` });
      expect(note!.person.toString()).to.equal(String(resident._id));
      expect(note!.text).to.include('消防检查');
    });

    it('gives staff of another facility 403 on every staff action', async () => {
      const res = await book(room._id, slot(9, '14:00', '15:00')).expect(201);
      const other = await makeFacility(community);
      const outsider = await bearerFor((await makeStaff({ community: community._id, staffScope: { community: community._id, facilities: [other._id] } })).person);
      for (const action of ['approve', 'reject', 'move', 'cancel']) {
        const body = action === 'move' ? { start: at(9, '16:00'), end: at(9, '17:00'), reason: '调整' } : action === 'approve' ? {} : { reason: '测试' };
        const r = await request.post(`/api/v1/room-bookings/${res.body.id}/${action}`).set('Authorization', outsider).send(body).expect(403);
        expect(r.body.error.code).to.equal('forbidden');
      }
      await request.get(`/api/v1/room-bookings/${res.body.id}`).set('Authorization', outsider).expect(403);
      await request.get(`/api/v1/room-bookings/${res.body.id}`).set('Authorization', await bearerFor(await makeResident({ community: community._id }))).expect(403);
    });

    it('lets staff move a booking: the new slot is held, the old one freed, the resident told', async () => {
      const res = await book(room._id, slot(10, '09:00', '10:00')).expect(201);
      const moved = await request.post(`/api/v1/room-bookings/${res.body.id}/move`).set('Authorization', auth.staff)
        .send({ start: at(10, '09:30'), end: at(10, '10:30'), reason: '前一场活动延长' }).expect(200);
      expect(moved.body.start).to.equal(at(10, '09:30'));
      const units = (await CapacityClaim.find({ key: `room:${room._id}`, holder: res.body.id }).sort({ slot: 1 })).map((c) => c.slot);
      expect(units).to.have.length(2);
      await book(room._id, slot(10, '09:00', '09:30'), await bearerFor(await makeResident({ community: community._id }))).expect(201);
      expect(await Notification.countDocuments({ person: resident._id, kind: 'room_booking_moved' })).to.equal(1);
    });

    it('checks in with the room’s code, within the window only', async () => {
      const allDay = await makeRoom(facility, { minNoticeMinutes: 0, openingHours: [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, open: '00:00', close: '24:00' })) });
      const body = soonest(30);
      const res = await book(allDay._id, body).expect(201);
      const wrong = await request.post(`/api/v1/room-bookings/${res.body.id}/check-in`).set('Authorization', auth.resident)
        .send({ code: allDay.checkInCode === '000000' ? '000001' : '000000' }).expect(400);
      expect(wrong.body.error.code).to.equal('check_in_code_invalid');

      // The window (15 minutes before the start until the end), with the clock set by the test.
      const start = new Date(body.start).getTime();
      const booking = (await RoomBooking.findById(res.body.id))!;
      const roomWithFacility = await findRoom(String(allDay._id));
      const user = await loadAuthUser(String(resident._id), 'test');
      const early = await checkInRoomBooking(roomDeps(), user, booking, roomWithFacility, allDay.checkInCode, new Date(start - 20 * 60_000)).catch((e) => e);
      expect(early.code).to.equal('check_in_not_open');
      const done = await checkInRoomBooking(roomDeps(), user, booking, roomWithFacility, allDay.checkInCode, new Date(start - 10 * 60_000));
      expect(done.status).to.equal('checked_in');
      // A checked-in booking is not released as a no-show.
      expect(await releaseNoShows(roomDeps(), new Date(start + 20 * 60_000))).to.deep.equal({ released: 0 });
    });
  });

  describe('no-shows', () => {
    it('releases bookings not checked in 15 minutes after start, counts them, and blocks after 3 in 30 days', async () => {
      const absent = await makeResident({ community: community._id });
      const token = await bearerFor(absent);
      const ids: string[] = [];
      for (const d of [11, 12, 13]) ids.push((await book(room._id, slot(d, '09:00', '10:00'), token).expect(201)).body.id);

      // Run the release as if it were 09:16 on each of those days.
      const { released } = await releaseNoShows(roomDeps(), new Date(atShanghai(dayFromNow(13), '09:16')));
      expect(released).to.be.at.least(3);
      expect(await releaseNoShows(roomDeps(), new Date(atShanghai(dayFromNow(13), '09:16')))).to.deep.equal({ released: 0 });
      for (const id of ids) expect((await RoomBooking.findById(id))!.status).to.equal('released_no_show');
      expect(await NoShow.countDocuments({ person: absent._id })).to.equal(3);
      // The slot is free again.
      expect(await CapacityClaim.countDocuments({ holder: trusted({ $in: ids }), key: `room:${room._id}` })).to.equal(0);

      const blocked = await book(room._id, slot(4, '18:00', '19:00'), token).expect(403);
      expect(blocked.body.error.code).to.equal('booking_blocked');
      expect(blocked.body.error.message).to.match(/3 次预约未到场/);

      // The resident is told of each release, and once of the block that follows.
      const told = await Notification.find({ person: absent._id }).sort({ key: 1 });
      const releases = told.filter((n) => n.kind === 'room_booking_released_no_show');
      expect(releases.map((n) => n.key).sort()).to.deep.equal(ids.map((id) => `room-booking:${id}:released-no-show`).sort());
      expect(releases[0]!.text).to.match(/仍未签到，预约已自动释放/);
      const block = told.filter((n) => n.kind === 'booking_blocked');
      expect(block).to.have.length(1);
      expect(block[0]!.text).to.match(/近 30 天内有 3 次活动室预约未到场，.*前暂不能预约活动室/);
    });
  });
});
