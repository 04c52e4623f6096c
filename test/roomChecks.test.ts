import { expect } from 'chai';
import { atShanghai, dayjs, shanghaiDay } from '../models/calendar.js';
import { asSelf } from '../src/auth/user.js';
import { nearestRoomSlots } from '../src/commands/roomChecks.js';
import { roomAvailabilityFromGrid } from '../src/commands/roomAvailability.js';
import { Blackout } from '../models/index.js';
import type { RoomWithFacility } from '../src/policies/room.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { testEnvironment } from './support/env.js';
import { useCleanStorage } from './support/storage.js';
import { makeCommunity, makeFacility, makeResident, makeRoom } from './factories/index.js';

const daysFromNow = (n: number) => dayjs.utc(shanghaiDay(new Date())).add(n, 'day').format('YYYY-MM-DD');
const at = (day: string, from: string, to: string) => ({ start: atShanghai(day, from), end: atShanghai(day, to) });
const label = (s: { start: Date; end: Date }) => `${shanghaiDay(s.start)} ${dayjs(s.start).tz('Asia/Shanghai').format('HH:mm')}`;

describe('what the bot reads from the grid projection: the nearest times a refusal offers, a day’s free times', () => {
  useCleanStorage();
  const day = daysFromNow(3);

  async function roomWithBookings() {
    const { request } = createTestApp();
    const community = await makeCommunity();
    const facility = await makeFacility(community);
    const room = await makeRoom(facility, { name: '舞蹈室', capacity: 20 });
    // Two neighbours hold 08:00–10:00 and 14:00–16:00 of the day, through the API (claims and the grid projection).
    for (const [from, to] of [['08:00', '10:00'], ['14:00', '16:00']] as const) {
      const neighbour = await makeResident({ community: community._id });
      const slot = at(day, from, to);
      const res = await request.post(`/api/v1/rooms/${room._id}/bookings`).set('Authorization', await bearerFor(neighbour))
        .send({ start: slot.start.toISOString(), end: slot.end.toISOString(), purpose: '排练', attendees: 8 });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
    }
    const elder = await makeResident({ community: community._id, name: '张阿姨' });
    const withFacility = { ...room.toObject(), facility: facility.toObject() } as unknown as RoomWithFacility;
    return { room: withFacility, elder };
  }

  it('skips the times the bookings of the day hold: the same day from 10:00, then the same time on the next days', async () => {
    const { room, elder } = await roomWithBookings();
    const near = await nearestRoomSlots(asSelf(elder), room, elder, at(day, '14:00', '16:00'), 8, new Date(), 3, testEnvironment().redis);
    expect(near.map(label)).to.deep.equal([`${day} 10:00`, `${daysFromNow(4)} 14:00`, `${daysFromNow(5)} 14:00`]);
  });

  it('gives the same times from the claims alone, without the grid projection', async () => {
    const { room, elder } = await roomWithBookings();
    const withGrid = await nearestRoomSlots(asSelf(elder), room, elder, at(day, '14:00', '16:00'), 8, new Date(), 3, testEnvironment().redis);
    const claimsOnly = await nearestRoomSlots(asSelf(elder), room, elder, at(day, '14:00', '16:00'), 8, new Date());
    expect(claimsOnly.map(label)).to.deep.equal(withGrid.map(label));
  });

  it('the free times of a day leave out what the bookings hold and the blackouts, with or without the projection in Redis', async () => {
    const { room, elder } = await roomWithBookings();
    await Blackout.create({ facility: room.facility._id, room: room._id, createdBy: elder._id, start: atShanghai(day, '18:00'), end: atShanghai(day, '20:00'), reason: '消杀' });
    const fromGrid = await roomAvailabilityFromGrid(testEnvironment().redis, room, day);
    // A day never projected is rebuilt from MongoDB: the same answer.
    await testEnvironment().redis.del(`schedule:${room.facility._id}:${day}`, `schedule-built:${room.facility._id}:${day}`);
    const rebuilt = await roomAvailabilityFromGrid(testEnvironment().redis, room, day);
    const times = (a: { free: { start: Date; end: Date }[] }) => a.free.map((f) => `${label(f)}–${dayjs(f.end).tz('Asia/Shanghai').format('HH:mm')}`);
    expect(times(fromGrid)).to.deep.equal([`${day} 10:00–14:00`, `${day} 16:00–18:00`]);
    expect(times(rebuilt)).to.deep.equal(times(fromGrid));
    expect(fromGrid.blackouts.map((b) => b.reason)).to.deep.equal(['消杀']);
  });
});
