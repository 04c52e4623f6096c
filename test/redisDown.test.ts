import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { atShanghai, dayjs, shanghaiDay } from '../models/calendar.js';
import { useReadCache } from '../src/cache/readCache.js';
import { bindBotContact, bindingSettings } from '../src/commands/botBinding.js';
import { connectRedis, createRedis } from '../src/storage/redis.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { startOwnRedis } from './support/servers.js';
import { testConfig, testEnvironment } from './support/env.js';
import { cleanStorage, useCleanStorage } from './support/storage.js';
import { makeCommunity, makeFacility, makeResident, makeRoom, makeStaff } from './factories/index.js';

const dayFromNow = (days: number) => dayjs.utc(shanghaiDay(new Date())).add(days, 'day').format('YYYY-MM-DD');

async function eventually(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Redis down: reads with a database source answer, writes that need Redis refuse', () => {
  useCleanStorage();
  beforeEach(cleanStorage);

  it('serves the staff grid, availability, rooms and my bookings from MongoDB, refuses binding codes with 503 redis_unavailable, and uses Redis again when it returns', async function () {
    this.timeout(60_000);
    const server = await startOwnRedis();
    let redis: Redis | undefined;
    try {
      redis = await connectRedis(createRedis({ url: `redis://127.0.0.1:${server.port}`, keyPrefix: 'redis-down:' }));
      useReadCache(redis); // the whole process sees the same Redis go away
      // No rate-limit class fails closed here, so the binding command itself must refuse.
      const { request } = createTestApp({ config: testConfig({ RATE_LIMIT_FAIL_CLOSED: '' }), redis });
      const community = await makeCommunity();
      const facility = await makeFacility(community);
      const room = await makeRoom(facility, { capacity: 20 });
      const resident = await makeResident({ community: community._id });
      const staff = (await makeStaff({ community: community._id, staffScope: { community: community._id, facilities: [facility._id] } })).person;
      const [residentAuth, staffAuth] = [await bearerFor(resident), await bearerFor(staff)];
      const day = dayFromNow(3);
      const booked = await request.post(`/api/v1/rooms/${room._id}/bookings`).set('Authorization', residentAuth)
        .send({ start: atShanghai(day, '09:00').toISOString(), end: atShanghai(day, '10:00').toISOString(), purpose: '合唱排练', attendees: 6 })
        .expect(201);
      const gridUp = await request.get(`/api/v1/facilities/${facility._id}/schedule?date=${day}`).set('Authorization', staffAuth).expect(200);

      await server.stop();
      await eventually(() => redis!.status !== 'ready');

      const grid = await request.get(`/api/v1/facilities/${facility._id}/schedule?date=${day}`).set('Authorization', staffAuth).expect(200);
      expect(grid.body).to.deep.equal(gridUp.body);
      expect(grid.body.bookings.map((b: { id: string }) => b.id)).to.deep.equal([booked.body.id]);
      const week = await request.get(`/api/v1/facilities/${facility._id}/schedule?date=${day}&days=7`).set('Authorization', staffAuth).expect(200);
      expect(week.body.bookings).to.have.length(1);
      const availability = await request.get(`/api/v1/rooms/${room._id}/availability?date=${day}`).set('Authorization', residentAuth).expect(200);
      expect(availability.body.free.some((r: { start: string }) => r.start === atShanghai(day, '09:00').toISOString())).to.equal(false);
      await request.get('/api/v1/rooms').set('Authorization', residentAuth).expect(200);
      const mine = await request.get('/api/v1/room-bookings/mine').set('Authorization', residentAuth).expect(200);
      expect(mine.body.items.map((b: { id: string }) => b.id)).to.deep.equal([booked.body.id]);

      const code = await request.post('/api/v1/me/binding-code').set('Authorization', residentAuth).expect(503);
      expect(code.body.error.code).to.equal('redis_unavailable');
      expect(code.body.error.message).to.match(/秒后重试/);
      expect(code.headers['retry-after']).to.equal('5');
      let botRefusal: unknown;
      await bindBotContact(redis, 'wxid_someone', '123456', bindingSettings(testConfig().auth)).catch((err) => (botRefusal = err));
      expect(botRefusal).to.have.property('code', 'redis_unavailable');

      await server.restart();
      await eventually(() => redis!.status === 'ready');
      const again = await request.get(`/api/v1/facilities/${facility._id}/schedule?date=${day}`).set('Authorization', staffAuth).expect(200);
      expect(again.body).to.deep.equal(gridUp.body);
      await request.post('/api/v1/me/binding-code').set('Authorization', residentAuth).expect(201);
    } finally {
      useReadCache(testEnvironment().redis);
      redis?.disconnect();
      await server.stop();
    }
  });

  it('a booking while Redis is down answers 503 with Retry-After (its rate limit fails closed), never 500', async function () {
    this.timeout(60_000);
    const server = await startOwnRedis();
    let redis: Redis | undefined;
    try {
      redis = await connectRedis(createRedis({ url: `redis://127.0.0.1:${server.port}`, keyPrefix: 'redis-down-b:' }));
      const { request } = createTestApp({ config: testConfig(), redis });
      const community = await makeCommunity();
      const room = await makeRoom(await makeFacility(community));
      const token = await bearerFor(await makeResident({ community: community._id }));
      await server.stop();
      await eventually(() => redis!.status !== 'ready');
      const day = dayFromNow(2);
      const res = await request.post(`/api/v1/rooms/${room._id}/bookings`).set('Authorization', token).set('Idempotency-Key', 'redis-down-0001')
        .send({ start: atShanghai(day, '09:00').toISOString(), end: atShanghai(day, '10:00').toISOString(), purpose: '合唱排练', attendees: 6 });
      expect(res.status).to.equal(503);
      expect(res.headers['retry-after']).to.match(/^\d+$/);
    } finally {
      redis?.disconnect();
      await server.stop();
    }
  });
});
