import { expect } from 'chai';
import mongoose from 'mongoose';
import { startBot } from '../bots/index.js';
import { createMetrics } from '../src/metrics.js';
import { connectRedis, createRedis } from '../src/storage/redis.js';
import { atShanghai, dayjs, shanghaiDay } from '../models/calendar.js';
import { RoomBooking } from '../models/index.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { testConfig, testEnvironment } from './support/env.js';
import { createTestLogger } from './support/logs.js';
import { startOwnRedis } from './support/servers.js';
import { cleanStorage, useCleanStorage } from './support/storage.js';
import { makeFacility, makeResident, makeRoom, makeStaff } from './factories/index.js';

const METRICS_TOKEN = 'metrics-token-for-tests-0123';

describe('rate limits', () => {
  useCleanStorage();
  beforeEach(cleanStorage);

  describe('shared across instances', () => {
    it('holds across two app instances sharing one Redis (requests alternated)', async () => {
      const config = testConfig({ RATE_LIMIT_ANONYMOUS: '6/60' });
      const a = createTestApp({ config }).request;
      const b = createTestApp({ config }).request;
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) statuses.push((await (i % 2 ? b : a).get('/openapi.json')).status);
      expect(statuses).to.deep.equal([200, 200, 200, 200, 200, 200, 429, 429, 429, 429]);
    });

    it('answers 429 with Retry-After, RateLimit-* headers and a Chinese message saying when', async () => {
      const { request } = createTestApp({ config: testConfig({ RATE_LIMIT_ANONYMOUS: '2/60' }) });
      const ok = await request.get('/openapi.json').expect(200);
      expect(ok.headers['ratelimit-limit']).to.equal('2');
      expect(ok.headers['ratelimit-remaining']).to.equal('1');
      await request.get('/openapi.json').expect(200);
      const limited = await request.get('/openapi.json').expect(429);
      const retryAfter = Number(limited.headers['retry-after']);
      expect(retryAfter).to.be.within(1, 60);
      expect(limited.headers['ratelimit-reset']).to.equal(String(retryAfter));
      expect(limited.headers['ratelimit-remaining']).to.equal('0');
      expect(limited.body.error).to.deep.equal({ code: 'rate_limited', message: `操作太频繁了，请 ${retryAfter} 秒后再试` });
      // The window is what Redis says is left of it.
      const { redis, keyPrefix } = testEnvironment();
      const [, keys] = await redis.scan('0', 'MATCH', `${keyPrefix}rate:anonymous*`, 'COUNT', 1000);
      expect(keys).to.have.length(1);
      const ttl = await redis.pttl(keys[0]!.slice(keyPrefix.length));
      expect(Math.abs(Math.ceil(ttl / 1000) - retryAfter)).to.be.at.most(1);
    });

    it('counts requests with a bad token against the address, like anonymous ones', async () => {
      const { request } = createTestApp({ config: testConfig({ RATE_LIMIT_ANONYMOUS: '3/60' }) });
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await request.get('/api/v1/me').set('Authorization', 'Bearer eyJ.expired.token')).status);
      expect(statuses).to.deep.equal([401, 401, 401, 429, 429]);
    });

    it('never limits the health probes', async () => {
      const { request } = createTestApp({ config: testConfig({ RATE_LIMIT_ANONYMOUS: '1/60' }) });
      for (let i = 0; i < 5; i++) await request.get('/healthz').expect(200);
    });

    it('gives staff their own budget, separate from residents', async () => {
      const config = testConfig({ RATE_LIMIT_RESIDENT: '2/60', RATE_LIMIT_STAFF: '4/60' });
      const { request } = createTestApp({ config });
      const resident = await bearerFor(await makeResident());
      const staff = await bearerFor((await makeStaff()).person);
      const r = [];
      for (let i = 0; i < 3; i++) r.push((await request.get('/api/v1/me').set('Authorization', resident)).status);
      const s = [];
      for (let i = 0; i < 5; i++) s.push((await request.get('/api/v1/me').set('Authorization', staff)).status);
      expect(r).to.deep.equal([200, 200, 429]);
      expect(s).to.deep.equal([200, 200, 200, 200, 429]);
    });

    it('is stricter for login (per address) and counts refusals in /metrics', async () => {
      const { request } = createTestApp({ config: testConfig({ RATE_LIMIT_LOGIN: '3/60', METRICS_TOKEN }) });
      const statuses = [];
      for (let i = 0; i < 4; i++) {
        statuses.push((await request.post('/api/v1/auth/staff/login').send({ username: 'nobody', password: 'x' })).status);
      }
      expect(statuses).to.deep.equal([401, 401, 401, 429]);
      await request.get('/metrics').expect(404);
      await request.get('/metrics').set('Authorization', 'Bearer wrong-token-wrong-token').expect(404);
      const metrics = await request.get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`).expect(200);
      expect(metrics.text).to.match(/csb_rate_limited_requests_total\{class="login"\} 1/);
    });
  });

  describe('when Redis is unreachable', () => {
    it('lets reads through, refuses login and booking writes with 503, and recovers without a restart', async () => {
      const server = await startOwnRedis();
      const redis = await connectRedis(createRedis({ url: `redis://127.0.0.1:${server.port}`, keyPrefix: 'outage:' }));
      try {
        const config = testConfig({ RATE_LIMIT_ANONYMOUS: '3/60', METRICS_TOKEN });
        const { request } = createTestApp({ config, redis });
        const facility = await makeFacility();
        const room = await makeRoom(facility);
        const resident = await makeResident({ community: facility.community });
        const token = await bearerFor(resident);
        const day = dayjs.utc(shanghaiDay(new Date())).add(3, 'day').format('YYYY-MM-DD');
        const booking = { start: atShanghai(day, '10:00'), end: atShanghai(day, '11:00'), purpose: '下棋', attendees: 2 };

        await server.stop();
        await new Promise((r) => setTimeout(r, 200));
        // Reads fail open: anonymous and signed in, more often than the limit would allow.
        for (let i = 0; i < 5; i++) await request.get('/openapi.json').expect(200);
        await request.get('/api/v1/me').set('Authorization', token).expect(200);
        // Login and booking writes fail closed.
        const login = await request.post('/api/v1/auth/staff/login').send({ username: 'a', password: 'b' }).expect(503);
        expect(login.body.error.code).to.equal('rate_limiter_unavailable');
        expect(login.headers['retry-after']).to.equal('5');
        await request.post(`/api/v1/rooms/${room._id}/bookings`).set('Authorization', token).send(booking).expect(503);
        expect(await RoomBooking.countDocuments()).to.equal(0);
        const metrics = await request.get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`).expect(200);
        expect(metrics.text).to.match(/csb_rate_limiter_unavailable_total\{class="anonymous",policy="open"\} [1-9]/);
        expect(metrics.text).to.match(/csb_rate_limiter_unavailable_total\{class="login",policy="closed"\} 1/);

        await server.restart();
        const deadline = Date.now() + 15_000;
        while (redis.status !== 'ready' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        // Limits work again, and so do writes.
        const statuses = [];
        for (let i = 0; i < 4; i++) statuses.push((await request.get('/openapi.json')).status);
        expect(statuses).to.deep.equal([200, 200, 200, 429]);
        await request.post(`/api/v1/rooms/${room._id}/bookings`).set('Authorization', token).send(booking).expect(201);
      } finally {
        redis.disconnect();
        await server.stop();
      }
    });
  });

  describe('the chat bot', () => {
    it('answers a flood with exactly one polite warning, then silence', async () => {
      const config = testConfig({ RATE_LIMIT_BOT: '3/60' });
      const bot = await startBot({ config, logger: createTestLogger(), mongo: mongoose.connection, redis: testEnvironment().redis, metrics: createMetrics(false) });
      try {
        const contact = bot.mocker!.createContact({ name: '着急的李大爷' });
        const replies: string[] = [];
        bot.wechaty.on('message', (m) => {
          if (m.self() && m.listener()?.id === contact.id) replies.push(m.text());
        });
        for (let i = 0; i < 8; i++) {
          contact.say(`你好${i}`).to(bot.botUser!);
          await new Promise((r) => setTimeout(r, 40));
        }
        await new Promise((r) => setTimeout(r, 500));
        const warnings = replies.filter((r) => r.includes('发消息太快了'));
        expect(warnings).to.have.length(1);
        expect(warnings[0]).to.match(/请 \d+ 秒后再发/);
        expect(replies).to.have.length(4);
      } finally {
        await bot.stop();
      }
    });
  });
});
