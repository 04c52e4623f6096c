import { expect } from 'chai';
import { atShanghai } from '../models/calendar.js';
import { Notification, Person, RoomBooking, type CommunityDoc, type FacilityDoc, type PersonDoc, type RoomDoc } from '../models/index.js';
import { backfillNotificationKeys } from '../src/outbox/backfill.js';
import { makeCommunity, makeFacility, makeKitchen, makeResident, makeRoom, makeStaff } from './factories/index.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { useCleanStorage } from './support/storage.js';

describe('communities and the approvals queue (for the staff console)', () => {
  useCleanStorage();

  let request: ReturnType<typeof createTestApp>['request'];
  let community: CommunityDoc;
  let other: CommunityDoc;
  let centre: FacilityDoc;
  let kitchen: FacilityDoc;
  let hall: RoomDoc;
  let staff: PersonDoc;
  let admin: PersonDoc;
  let otherStaff: PersonDoc;
  let resident: PersonDoc;

  const booking = (day: string, from: string, to: string, status: 'pending' | 'confirmed', end?: Date) => RoomBooking.create({
    room: hall._id, facility: centre._id, community: community._id, bookedFor: resident._id, bookedBy: resident._id,
    start: atShanghai(day, from), end: end ?? atShanghai(day, to), purpose: '书法课', attendees: 8, status, quotaWeek: '2030-W10',
  });

  before(async () => {
    ({ request } = createTestApp());
    community = await makeCommunity({ name: '幸福里社区' });
    other = await makeCommunity({ name: '阳光社区' });
    centre = await makeFacility(community, { name: '幸福里服务中心' });
    kitchen = await makeKitchen(community, { name: '幸福里长者饭堂' });
    await makeFacility(other, { name: '阳光服务中心' });
    hall = await makeRoom(centre, { name: '多功能厅' });
    staff = (await makeStaff({ community: community._id })).person;
    admin = (await makeStaff({ community: community._id, roles: ['admin'], staffScope: {} })).person;
    otherStaff = (await makeStaff({ community: other._id })).person;
    resident = await makeResident({ community: community._id, name: '陈桂兰', phone: '13800000123' });
  });

  describe('GET /api/v1/communities', () => {
    it('lets a resident see every community and its facilities, to choose theirs, managing none', async () => {
      const res = await request.get('/api/v1/communities').set('Authorization', await bearerFor(resident)).expect(200);
      const names = res.body.items.map((c: { name: string }) => c.name);
      expect(names).to.include.members(['幸福里社区', '阳光社区']);
      const mine = res.body.items.find((c: { id: string }) => c.id === String(community._id));
      expect(mine.facilities.map((f: { name: string }) => f.name)).to.have.members(['幸福里服务中心', '幸福里长者饭堂']);
      expect(mine.facilities.every((f: { manage: boolean }) => f.manage === false)).to.equal(true);
    });

    it('gives staff only their community with scope=staff, each facility managed', async () => {
      const res = await request.get('/api/v1/communities?scope=staff').set('Authorization', await bearerFor(staff)).expect(200);
      expect(res.body.items).to.have.length(1);
      expect(res.body.items[0]).to.include({ id: String(community._id), name: '幸福里社区' });
      const kinds = res.body.items[0].facilities.map((f: { kind: string; manage: boolean }) => [f.kind, f.manage]);
      expect(kinds).to.deep.include.members([['community_centre', true], ['kitchen', true]]);
    });

    it('keeps a staff member limited to some facilities to those', async () => {
      const limited = (await makeStaff({ community: community._id, staffScope: { community: community._id, facilities: [kitchen._id] } })).person;
      const res = await request.get('/api/v1/communities?scope=staff').set('Authorization', await bearerFor(limited)).expect(200);
      expect(res.body.items[0].facilities.map((f: { id: string }) => f.id)).to.deep.equal([String(kitchen._id)]);
    });

    it('gives an admin every community with scope=staff', async () => {
      const res = await request.get('/api/v1/communities?scope=staff').set('Authorization', await bearerFor(admin)).expect(200);
      expect(res.body.items.map((c: { id: string }) => c.id)).to.include.members([String(community._id), String(other._id)]);
    });

    it('refuses an unknown scope and a caller without a token', async () => {
      const res = await request.get('/api/v1/communities?scope=mine').set('Authorization', await bearerFor(staff)).expect(400);
      expect(res.body.error.code).to.equal('validation_error');
      await request.get('/api/v1/communities').expect(401);
    });
  });

  describe('GET /api/v1/facilities/:id/pending-bookings', () => {
    it('lists pending bookings not yet over, soonest first, with the room name and the booker\'s masked phone', async () => {
      const later = await booking('2030-03-06', '10:00', '11:00', 'pending');
      const sooner = await booking('2030-03-05', '10:00', '11:00', 'pending');
      await booking('2030-03-05', '14:00', '15:00', 'confirmed');
      await booking('2020-03-05', '14:00', '15:00', 'pending'); // long over: not in the queue
      const res = await request.get(`/api/v1/facilities/${centre._id}/pending-bookings`).set('Authorization', await bearerFor(staff));
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.items.map((b: { id: string }) => b.id)).to.deep.equal([String(sooner._id), String(later._id)]);
      expect(res.body.items[0]).to.deep.include({ roomName: '多功能厅', status: 'pending', purpose: '书法课' });
      expect(res.body.items[0].booker).to.deep.equal({ id: String(resident._id), name: '陈桂兰', phone: '138****0123' });
    });

    it('refuses staff of another community and residents', async () => {
      for (const who of [otherStaff, resident]) {
        const res = await request.get(`/api/v1/facilities/${centre._id}/pending-bookings`).set('Authorization', await bearerFor(who)).expect(403);
        expect(res.body.error.code).to.equal('forbidden');
      }
    });
  });

  describe('GET /api/v1/residents?q= (the desk\'s search)', () => {
    it('finds residents by part of the name or 4+ digits of the phone, the text never a pattern', async () => {
      const token = await bearerFor(staff);
      const byName = await request.get(`/api/v1/residents?q=${encodeURIComponent('桂兰')}`).set('Authorization', token).expect(200);
      expect(byName.body.items.map((p: { name: string }) => p.name)).to.deep.equal(['陈桂兰']);
      const byPhone = await request.get('/api/v1/residents?q=0123').set('Authorization', token).expect(200);
      expect(byPhone.body.items.map((p: { id: string }) => p.id)).to.deep.equal([String(resident._id)]);
      const pattern = await request.get(`/api/v1/residents?q=${encodeURIComponent('.*')}`).set('Authorization', token).expect(200);
      expect(pattern.body.items).to.deep.equal([]);
      const other = await request.get(`/api/v1/residents?q=${encodeURIComponent('桂兰')}`).set('Authorization', await bearerFor(otherStaff)).expect(200);
      expect(other.body.items).to.deep.equal([]);
    });
  });

  describe('GET /api/v1/residents (pages served from the read cache)', () => {
    it('shows a resident added, changed or anonymised after a first view at once, with the total', async () => {
      const token = await bearerFor(staff);
      const list = async (q = '') => (await request.get(`/api/v1/residents?limit=2${q}`).set('Authorization', token).expect(200)).body as { items: Array<{ id: string; name: string; grid: string | null }>; total: number };
      const first = await list();
      const added = await makeResident({ community: community._id, name: '新来的周阿姨' });
      const second = await list();
      expect(second.total).to.equal(first.total + 1);
      const last = await list(`&offset=${second.total - 1}`);
      expect(last.items.map((p) => p.id)).to.deep.equal([String(added._id)]);
      await request.patch(`/api/v1/residents/${added._id}`).set('Authorization', token).send({ grid: '第九网格' }).expect(200);
      expect((await list(`&offset=${second.total - 1}`)).items[0]!.grid).to.equal('第九网格');
      await Person.updateOne({ _id: added._id }, { $set: { status: 'anonymised' } });
      expect((await list()).total).to.equal(first.total);
    });

    it('refuses a resident (403) and lists nobody of another community', async () => {
      await request.get('/api/v1/residents').set('Authorization', await bearerFor(resident)).expect(403);
      const res = await request.get('/api/v1/residents').set('Authorization', await bearerFor(otherStaff)).expect(200);
      expect(res.body.items.map((p: { id: string }) => p.id)).not.to.include(String(resident._id));
    });
  });

  describe('GET /api/v1/room-bookings/:id/messages', () => {
    it('shows staff (and the resident) what the resident was told about the booking', async () => {
      const pending = await booking('2030-04-02', '10:00', '11:00', 'pending');
      await request.post(`/api/v1/room-bookings/${pending._id}/approve`).set('Authorization', await bearerFor(staff)).expect(200);
      for (const who of [staff, resident]) {
        const res = await request.get(`/api/v1/room-bookings/${pending._id}/messages`).set('Authorization', await bearerFor(who)).expect(200);
        expect(res.body.items).to.have.length(1);
        expect(res.body.items[0].kind).to.equal('room_booking_approved');
        expect(res.body.items[0].text).to.include('已通过审核');
      }
      await request.get(`/api/v1/room-bookings/${pending._id}/messages`).set('Authorization', await bearerFor(otherStaff)).expect(403);
    });

    it('reads the booking\'s messages by their subject: another booking\'s are not shown, one stored before the field is found once backfilled', async () => {
      const mine = await booking('2030-04-03', '10:00', '11:00', 'pending');
      const other = await booking('2030-04-03', '14:00', '15:00', 'pending');
      const token = await bearerFor(staff);
      await request.post(`/api/v1/room-bookings/${other._id}/approve`).set('Authorization', token).expect(200);
      // As written before notifications had `subject` and `month` (no such fields).
      const at = new Date('2026-01-05T02:00:00Z');
      await Notification.collection.insertOne({
        key: `room-booking:${mine._id}:reminder-eve@1`, person: resident._id, kind: 'room_booking_reminder', text: '旧的提醒', dueAt: at, createdAt: at, updatedAt: at,
      });
      const url = `/api/v1/room-bookings/${mine._id}/messages`;
      expect((await request.get(url).set('Authorization', token).expect(200)).body.items).to.deep.equal([]);
      expect(await backfillNotificationKeys()).to.be.greaterThan(0);
      expect(await backfillNotificationKeys()).to.equal(0);
      const old = await Notification.findOne({ key: `room-booking:${mine._id}:reminder-eve@1` }).lean();
      expect(old).to.include({ subject: `room-booking:${mine._id}`, month: '2026-01' });
      await request.post(`/api/v1/room-bookings/${mine._id}/approve`).set('Authorization', token).expect(200);
      const res = await request.get(url).set('Authorization', token).expect(200);
      expect(res.body.items.map((i: { kind: string }) => i.kind)).to.deep.equal(['room_booking_reminder', 'room_booking_approved']);
      expect(res.body.items[0].text).to.equal('旧的提醒');
      const theirs = await request.get(`/api/v1/room-bookings/${other._id}/messages`).set('Authorization', token).expect(200);
      expect(theirs.body.items.map((i: { kind: string }) => i.kind)).to.deep.equal(['room_booking_approved']);
    });

    it('answers 404 for an unknown booking and 401 without sign-in', async () => {
      const token = await bearerFor(staff);
      const missing = await request.get('/api/v1/room-bookings/0123456789abcdef01234567/messages').set('Authorization', token).expect(404);
      expect(missing.body.error.code).to.equal('not_found');
      await request.get('/api/v1/room-bookings/0123456789abcdef01234567/messages').expect(401);
    });
  });
});
