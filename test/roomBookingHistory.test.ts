import { expect } from 'chai';
import { atShanghai, dayjs, shanghaiDay } from '../models/calendar.js';
import { RoomBooking } from '../models/index.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { useCleanStorage } from './support/storage.js';
import { makeCommunity, makeFacility, makeResident, makeRoom, makeStaff } from './factories/index.js';

const dayFromNow = (days: number) => dayjs.utc(shanghaiDay(new Date())).add(days, 'day').format('YYYY-MM-DD');
const at = (days: number, hhmm: string) => atShanghai(dayFromNow(days), hhmm).toISOString();

describe('a room booking\'s history (GET /api/v1/room-bookings/:id, for the staff console)', () => {
  useCleanStorage();
  let request: ReturnType<typeof createTestApp>['request'];
  let room: Awaited<ReturnType<typeof makeRoom>>;
  let other: Awaited<ReturnType<typeof makeRoom>>;
  let auth: { resident: string; staff: string; admin: string; otherStaff: string };
  let ids: { resident: string; staff: string };

  before(async () => {
    ({ request } = createTestApp());
    const community = await makeCommunity();
    const facility = await makeFacility(community);
    room = await makeRoom(facility, { name: '书画室', capacity: 20, weeklyQuotaPerResident: 20, approvalRequired: true });
    other = await makeRoom(facility, { name: '舞蹈室', capacity: 20, weeklyQuotaPerResident: 20 });
    const resident = await makeResident({ community: community._id, name: '王建国' });
    const staff = (await makeStaff({ community: community._id, name: '李主任', staffScope: { community: community._id, facilities: [facility._id] } })).person;
    const admin = (await makeStaff({ community: community._id, roles: ['admin'], staffScope: {} })).person;
    const elsewhere = await makeCommunity();
    const otherStaff = (await makeStaff({ community: elsewhere._id })).person;
    auth = { resident: await bearerFor(resident), staff: await bearerFor(staff), admin: await bearerFor(admin), otherStaff: await bearerFor(otherStaff) };
    ids = { resident: String(resident._id), staff: String(staff._id) };
  });

  /** A pending booking of 书画室 (which needs approval), `days` ahead at 09:00–10:00. */
  const bookPending = async (days = 5) => {
    const res = await request.post(`/api/v1/rooms/${room._id}/bookings`).set('Authorization', auth.resident)
      .send({ start: at(days, '09:00'), end: at(days, '10:00'), purpose: '书法练习', attendees: 6 }).expect(201);
    expect(res.body.status).to.equal('pending');
    return res.body.id as string;
  };

  it('gives staff every change, oldest first, with who (named), when, why, and where a move came from', async () => {
    const id = await bookPending();
    await request.post(`/api/v1/room-bookings/${id}/approve`).set('Authorization', auth.staff).expect(200);
    await request.post(`/api/v1/room-bookings/${id}/move`).set('Authorization', auth.staff)
      .send({ roomId: String(other._id), start: at(5, '14:00'), end: at(5, '15:00'), reason: '书画室维修' }).expect(200);
    await request.post(`/api/v1/room-bookings/${id}/cancel`).set('Authorization', auth.staff).send({ reason: '活动取消' }).expect(200);

    const res = await request.get(`/api/v1/room-bookings/${id}`).set('Authorization', auth.staff).expect(200);
    const history = res.body.history as Array<Record<string, unknown> & { by: { id: string; name: string; staff: boolean }; was: Record<string, unknown> | null }>;
    expect(history.map((h) => h.action)).to.deep.equal(['created', 'approved', 'moved', 'cancelled']);
    expect(history[0]).to.include({ from: null, to: 'pending', reason: null });
    expect(history[0]!.by).to.deep.equal({ id: ids.resident, name: '王建国', staff: false });
    expect(history[1]!.by).to.deep.equal({ id: ids.staff, name: '李主任', staff: true });
    expect(history[2]).to.include({ from: 'confirmed', to: 'confirmed', reason: '书画室维修' });
    expect(history[2]!.was).to.deep.equal({ room: String(room._id), roomName: '书画室', start: at(5, '09:00'), end: at(5, '10:00') });
    expect(history[3]).to.include({ to: 'cancelled', reason: '活动取消' });
    expect(history.every((h) => typeof h.at === 'string')).to.equal(true);
    // An admin sees it too.
    const asAdmin = await request.get(`/api/v1/room-bookings/${id}`).set('Authorization', auth.admin).expect(200);
    expect(asAdmin.body.history).to.have.length(4);
  });

  it('never gives the resident the history (it names staff), only the booking', async () => {
    const id = await bookPending(6);
    await request.post(`/api/v1/room-bookings/${id}/approve`).set('Authorization', auth.staff).expect(200);
    const res = await request.get(`/api/v1/room-bookings/${id}`).set('Authorization', auth.resident).expect(200);
    expect(res.body).to.include({ id, status: 'confirmed' });
    expect(res.body).not.to.have.property('history');
    expect(JSON.stringify(res.body)).not.to.include('李主任');
  });

  it('refuses staff of another community and a caller without a token', async () => {
    const id = await bookPending(7);
    await request.get(`/api/v1/room-bookings/${id}`).set('Authorization', auth.otherStaff).expect(403);
    await request.get(`/api/v1/room-bookings/${id}`).expect(401);
  });

  it('presents a booking written before history kept moves, or with none, without failing', async () => {
    const id = await bookPending(8);
    await RoomBooking.updateOne({ _id: id }, { $set: { history: [] } });
    const empty = await request.get(`/api/v1/room-bookings/${id}`).set('Authorization', auth.staff).expect(200);
    expect(empty.body.history).to.deep.equal([]);
    await RoomBooking.updateOne({ _id: id }, { $set: { history: [{ from: 'confirmed', to: 'confirmed', at: new Date(), by: null, reason: '旧记录' }] } });
    const old = await request.get(`/api/v1/room-bookings/${id}`).set('Authorization', auth.staff).expect(200);
    expect(old.body.history).to.deep.equal([{ action: 'moved', from: 'confirmed', to: 'confirmed', at: old.body.history[0].at, by: null, reason: '旧记录', was: null }]);
  });
});
