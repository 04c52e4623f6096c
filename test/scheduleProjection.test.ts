import { expect } from 'chai';
import { atShanghai, dayjs, shanghaiDay } from '../models/calendar.js';
import { RoomBooking } from '../models/index.js';
import { refreshScheduleEntries } from '../src/booking/scheduleProjection.js';
import { facilitySchedule } from '../src/commands/roomSchedule.js';
import { deleteKeysWithPrefix } from '../src/storage/redis.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { testEnvironment } from './support/env.js';
import { useCleanStorage } from './support/storage.js';
import { makeCommunity, makeFacility, makeResident, makeRoom, makeStaff } from './factories/index.js';

const day = (n: number) => dayjs.utc(shanghaiDay(new Date())).add(n, 'day').format('YYYY-MM-DD');

describe('the staff grid’s Redis projection', () => {
  useCleanStorage();

  it('follows every write (book, move to another day, cancel) and is rebuilt from MongoDB when Redis loses it', async () => {
    const { request } = createTestApp();
    const community = await makeCommunity();
    const facility = await makeFacility(community);
    const room = await makeRoom(facility);
    const resident = await makeResident({ community: community._id, phone: '13800007777' });
    const staff = await bearerFor((await makeStaff({ community: community._id })).person);
    const { redis } = testEnvironment();
    const grid = async (d: string) => (await facilitySchedule(redis, facility._id, d, 1)).bookings;

    const booked = await request.post(`/api/v1/rooms/${room._id}/bookings`).set('Authorization', await bearerFor(resident))
      .send({ start: atShanghai(day(3), '10:00'), end: atShanghai(day(3), '11:00'), purpose: '合唱', attendees: 5 }).expect(201);
    const [entry] = await grid(day(3));
    expect(entry).to.deep.include({ id: booked.body.id, status: 'confirmed', purpose: '合唱', booker: { name: resident.name, phone: '138****7777' } });

    await request.post(`/api/v1/room-bookings/${booked.body.id}/move`).set('Authorization', staff)
      .send({ start: atShanghai(day(4), '14:00'), end: atShanghai(day(4), '15:00'), reason: '换到周四' }).expect(200);
    expect(await grid(day(3))).to.deep.equal([]);
    expect((await grid(day(4))).map((b) => b.id)).to.deep.equal([booked.body.id]);

    // Redis forgets everything: the next read rebuilds the day from MongoDB. (First let the
    // background rebuilds the reads above started finish, or one could write its mark after
    // the flush: a flush does not land in the middle of a rebuild in production.)
    for (const d of [day(3), day(4)]) {
      while (await redis.exists(`schedule-rebuilding:${facility._id}:${d}`)) await new Promise((r) => setTimeout(r, 10));
    }
    await deleteKeysWithPrefix(redis);
    expect((await grid(day(4))).map((b) => [b.id, b.status])).to.deep.equal([[booked.body.id, 'confirmed']]);

    await request.post(`/api/v1/room-bookings/${booked.body.id}/cancel`).set('Authorization', staff).send({ reason: '场地维修' }).expect(200);
    expect(await grid(day(4))).to.deep.equal([]);
  });

  it('never lets a stale refresh overwrite a newer state, however refreshes race', async () => {
    const facility = await makeFacility();
    const room = await makeRoom(facility);
    const resident = await makeResident({ community: facility.community });
    const { redis } = testEnvironment();
    const booking = await RoomBooking.create({
      room: room._id, facility: facility._id, community: facility.community, bookedFor: resident._id, bookedBy: resident._id,
      start: atShanghai(day(5), '09:00'), end: atShanghai(day(5), '10:00'), purpose: '下棋', attendees: 2, status: 'confirmed', quotaWeek: day(5),
    });
    await refreshScheduleEntries(redis, [booking._id]);
    // The booking moves on while refreshes holding the older version are still in flight.
    const stale = Array.from({ length: 20 }, () => refreshScheduleEntries(redis, [booking._id]));
    await RoomBooking.updateOne({ _id: booking._id }, { $set: { status: 'cancelled', version: 1 } });
    await refreshScheduleEntries(redis, [booking._id]);
    await Promise.all(stale);
    await RoomBooking.updateOne({ _id: booking._id }, { $set: { status: 'confirmed', version: 0 } }); // a stale copy reappears
    await refreshScheduleEntries(redis, [booking._id]);
    expect(await facilitySchedule(redis, facility._id, day(5), 1).then((g) => g.bookings)).to.deep.equal([]);
  });
});
