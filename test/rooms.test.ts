import { expect } from 'chai';
import { Blackout, Room, RoomBooking, type CommunityDoc, type FacilityDoc, type PersonDoc, type RoomDoc } from '../models/index.js';
import { atShanghai, dayjs, shanghaiDay } from '../models/calendar.js';
import { facilitySchedule } from '../src/commands/roomSchedule.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { testEnvironment } from './support/env.js';
import { useCleanStorage } from './support/storage.js';
import { makeCommunity, makeFacility, makeResident, makeRoom, makeStaff } from './factories/index.js';

/** A Shanghai day `n` days from today. */
const daysFromNow = (n: number) => dayjs.utc(shanghaiDay(new Date())).add(n, 'day').format('YYYY-MM-DD');
const everyDay = (open: string, close: string) => [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, open, close }));
const CHINESE = /[\u4e00-\u9fff]/;

describe('rooms: settings, blackouts, availability, free rooms and the staff grid', () => {
  useCleanStorage();
  let request: ReturnType<typeof createTestApp>['request'];
  let community: CommunityDoc;
  let facility: FacilityDoc;
  let otherFacility: FacilityDoc;
  let staff: PersonDoc;
  let otherStaff: PersonDoc;
  let resident: PersonDoc;
  const day = daysFromNow(3);
  const at = (hhmm: string, d = day) => atShanghai(d, hhmm).toISOString();
  const auth = (person: PersonDoc) => bearerFor(person);

  /** A booking made through the API, as a resident does it. */
  async function book(person: PersonDoc, room: RoomDoc, from: string, to: string, purpose = '合唱排练', d = day) {
    const res = await request.post(`/api/v1/rooms/${room._id}/bookings`).set('Authorization', await auth(person))
      .send({ start: at(from, d), end: at(to, d), purpose, attendees: 5 });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body as { id: string };
  }

  function expectRefusal(res: { status: number; body: { error?: { code: string; message: string } } }, status: number, code: string) {
    expect(res.status, JSON.stringify(res.body)).to.equal(status);
    expect(res.body.error!.code).to.equal(code);
    expect(res.body.error!.message).to.match(CHINESE);
  }

  before(async () => {
    ({ request } = createTestApp());
    community = await makeCommunity();
    facility = await makeFacility(community);
    otherFacility = await makeFacility(community);
    staff = (await makeStaff({ community: community._id, staffScope: { community: community._id, facilities: [facility._id] } })).person;
    otherStaff = (await makeStaff({ community: community._id, staffScope: { community: community._id, facilities: [otherFacility._id] } })).person;
    resident = await makeResident({ community: community._id });
  });

  describe('POST /api/v1/facilities/:facilityId/rooms', () => {
    it('lets the facility\'s staff create a room, with the facility\'s hours by default and the check-in code', async () => {
      const res = await request.post(`/api/v1/facilities/${facility._id}/rooms`).set('Authorization', await auth(staff))
        .send({ name: '书画室', capacity: 12, equipment: ['书画桌'], weeklyQuotaPerResident: 2 }).expect(201);
      expect(res.body).to.include({ name: '书画室', capacity: 12, facility: String(facility._id), weeklyQuotaPerResident: 2 });
      expect(res.body.openingHours).to.have.length(7);
      expect(res.body.checkInCode).to.match(/^\d{6}$/);
      expect(await Room.countDocuments({ facility: facility._id, name: '书画室' })).to.equal(1);
    });

    it('refuses an open day under 8 hours, naming the weekday, and creates nothing', async () => {
      const hours = everyDay('08:00', '20:00').map((h) => (h.weekday === 1 ? { ...h, close: '15:30' } : h));
      const res = await request.post(`/api/v1/facilities/${facility._id}/rooms`).set('Authorization', await auth(staff))
        .send({ name: '舞蹈室', capacity: 30, openingHours: hours });
      expectRefusal(res, 400, 'opening_hours_too_short');
      expect(res.body.error.message).to.include('星期一').and.include('7.5 小时').and.include('8 小时');
      expect(await Room.countDocuments({ name: '舞蹈室' })).to.equal(0);
    });

    it('accepts exactly 8 hours (also split by a lunch break) and a closed day', async () => {
      const hours = [
        { weekday: 1, open: '08:00', close: '12:00' }, { weekday: 1, open: '13:00', close: '17:00' },
        { weekday: 2, open: '09:00', close: '17:00' },
        { weekday: 3, open: '08:00', close: '20:00' },
      ];
      const res = await request.post(`/api/v1/facilities/${facility._id}/rooms`).set('Authorization', await auth(staff))
        .send({ name: '舞蹈室', capacity: 30, openingHours: hours }).expect(201);
      expect(res.body.openingHours).to.have.length(4);
    });

    it('refuses malformed hours (closing before opening) with its own code', async () => {
      const res = await request.post(`/api/v1/facilities/${facility._id}/rooms`).set('Authorization', await auth(staff))
        .send({ name: '棋牌室', capacity: 8, openingHours: [{ weekday: 2, open: '20:00', close: '08:00' }] });
      expectRefusal(res, 400, 'opening_hours_invalid');
    });

    it('refuses staff of another facility and residents (403), and a duplicate name (409)', async () => {
      const body = { name: '会议室', capacity: 10 };
      expectRefusal(await request.post(`/api/v1/facilities/${facility._id}/rooms`).set('Authorization', await auth(otherStaff)).send(body), 403, 'forbidden');
      expectRefusal(await request.post(`/api/v1/facilities/${facility._id}/rooms`).set('Authorization', await auth(resident)).send(body), 403, 'forbidden');
      expect(await Room.countDocuments({ name: '会议室' })).to.equal(0);
      const dup = await request.post(`/api/v1/facilities/${facility._id}/rooms`).set('Authorization', await auth(staff)).send({ name: '书画室', capacity: 5 });
      expectRefusal(dup, 409, 'room_name_taken');
    });

    it('validates the input (400 validation_error in Chinese)', async () => {
      const res = await request.post(`/api/v1/facilities/${facility._id}/rooms`).set('Authorization', await auth(staff))
        .send({ name: '', capacity: 0, maxDurationMinutes: 45 });
      expectRefusal(res, 400, 'validation_error');
      expect(res.body.error.details.map((d: { field: string }) => d.field)).to.include.members(['body.name', 'body.capacity', 'body.maxDurationMinutes']);
    });
  });

  describe('PATCH /api/v1/rooms/:roomId', () => {
    let room: RoomDoc;
    before(async () => {
      room = await makeRoom(facility, { name: '多功能厅' });
    });

    it('lets the facility\'s staff change capacity, equipment and the booking rules', async () => {
      const res = await request.patch(`/api/v1/rooms/${room._id}`).set('Authorization', await auth(staff)).send({
        capacity: 50, equipment: ['音响', '投影仪'], minNoticeMinutes: 120, maxAdvanceDays: 30, maxDurationMinutes: 180,
        weeklyQuotaPerResident: 5, approvalRequired: true, approvalRequiredFor: ['收费课程'],
        openingHours: [...everyDay('08:00', '16:00'), { weekday: 6, open: '17:00', close: '21:00' }].filter((h) => h.weekday !== 0),
      }).expect(200);
      expect(res.body).to.include({ capacity: 50, minNoticeMinutes: 120, maxAdvanceDays: 30, maxDurationMinutes: 180, approvalRequired: true });
      expect(res.body.approvalRequiredFor).to.deep.equal(['收费课程']);
      const saved = (await Room.findById(room._id))!;
      expect(saved.capacity).to.equal(50);
      expect(saved.openingHours.filter((h) => h.weekday === 6)).to.have.length(2);
    });

    it('refuses a day under 8 hours (Saturday 7 h), naming it, and changes nothing', async () => {
      const hours = everyDay('08:00', '20:00').map((h) => (h.weekday === 6 ? { ...h, open: '10:00', close: '17:00' } : h));
      const res = await request.patch(`/api/v1/rooms/${room._id}`).set('Authorization', await auth(staff)).send({ openingHours: hours, capacity: 99 });
      expectRefusal(res, 400, 'opening_hours_too_short');
      expect(res.body.error.message).to.include('星期六');
      expect((await Room.findById(room._id))!.capacity).to.equal(50);
    });

    it('refuses staff of another facility and residents (403)', async () => {
      expectRefusal(await request.patch(`/api/v1/rooms/${room._id}`).set('Authorization', await auth(otherStaff)).send({ capacity: 1 }), 403, 'forbidden');
      expectRefusal(await request.patch(`/api/v1/rooms/${room._id}`).set('Authorization', await auth(resident)).send({ capacity: 1 }), 403, 'forbidden');
      expect((await Room.findById(room._id))!.capacity).to.equal(50);
    });

    it('answers 404 for an unknown room and 400 for an empty change', async () => {
      expectRefusal(await request.patch('/api/v1/rooms/0123456789abcdef01234567').set('Authorization', await auth(staff)).send({ capacity: 3 }), 404, 'not_found');
      expectRefusal(await request.patch(`/api/v1/rooms/${room._id}`).set('Authorization', await auth(staff)).send({}), 400, 'validation_error');
    });
  });

  describe('GET /api/v1/rooms', () => {
    let centre: FacilityDoc;
    before(async () => {
      centre = await makeFacility(community);
      await makeRoom(centre, { name: 'A 小会议室', capacity: 8, equipment: ['白板'] });
      await makeRoom(centre, { name: 'B 大教室', capacity: 40, equipment: ['投影仪', '音响'] });
      await makeRoom(centre, { name: 'C 活动室', capacity: 25, equipment: ['投影仪'] });
    });

    it('filters by facility, capacity and equipment; residents never see the check-in code', async () => {
      const res = await request.get(`/api/v1/rooms?facility=${centre._id}&minCapacity=20&equipment=投影仪`)
        .set('Authorization', await auth(resident)).expect(200);
      expect(res.body.items.map((r: { name: string }) => r.name)).to.deep.equal(['B 大教室', 'C 活动室']);
      for (const r of res.body.items) expect(r).not.to.have.property('checkInCode');
      const both = await request.get(`/api/v1/rooms?facility=${centre._id}&equipment=投影仪,音响`).set('Authorization', await auth(resident)).expect(200);
      expect(both.body.items.map((r: { name: string }) => r.name)).to.deep.equal(['B 大教室']);
    });

    it('lists the rooms of the caller\'s community without a facility, with the code only for that facility\'s staff', async () => {
      const other = await makeRoom(await makeFacility(await makeCommunity()), { name: '别的社区的活动室' });
      const mine = await request.get('/api/v1/rooms').set('Authorization', await auth(resident)).expect(200);
      expect(mine.body.items.map((r: { id: string }) => r.id)).not.to.include(String(other._id));
      expect(mine.body.items.length).to.be.greaterThan(3);
      const asStaff = await request.get(`/api/v1/rooms?facility=${facility._id}`).set('Authorization', await auth(staff)).expect(200);
      expect(asStaff.body.items.length).to.be.greaterThan(0);
      for (const r of asStaff.body.items) expect(r.checkInCode).to.match(/^\d{6}$/);
      const asOtherStaff = await request.get(`/api/v1/rooms?facility=${facility._id}`).set('Authorization', await auth(otherStaff)).expect(200);
      for (const r of asOtherStaff.body.items) expect(r).not.to.have.property('checkInCode');
    });

    it('needs a sign-in (401)', async () => {
      await request.get('/api/v1/rooms').expect(401);
    });
  });

  describe('GET /api/v1/rooms/:roomId/availability', () => {
    let room: RoomDoc;
    before(async () => {
      room = await makeRoom(facility, { name: '活动室甲' });
    });
    const free = async () => (await request.get(`/api/v1/rooms/${room._id}/availability?date=${day}`)
      .set('Authorization', await auth(resident)).expect(200)).body;

    it('is the whole opening day before any booking', async () => {
      const body = await free();
      expect(body.openingHours).to.deep.equal([{ open: '08:00', close: '20:00' }]);
      expect(body.free).to.deep.equal([{ start: at('08:00'), end: at('20:00') }]);
    });

    it('leaves out a booking, then a blackout', async () => {
      await book(resident, room, '10:00', '12:00');
      expect((await free()).free).to.deep.equal([
        { start: at('08:00'), end: at('10:00') }, { start: at('12:00'), end: at('20:00') },
      ]);
      await request.post(`/api/v1/facilities/${facility._id}/blackouts`).set('Authorization', await auth(staff))
        .send({ roomId: String(room._id), start: at('14:00'), end: at('16:30'), reason: '空调维修' }).expect(201);
      const body = await free();
      expect(body.free).to.deep.equal([
        { start: at('08:00'), end: at('10:00') }, { start: at('12:00'), end: at('14:00') }, { start: at('16:30'), end: at('20:00') },
      ]);
      expect(body.blackouts[0]).to.include({ reason: '空调维修' });
    });

    it('is empty on a closed day, and refuses a date that is not one (400)', async () => {
      const closed = await makeRoom(facility, { openingHours: everyDay('08:00', '20:00').filter((h) => h.weekday !== dayjs.utc(day).day()) });
      const res = await request.get(`/api/v1/rooms/${closed._id}/availability?date=${day}`).set('Authorization', await auth(resident)).expect(200);
      expect(res.body).to.deep.include({ free: [], openingHours: [], openingLabel: '不开放' });
      expectRefusal(await request.get(`/api/v1/rooms/${room._id}/availability?date=2026-02-30`).set('Authorization', await auth(resident)), 400, 'validation_error');
    });
  });

  describe('POST /api/v1/facilities/:facilityId/blackouts', () => {
    // A facility of its own, so that a facility-wide blackout meets only these bookings.
    let site: FacilityDoc;
    let siteStaff: PersonDoc;
    let room: RoomDoc;
    let neighbour: RoomDoc;
    let booking: { id: string };
    let elsewhere: { id: string };
    before(async () => {
      site = await makeFacility(community);
      siteStaff = (await makeStaff({ community: community._id, staffScope: { community: community._id, facilities: [site._id] } })).person;
      room = await makeRoom(site, { name: '活动室乙' });
      neighbour = await makeRoom(site, { name: '活动室丙' });
      booking = await book(resident, room, '10:00', '12:00', '书法班');
      elsewhere = await book(resident, neighbour, '10:00', '11:00', '象棋');
    });

    it('refuses staff of another facility and residents (403), creating nothing', async () => {
      const body = { start: at('09:00'), end: at('13:00'), reason: '消防检查' };
      expectRefusal(await request.post(`/api/v1/facilities/${site._id}/blackouts`).set('Authorization', await auth(otherStaff)).send(body), 403, 'forbidden');
      expectRefusal(await request.post(`/api/v1/facilities/${site._id}/blackouts`).set('Authorization', await auth(resident)).send(body), 403, 'forbidden');
      expect(await Blackout.countDocuments({ reason: '消防检查' })).to.equal(0);
    });

    it('flags the bookings it covers (listed, never cancelled) and refuses new bookings over it', async () => {
      const res = await request.post(`/api/v1/facilities/${site._id}/blackouts`).set('Authorization', await auth(siteStaff))
        .send({ roomId: String(room._id), start: at('09:00'), end: at('13:00'), reason: '水管维修' }).expect(201);
      expect(res.body.blackout).to.include({ room: String(room._id), reason: '水管维修' });
      expect(res.body.flagged.map((b: { id: string }) => b.id)).to.deep.equal([booking.id]);
      expect(res.body.flagged[0]).to.include({ status: 'confirmed' });
      expect(res.body.flagged[0].flag).to.include({ reason: '水管维修' });

      // The resident's own view shows the flag; the booking in the other room is untouched.
      const mine = await request.get(`/api/v1/room-bookings/${booking.id}`).set('Authorization', await auth(resident)).expect(200);
      expect(mine.body.status).to.equal('confirmed');
      expect(mine.body.flag.reason).to.equal('水管维修');
      expect((await RoomBooking.findById(elsewhere.id))!.flag?.reason).to.equal(undefined);

      const refused = await request.post(`/api/v1/rooms/${room._id}/bookings`).set('Authorization', await auth(await makeResident({ community: community._id })))
        .send({ start: at('12:00'), end: at('13:00'), purpose: '读书会', attendees: 3 });
      expectRefusal(refused, 409, 'room_blacked_out');
      expect(refused.body.error.message).to.include('水管维修');
    });

    it('without a room covers the whole facility', async () => {
      const res = await request.post(`/api/v1/facilities/${site._id}/blackouts`).set('Authorization', await auth(siteStaff))
        .send({ start: at('10:30'), end: at('10:45'), reason: '停电检修' }).expect(201);
      expect(res.body.blackout.room).to.equal(null);
      expect(res.body.flagged.map((b: { id: string }) => b.id)).to.have.members([booking.id, elsewhere.id]);
    });

    it('lists blackouts for staff, and lifting one clears its flags and lets bookings in again', async () => {
      const list = await request.get(`/api/v1/facilities/${site._id}/blackouts?from=${at('00:00')}&to=${at('24:00')}`)
        .set('Authorization', await auth(siteStaff)).expect(200);
      const reasons = list.body.items.map((b: { reason: string }) => b.reason);
      expect(reasons).to.include.members(['水管维修', '停电检修']);
      expectRefusal(await request.get(`/api/v1/facilities/${site._id}/blackouts`).set('Authorization', await auth(otherStaff)), 403, 'forbidden');

      const power = list.body.items.find((b: { reason: string }) => b.reason === '停电检修');
      expectRefusal(await request.delete(`/api/v1/blackouts/${power.id}`).set('Authorization', await auth(otherStaff)), 403, 'forbidden');
      const lifted = await request.delete(`/api/v1/blackouts/${power.id}`).set('Authorization', await auth(siteStaff)).expect(200);
      // The other room's booking is clear again; this room's keeps the water-pipe flag.
      expect(lifted.body).to.deep.equal({ deleted: true, unflagged: 1 });
      expect((await RoomBooking.findById(elsewhere.id))!.flag?.reason).to.equal(undefined);
      expect((await RoomBooking.findById(booking.id))!.flag?.reason).to.equal('水管维修');
      expectRefusal(await request.delete(`/api/v1/blackouts/${power.id}`).set('Authorization', await auth(siteStaff)), 404, 'not_found');
      await book(resident, neighbour, '11:00', '12:00', '围棋');
    });

    it('refuses a room of another facility (400) and an end before the start (400)', async () => {
      const foreign = await makeRoom(otherFacility);
      expectRefusal(await request.post(`/api/v1/facilities/${site._id}/blackouts`).set('Authorization', await auth(siteStaff))
        .send({ roomId: String(foreign._id), start: at('09:00'), end: at('10:00'), reason: '检修' }), 400, 'room_not_in_facility');
      expectRefusal(await request.post(`/api/v1/facilities/${site._id}/blackouts`).set('Authorization', await auth(siteStaff))
        .send({ start: at('10:00'), end: at('09:00'), reason: '检修' }), 400, 'validation_error');
    });
  });

  describe('GET /api/v1/facilities/:facilityId/free-rooms', () => {
    let centre: FacilityDoc;
    before(async () => {
      centre = await makeFacility(community);
      await makeRoom(centre, { name: '小会议室', capacity: 10, equipment: ['投影仪'] });
      await makeRoom(centre, { name: '大教室', capacity: 40, equipment: ['投影仪', '音响'] });
      const booked = await makeRoom(centre, { name: '报告厅', capacity: 60, equipment: ['投影仪', '音响'] });
      await makeRoom(centre, { name: '早关门', capacity: 60, equipment: ['投影仪', '音响'], openingHours: everyDay('08:00', '16:00') });
      await book(resident, booked, '15:00', '16:00', '讲座');
    });
    const query = async (q: string) => (await request.get(`/api/v1/facilities/${centre._id}/free-rooms?${q}`)
      .set('Authorization', await auth(resident)).expect(200)).body.items.map((r: { name: string }) => r.name);

    it('lists rooms free for the whole range, filtered by capacity and equipment', async () => {
      const range = `start=${encodeURIComponent(at('14:00'))}&end=${encodeURIComponent(at('17:00'))}`;
      expect(await query(range)).to.have.members(['小会议室', '大教室']);
      expect(await query(`${range}&minCapacity=20`)).to.deep.equal(['大教室']);
      expect(await query(`${range}&minCapacity=20&equipment=白板`)).to.deep.equal([]);
      // Before the booking and the early closing, all four are free.
      expect(await query(`start=${encodeURIComponent(at('09:00'))}&end=${encodeURIComponent(at('10:00'))}&equipment=音响`))
        .to.have.members(['大教室', '报告厅', '早关门']);
    });

    it('follows bookings, cancels and blackouts made after a first view (the grid projection is kept by every write)', async () => {
      const range = `start=${encodeURIComponent(at('18:00'))}&end=${encodeURIComponent(at('19:00'))}`;
      expect(await query(range)).to.have.members(['小会议室', '大教室', '报告厅']);
      const small = (await Room.findOne({ facility: centre._id, name: '小会议室' }))!;
      const evening = await book(resident, small, '18:30', '19:30', '晚会');
      expect(await query(range)).to.have.members(['大教室', '报告厅']);
      await request.post(`/api/v1/room-bookings/${evening.id}/cancel`).set('Authorization', await auth(resident)).send({}).expect(200);
      expect(await query(range)).to.have.members(['小会议室', '大教室', '报告厅']);
      const big = (await Room.findOne({ facility: centre._id, name: '大教室' }))!;
      const staff = (await makeStaff({ community: community._id, staffScope: { community: community._id, facilities: [centre._id] } })).person;
      await request.post(`/api/v1/facilities/${centre._id}/blackouts`).set('Authorization', await auth(staff))
        .send({ roomId: String(big._id), start: at('17:00'), end: at('18:30'), reason: '消杀' }).expect(201);
      expect(await query(range)).to.have.members(['小会议室', '报告厅']);
    });

    it('refuses a range in the past (400 range_in_past) and one over 24 hours (400 range_too_long)', async () => {
      expectRefusal(await request.get(`/api/v1/facilities/${centre._id}/free-rooms?start=${encodeURIComponent(at('09:00', daysFromNow(-1)))}&end=${encodeURIComponent(at('10:00', daysFromNow(-1)))}`)
        .set('Authorization', await auth(resident)), 400, 'range_in_past');
      expectRefusal(await request.get(`/api/v1/facilities/${centre._id}/free-rooms?start=${encodeURIComponent(at('09:00'))}&end=${encodeURIComponent(at('10:00', daysFromNow(4)))}`)
        .set('Authorization', await auth(resident)), 400, 'range_too_long');
    });

    it('returns capacity and equipment, and refuses a reversed range (400)', async () => {
      const res = await request.get(`/api/v1/facilities/${centre._id}/free-rooms?start=${encodeURIComponent(at('09:00'))}&end=${encodeURIComponent(at('10:00'))}&minCapacity=50`)
        .set('Authorization', await auth(resident)).expect(200);
      expect(res.body.items[0]).to.include.keys('capacity', 'equipment', 'id', 'name');
      expect(res.body.items[0]).not.to.have.property('checkInCode');
      expectRefusal(await request.get(`/api/v1/facilities/${centre._id}/free-rooms?start=${encodeURIComponent(at('10:00'))}&end=${encodeURIComponent(at('09:00'))}`)
        .set('Authorization', await auth(resident)), 400, 'validation_error');
    });
  });

  describe('GET /api/v1/facilities/:facilityId/schedule', () => {
    let centre: FacilityDoc;
    let centreStaff: PersonDoc;
    let booker: PersonDoc;
    let kept: { id: string };
    let later: { id: string };
    let dropped: { id: string };
    before(async () => {
      centre = await makeFacility(community);
      centreStaff = (await makeStaff({ community: community._id, staffScope: { community: community._id, facilities: [centre._id] } })).person;
      booker = await makeResident({ community: community._id, name: '周阿姨', phone: '13912345678' });
      const hall = await makeRoom(centre, { name: '一号厅' });
      await makeRoom(centre, { name: '二号厅', capacity: 8 });
      kept = await book(booker, hall, '09:00', '10:00', '太极');
      dropped = await book(booker, hall, '11:00', '12:00', '排练');
      later = await book(booker, hall, '09:00', '10:00', '太极', daysFromNow(5));
      await request.post(`/api/v1/room-bookings/${dropped.id}/cancel`).set('Authorization', await auth(booker)).send({}).expect(200);
    });

    it('shows every room and the day\'s bookings with the booker\'s phone masked', async () => {
      const res = await request.get(`/api/v1/facilities/${centre._id}/schedule?date=${day}`).set('Authorization', await auth(centreStaff)).expect(200);
      expect(res.body.rooms.map((r: { name: string }) => r.name)).to.deep.equal(['一号厅', '二号厅']);
      expect(res.body.rooms[1]).to.include({ capacity: 8 });
      expect(res.body.bookings.map((b: { id: string }) => b.id)).to.deep.equal([kept.id]);
      expect(res.body.bookings[0]).to.deep.include({ status: 'confirmed', purpose: '太极', booker: { name: '周阿姨', phone: '139****5678' }, flag: null });
      expect(JSON.stringify(res.body)).not.to.include('13912345678');
    });

    it('covers a week with days=7', async () => {
      const res = await request.get(`/api/v1/facilities/${centre._id}/schedule?date=${day}&days=7`).set('Authorization', await auth(centreStaff)).expect(200);
      expect(res.body.bookings.map((b: { id: string }) => b.id)).to.deep.equal([kept.id, later.id]);
    });

    it('is 403 for staff of another facility and for residents, and 400 for days other than 1 or 7', async () => {
      expectRefusal(await request.get(`/api/v1/facilities/${centre._id}/schedule?date=${day}`).set('Authorization', await auth(staff)), 403, 'forbidden');
      expectRefusal(await request.get(`/api/v1/facilities/${centre._id}/schedule?date=${day}`).set('Authorization', await auth(booker)), 403, 'forbidden');
      expectRefusal(await request.get(`/api/v1/facilities/${centre._id}/schedule?date=${day}&days=3`).set('Authorization', await auth(centreStaff)), 400, 'validation_error');
    });

    it('is the same command the benchmark calls', async () => {
      const grid = await facilitySchedule(testEnvironment().redis, centre._id, day, 1);
      expect(grid.bookings).to.have.length(1);
      expect(grid.from.toISOString()).to.equal(at('00:00'));
    });
  });
});
