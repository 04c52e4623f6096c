import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { Types, trusted } from 'mongoose';
import { atShanghai, dayjs, shanghaiDay } from '../models/calendar.js';
import { CapacityClaim, IdempotencyRecord, RoomBooking } from '../models/index.js';
import { JOBS } from '../jobs/index.js';
import { connectRedis, createRedis } from '../src/storage/redis.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { startOwnRedis } from './support/servers.js';
import { testConfig, testEnvironment } from './support/env.js';
import { cleanStorage, useCleanStorage } from './support/storage.js';
import { makeCommunity, makeFacility, makeResident, makeRoom } from './factories/index.js';

const dayFromNow = (days: number) => dayjs.utc(shanghaiDay(new Date())).add(days, 'day').format('YYYY-MM-DD');
const slot = (days: number, from: string, to: string) => ({
  start: atShanghai(dayFromNow(days), from).toISOString(),
  end: atShanghai(dayFromNow(days), to).toISOString(),
  purpose: '书法练习',
  attendees: 4,
});

async function eventually(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

type InsertOne = typeof RoomBooking.collection.insertOne;

/** Runs `after` once, right after the next booking is written (a fault injected on the real path). */
function afterNextBookingInsert(after: () => Promise<void>): () => void {
  const collection = RoomBooking.collection as unknown as { insertOne: InsertOne };
  const original = collection.insertOne;
  collection.insertOne = (async (...args: Parameters<InsertOne>) => {
    collection.insertOne = original;
    const result = await original.apply(RoomBooking.collection, args);
    await after();
    return result;
  }) as InsertOne;
  return () => {
    collection.insertOne = original;
  };
}

describe('Idempotency-Key outcomes kept in MongoDB', () => {
  useCleanStorage();
  beforeEach(cleanStorage);

  async function scene() {
    const community = await makeCommunity();
    const facility = await makeFacility(community);
    // A weekly quota of one: a second booking of the same person would be refused, so "taken once" is visible.
    const room = await makeRoom(facility, { capacity: 20, weeklyQuotaPerResident: 1 });
    const resident = await makeResident({ community: community._id });
    return { room, resident, token: await bearerFor(resident) };
  }

  describe('POST /api/v1/rooms/:roomId/bookings with a Redis that dies between the write and the answer', () => {
    it('still answers the booking, and the retry with the same key after Redis restarts empty replays it; slot and quota taken once', async function () {
      this.timeout(60_000);
      const server = await startOwnRedis();
      let redis: Redis | undefined;
      let restore = () => {};
      try {
        redis = await connectRedis(createRedis({ url: `redis://127.0.0.1:${server.port}`, keyPrefix: 'idem-a:' }));
        const { request } = createTestApp({ config: testConfig(), redis });
        const { room, resident, token } = await scene();
        const body = slot(3, '09:00', '10:30');
        const send = () => request.post(`/api/v1/rooms/${room._id}/bookings`).set('Authorization', token).set('Idempotency-Key', 'redis-dies-0001').send(body);

        restore = afterNextBookingInsert(() => server.stop());
        const first = await send();
        expect(first.status, JSON.stringify(first.body)).to.equal(201);

        await server.restart(); // no data file: Redis comes back without the answer's copy
        await eventually(() => redis!.status === 'ready');
        const retry = await send().expect(201);
        expect(retry.headers['idempotent-replayed']).to.equal('true');
        expect(retry.body).to.deep.equal(first.body);

        const bookings = await RoomBooking.find({ bookedFor: resident._id }).lean();
        expect(bookings.map((b) => String(b._id))).to.deep.equal([first.body.id]);
        expect(await CapacityClaim.countDocuments({ key: `room:${room._id}` })).to.equal(3);
        expect(await CapacityClaim.countDocuments({ key: new RegExp(`^room-quota:${resident._id}:`) })).to.equal(1);
        expect(await CapacityClaim.countDocuments({ holder: trusted({ $ne: new Types.ObjectId(first.body.id as string) }) })).to.equal(0);
      } finally {
        restore();
        redis?.disconnect();
        await server.stop();
      }
    });
  });

  describe('POST /api/v1/rooms/:roomId/bookings while Redis is down (booking limit configured to fail open)', () => {
    it('books with a key and replays the retry from MongoDB alone', async function () {
      this.timeout(60_000);
      const server = await startOwnRedis();
      let redis: Redis | undefined;
      try {
        redis = await connectRedis(createRedis({ url: `redis://127.0.0.1:${server.port}`, keyPrefix: 'idem-b:' }));
        const { request } = createTestApp({ config: testConfig({ RATE_LIMIT_FAIL_CLOSED: '' }), redis });
        const { room, resident, token } = await scene();
        const body = slot(3, '14:00', '15:00');
        const send = () => request.post(`/api/v1/rooms/${room._id}/bookings`).set('Authorization', token).set('Idempotency-Key', 'no-redis-0001').send(body);
        await server.stop();
        await eventually(() => redis!.status !== 'ready');

        const first = await send().expect(201);
        const retry = await send().expect(201);
        expect(retry.headers['idempotent-replayed']).to.equal('true');
        expect(retry.body).to.deep.equal(first.body);
        expect(await RoomBooking.countDocuments({ bookedFor: resident._id })).to.equal(1);
      } finally {
        redis?.disconnect();
        await server.stop();
      }
    });
  });

  describe('POST /api/v1/rooms/:roomId/bookings, the same key sent 20 times at once', () => {
    it('books once; the others replay it or answer 409 idempotency_in_progress with Retry-After, and a later retry replays it', async function () {
      this.timeout(60_000);
      const { request } = createTestApp();
      const { room, resident, token } = await scene();
      const body = slot(4, '14:00', '15:00');
      const send = () => request.post(`/api/v1/rooms/${room._id}/bookings`).set('Authorization', token).set('Idempotency-Key', 'twenty-at-once-0001').send(body);

      const results = await Promise.all(Array.from({ length: 20 }, send));
      const booked = results.filter((r) => r.status === 201);
      expect(booked.length).to.be.greaterThan(0);
      expect(new Set(booked.map((r) => r.body.id)).size).to.equal(1);
      for (const r of results.filter((x) => x.status !== 201)) {
        expect(r.status).to.equal(409);
        expect(r.body.error.code).to.equal('idempotency_in_progress');
        expect(r.body.error.message).to.match(/正在处理中/);
        expect(r.headers['retry-after']).to.equal('2');
      }
      const later = await send().expect(201);
      expect(later.body.id).to.equal(booked[0]!.body.id);
      expect(await RoomBooking.countDocuments({ bookedFor: resident._id })).to.equal(1);
      expect(await CapacityClaim.countDocuments({ key: new RegExp(`^room-quota:${resident._id}:`) })).to.equal(1);
    });
  });

  describe('a request that fails having changed nothing', () => {
    it('frees its key, so the retry with the same key runs and books', async function () {
      this.timeout(30_000);
      const { request } = createTestApp();
      const { room, resident, token } = await scene();
      const body = slot(5, '10:00', '11:00');
      const send = () => request.post(`/api/v1/rooms/${room._id}/bookings`).set('Authorization', token).set('Idempotency-Key', 'fails-first-0001').send(body);

      const collection = RoomBooking.collection as unknown as { insertOne: InsertOne };
      const original = collection.insertOne;
      collection.insertOne = (async () => {
        collection.insertOne = original;
        throw new Error('injected: the write did not happen');
      }) as InsertOne;
      try {
        const failed = await send();
        // The claims are given back (src/booking/claims.ts): a 503 that is safe to retry.
        expect(failed.status).to.equal(503);
        expect(failed.body.error.code).to.equal('booking_interrupted');
      } finally {
        collection.insertOne = original;
      }
      expect(await CapacityClaim.countDocuments({})).to.equal(0);
      expect(await IdempotencyRecord.countDocuments({})).to.equal(0);

      const retry = await send().expect(201);
      expect(retry.headers['idempotent-replayed']).to.equal(undefined);
      expect(await RoomBooking.countDocuments({ bookedFor: resident._id })).to.equal(1);
    });

    it('keeps a refusal (4xx) as the answer and replays it, and refuses the key with another body', async function () {
      this.timeout(30_000);
      const { request } = createTestApp();
      const { room, token } = await scene();
      const tooEarly = slot(5, '06:00', '07:00'); // before opening
      const send = (body: object) => request.post(`/api/v1/rooms/${room._id}/bookings`).set('Authorization', token).set('Idempotency-Key', 'refused-0001').send(body);
      const first = await send(tooEarly).expect(400);
      const again = await send(tooEarly).expect(400);
      expect(again.body).to.deep.equal(first.body);
      expect(again.headers['idempotent-replayed']).to.equal('true');
      const other = await send(slot(5, '10:00', '11:00')).expect(409);
      expect(other.body.error.code).to.equal('idempotency_key_reused');
    });
  });

  describe('a lease left by a crashed instance', () => {
    it('is taken over once it has run out', async function () {
      this.timeout(30_000);
      const { request } = createTestApp();
      const { room, resident, token } = await scene();
      const body = slot(6, '10:00', '11:00');
      const send = () => request.post(`/api/v1/rooms/${room._id}/bookings`).set('Authorization', token).set('Idempotency-Key', 'crashed-0001').send(body);
      // Learn the record's _id from a first run, then make it look like a crash: answer gone, lease expired.
      await send().expect(201);
      await RoomBooking.deleteMany({});
      await CapacityClaim.deleteMany({});
      const lease = (await IdempotencyRecord.findOne({ kind: 'lease' }).lean())!;
      await IdempotencyRecord.deleteOne({ kind: 'answer' });
      await IdempotencyRecord.updateOne({ _id: lease._id }, { $set: { leaseUntil: new Date(Date.now() - 1000) } });
      await testEnvironment().redis.del(`idempotency:v2:${lease._id}`); // and its fast-path copy

      const retry = await send().expect(201);
      expect(retry.headers['idempotent-replayed']).to.equal(undefined);
      expect(await RoomBooking.countDocuments({ bookedFor: resident._id })).to.equal(1);
    });
  });

  describe('idempotency.purge (job)', () => {
    it('deletes records older than 24 hours and keeps the others', async () => {
      const now = new Date();
      const old = new Date(now.getTime() - 25 * 3_600_000);
      await IdempotencyRecord.collection.insertMany([
        { _id: 'old-lease', kind: 'lease', fingerprint: 'f', leaseUntil: old, createdAt: old },
        { _id: 'old-lease#answer', kind: 'answer', fingerprint: 'f', status: 201, body: '{}', createdAt: old },
        { _id: 'new-lease', kind: 'lease', fingerprint: 'f', leaseUntil: now, createdAt: now },
      ] as never);
      const job = JOBS.find((j) => j.name === 'idempotency.purge')!;
      const result = await job.run({} as never, { now } as never);
      expect(result).to.deep.equal({ deleted: 2 });
      expect((await IdempotencyRecord.find({}).lean()).map((r) => r._id)).to.deep.equal(['new-lease']);
    });
  });
});

