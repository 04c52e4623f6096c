/**
 * Hardening bench (issue 15): what the staff lockout and the Idempotency-Key machinery cost.
 * Target: under 2 ms at the median for the lockout check and for the idempotency machinery.
 *
 *   npm run bench:hardening                      # private FerretDB (SQLite) + Redis
 *   MONGODB_URI=mongodb://127.0.0.1:27017 npm run bench:hardening
 *   BENCH_N=300 BENCH_BLOCKS=6 npm run bench:hardening
 *   BENCH_HTTP=0 npm run bench:hardening            # the in-process part only
 *
 * In process (no HTTP), sequential, BENCH_N calls each:
 *   lockout.take       takeLoginAttempt(): the MULTI that counts a try per username and address
 *                      before any password is checked (a fresh username each call: never locked)
 *   idem.first         the idempotency middleware around a handler that only sets a 201 body,
 *                      a new key each call: Redis GET (miss), lease insert, answer insert
 *                      (MongoDB), Redis SET (not awaited)
 *   idem.replayRedis   the same keys again: Redis GET (hit), no database
 *   idem.replayMongo   the same keys after their Redis copies were deleted (Redis restarted
 *                      empty): Redis GET (miss), lease insert refused, answer read by _id
 *   idem.none          the handler alone (no key): the baseline the three above are compared to
 *
 * Over HTTP (the real app, one keep-alive connection, rate limits counted but out of reach):
 *   login.locked       POST /auth/staff/login for a locked username: 423 (lockout path, no argon2)
 *   booking.noKey      POST /rooms/:id/bookings without a key (201)
 *   booking.key        the same with a new Idempotency-Key (201): booking.key − booking.noKey
 *                      (medians) is what the machinery adds to a whole booking
 *   booking.replay     booking.key's requests again: the Redis copy replayed
 *   booking.replayMongo the same after the Redis copies were deleted: replayed from MongoDB
 * booking.noKey and booking.key alternate in BENCH_BLOCKS blocks, the order flipping every
 * block, so drift falls on both alike. Every booking is a different slot (rooms × days × hours).
 * Results: a table on stdout and bench/results/hardening.json.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import mongoose from 'mongoose';
import { Identity, hashPassword } from '../models/identity.js';
import { Room } from '../models/room.js';
import { atShanghai, dayjs, shanghaiDay } from '../models/calendar.js';
import { createApp } from '../src/app.js';
import { takeLoginAttempt } from '../src/auth/loginLockout.js';
import { RATE_CLASSES, loadConfig } from '../src/config.js';
import { idempotent } from '../src/middlewares/idempotency.js';
import { WechatClient } from '../src/wechat/index.js';
import { accessTokens, envNumber, machine, percentile, runBench, seedFacility, startBenchEnv, table, writeResults, type BenchEnv } from './support.js';

const N = Math.round(envNumber('BENCH_N', 500));
const BLOCKS = Math.round(envNumber('BENCH_BLOCKS', 6));
const PER_BLOCK = Math.round(envNumber('BENCH_PER_BLOCK', 40));
const WARMUP = Math.round(envNumber('BENCH_WARMUP', 50));
const TARGET_MS = 2;
/** BENCH_HTTP=0: the in-process part only. */
const WITH_HTTP = process.env.BENCH_HTTP !== '0';

const r3 = (n: number) => Math.round(n * 1000) / 1000;
function stats(ms: number[]) {
  const sorted = [...ms].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const median = sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { count: sorted.length, median: r3(median), p95: r3(percentile(sorted, 95)), mean: r3(sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1)) };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

// --- in process ---------------------------------------------------------------------------

type Ctx = Parameters<Middleware>[0];
/** The least of a Koa context the middleware reads and writes. */
function fakeCtx(key: string | null): Ctx {
  const headers: Record<string, string> = key ? { 'idempotency-key': key } : {};
  return {
    get: (name: string) => headers[name.toLowerCase()] ?? '',
    set: () => undefined,
    state: { user: { id: 'bench-user' } },
    method: 'POST',
    path: '/api/v1/rooms/bench/bookings',
    request: { body: { start: '2030-01-01T01:00:00.000Z', end: '2030-01-01T02:00:00.000Z', purpose: '压测', attendees: 2 } },
    status: 404,
    body: undefined,
  } as unknown as Ctx;
}
const handler = async (ctx: Ctx) => {
  ctx.status = 201;
  ctx.body = { id: '6b15be0f07c66f74585e8be3', status: 'confirmed', purpose: '压测', attendees: 2, start: '2030-01-01T01:00:00.000Z' };
};

async function inProcess(env: BenchEnv) {
  const results: Record<string, number[]> = { 'lockout.take': [], 'idem.none': [], 'idem.first': [], 'idem.replayRedis': [], 'idem.replayMongo': [] };
  const settings = { maxFailures: 5, maxFailuresPerAddress: 1_000_000, lockoutMinutes: 15 };
  const mw = idempotent(env.redis);
  const keys = Array.from({ length: N + WARMUP }, () => `bench-${randomUUID()}`);
  for (let i = 0; i < N + WARMUP; i++) {
    const take = await timed(() => takeLoginAttempt(env.redis, settings, `bench-user-${i}`, '127.0.0.9'));
    const none = await timed(() => handler(fakeCtx(null)));
    const ctx = fakeCtx(keys[i]!);
    const first = await timed(() => mw(ctx, () => handler(ctx)));
    if (i < WARMUP) continue;
    results['lockout.take']!.push(take);
    results['idem.none']!.push(none);
    results['idem.first']!.push(first);
  }
  // Let the fire-and-forget SETs land before replaying.
  await new Promise((r) => setTimeout(r, 200));
  for (const key of keys.slice(WARMUP)) {
    const ctx = fakeCtx(key);
    results['idem.replayRedis']!.push(await timed(() => mw(ctx, async () => { throw new Error('replay ran the handler'); })));
    if (ctx.status !== 201) throw new Error(`replay answered ${ctx.status}`);
  }
  await deleteIdempotencyCopies(env);
  for (const key of keys.slice(WARMUP)) {
    const ctx = fakeCtx(key);
    results['idem.replayMongo']!.push(await timed(() => mw(ctx, async () => { throw new Error('replay ran the handler'); })));
    if (ctx.status !== 201) throw new Error(`replay from MongoDB answered ${ctx.status}`);
  }
  return results;
}

async function deleteIdempotencyCopies(env: BenchEnv) {
  const prefix = env.redis.options.keyPrefix ?? '';
  let cursor = '0';
  do {
    const [next, found] = await env.redis.scan(cursor, 'MATCH', `${prefix}idempotency:*`, 'COUNT', 1000);
    cursor = next;
    if (found.length) await env.redis.del(...found.map((k) => k.slice(prefix.length)));
  } while (cursor !== '0');
}

// --- over HTTP ----------------------------------------------------------------------------

interface Answer { ms: number; status: number; body: string }
function post(port: number, agent: http.Agent, path: string, headers: Record<string, string>, body: object): Promise<Answer> {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = http.request(
      { host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data), ...headers } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

async function overHttp(env: BenchEnv) {
  const c = env.config;
  const config = loadConfig({
    NODE_ENV: 'production', LOG_LEVEL: c.logLevel, MONGODB_URI: c.mongo.uri!, MONGODB_DB: c.mongo.dbName,
    REDIS_URL: c.redis.url, REDIS_KEY_PREFIX: c.redis.keyPrefix, JWT_SECRET: env.sessions.jwtSecret,
    WECHAT_APPID: c.wechat.appId, WECHAT_APP_SECRET: c.wechat.appSecret, WECHAT_API_BASE_URL: c.wechat.apiBaseUrl!, SEED_DEMO: 'false',
    STAFF_LOGIN_MAX_FAILURES_PER_ADDRESS: '10000',
    ...Object.fromEntries(RATE_CLASSES.map((cls) => [`RATE_LIMIT_${cls.toUpperCase()}`, '999999/60'])),
  });
  const wechat = new WechatClient({ baseUrl: config.wechat.apiBaseUrl!, appId: config.wechat.appId, appSecret: config.wechat.appSecret, timeoutMs: 1_000 });
  const { app } = createApp({ config, logger: env.logger, mongo: mongoose.connection, redis: env.redis, jwtSecret: env.sessions.jwtSecret, wechat });
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const results: Record<string, number[]> = { 'login.locked': [], 'booking.noKey': [], 'booking.key': [], 'booking.replay': [], 'booking.replayMongo': [] };
  try {
    // A locked staff username: every request is refused by the lockout check (no password check).
    const seeded = await seedFacility({ rooms: 30, residents: 300, tag: 'hardening' });
    await Identity.create({ person: seeded.staff, provider: 'staff_password', subject: 'bench-locked', passwordHash: await hashPassword('right-password-1') });
    for (let i = 0; i < 6; i++) await post(port, agent, '/api/v1/auth/staff/login', {}, { username: 'bench-locked', password: 'wrong-password' });
    for (let i = 0; i < N + WARMUP; i++) {
      const a = await post(port, agent, '/api/v1/auth/staff/login', {}, { username: 'bench-locked', password: 'wrong-password' });
      if (a.status !== 423) throw new Error(`locked login answered ${a.status}: ${a.body}`);
      if (i >= WARMUP) results['login.locked']!.push(a.ms);
    }

    // Bookings: every one a different (room, day, hour); residents round robin (quota 1000 a week).
    await Room.updateMany({ facility: seeded.facility._id }, { $set: { weeklyQuotaPerResident: 1000 } });
    const tokens = await accessTokens(env.sessions, seeded.residents);
    const today = shanghaiDay(new Date());
    let n = 0;
    const nextBooking = () => {
      const i = n++;
      const room = seeded.rooms[i % seeded.rooms.length]!;
      const slot = Math.floor(i / seeded.rooms.length); // 22 half-hours a day from 09:00, days 1–13
      const day = dayjs.utc(today).add(1 + Math.floor(slot / 22), 'day').format('YYYY-MM-DD');
      const start = atShanghai(day, '09:00').getTime() + (slot % 22) * 1_800_000;
      return {
        path: `/api/v1/rooms/${room}/bookings`,
        token: tokens[i % tokens.length]!,
        body: { start: new Date(start).toISOString(), end: new Date(start + 1_800_000).toISOString(), purpose: '压测', attendees: 2 },
      };
    };
    const book = async (withKey: boolean) => {
      const b = nextBooking();
      const headers: Record<string, string> = { Authorization: `Bearer ${b.token}` };
      if (withKey) headers['Idempotency-Key'] = `bench-${randomUUID()}`;
      const a = await post(port, agent, b.path, headers, b.body);
      if (a.status !== 201) throw new Error(`booking answered ${a.status}: ${a.body}`);
      return { ...a, again: () => post(port, agent, b.path, headers, b.body) };
    };
    for (let i = 0; i < WARMUP; i++) await book(i % 2 === 0);
    const replays: Array<() => Promise<Answer>> = [];
    for (let block = 0; block < BLOCKS; block++) {
      const order = block % 2 === 0 ? [false, true] : [true, false];
      for (const withKey of order) {
        for (let i = 0; i < PER_BLOCK; i++) {
          const a = await book(withKey);
          results[withKey ? 'booking.key' : 'booking.noKey']!.push(a.ms);
          if (withKey) replays.push(a.again);
        }
      }
    }
    await new Promise((r) => setTimeout(r, 200));
    for (const again of replays) {
      const a = await again();
      if (a.status !== 201) throw new Error(`replay answered ${a.status}`);
      results['booking.replay']!.push(a.ms);
    }
    await deleteIdempotencyCopies(env);
    for (const again of replays) {
      const a = await again();
      if (a.status !== 201) throw new Error(`replay from MongoDB answered ${a.status}`);
      results['booking.replayMongo']!.push(a.ms);
    }
  } finally {
    agent.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return results;
}

runBench(async () => {
  const env = await startBenchEnv();
  try {
    const direct = await inProcess(env);
    const viaHttp = WITH_HTTP ? await overHttp(env) : {};
    const all = { ...direct, ...viaHttp };
    const s = Object.fromEntries(Object.entries(all).map(([k, v]) => [k, stats(v)]));
    const added = {
      'idem.first − idem.none (in process)': r3(s['idem.first']!.median - s['idem.none']!.median),
      'idem.replayRedis − idem.none (in process)': r3(s['idem.replayRedis']!.median - s['idem.none']!.median),
      'idem.replayMongo − idem.none (in process)': r3(s['idem.replayMongo']!.median - s['idem.none']!.median),
      ...(WITH_HTTP ? { 'booking.key − booking.noKey (HTTP)': r3(s['booking.key']!.median - s['booking.noKey']!.median) } : {}),
    };
    console.log(`storage: ${env.storage.mongo}; Redis: ${env.storage.redis}`);
    console.log(table([['path', 'n', 'median ms', 'p95 ms', 'mean ms'], ...Object.entries(s).map(([k, v]) => [k, v.count, v.median, v.p95, v.mean])]));
    console.log('\nadded by the idempotency machinery (medians):');
    console.log(table([['comparison', 'ms'], ...Object.entries(added).map(([k, v]) => [k, v])]));
    const meets = s['lockout.take']!.median < TARGET_MS && added['idem.first − idem.none (in process)'] < TARGET_MS
      && added['idem.replayRedis − idem.none (in process)'] < TARGET_MS;
    console.log(`\ntarget < ${TARGET_MS} ms median (lockout check; idempotency first request and replay): ${meets ? 'met' : 'NOT met'}`);
    const file = await writeResults('hardening', { machine: machine(), storage: env.storage, n: N, blocks: BLOCKS, perBlock: PER_BLOCK, stats: s, added, targetMs: TARGET_MS, meets });
    console.log(`results: ${file}`);
    return 0;
  } finally {
    await env.teardown();
  }
});
