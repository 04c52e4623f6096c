/**
 * Rate limiter overhead: what counting a request in Redis adds to its latency (issue 8's
 * benchmark, target: under 1 ms at the median).
 *
 *   npm run bench:ratelimit                        # private FerretDB (SQLite) + Redis
 *   MONGODB_URI=mongodb://127.0.0.1:27017 npm run bench:ratelimit
 *   BENCH_BLOCKS=10 BENCH_REQUESTS=200 BENCH_WARMUP=300 npm run bench:ratelimit
 *
 * Two instances of the real app (createApp) in this process, on the same database and the same
 * Redis, each listening on its own 127.0.0.1 port: one with RATE_LIMIT_ENABLED=true and every
 * class's limit at 999999 requests a minute (nothing is refused, every request is counted in
 * Redis through rate-limiter-flexible), one with RATE_LIMIT_ENABLED=false (the middleware runs
 * but answers at once without Redis). Everything else is identical: config, logger (pino at
 * LOG_LEVEL, default info, to /dev/null), database, Redis, data.
 *
 * Routes, both through the limiter:
 *   GET /api/v1/me  with a resident's access token: authenticate (JWT, Person, ProxyLink,
 *                   revoked-session EXISTS) → per-person limit (class resident) → handler
 *   GET /docs       anonymous: the per-IP limit (class anonymous) → a small constant HTML page,
 *                   the cheapest documented anonymous GET, so the limiter's share is largest
 *
 * Requests are sequential (latency, not throughput), one keep-alive connection per app. After a
 * warm-up, BENCH_BLOCKS blocks of BENCH_REQUESTS requests per (route, app) alternate between
 * the two apps, the order flipping every block, so drift (caches, GC, FerretDB's SQLite, CPU
 * frequency) falls on both alike. Every answer must be 200. Reported per route and app: median,
 * p95, mean; the overhead is median(limited) − median(unlimited), with the per-block paired
 * differences to show how stable it is. Then, without HTTP, 1000 limiter consume() calls against
 * 1000 Redis PINGs on the same client, each after a 2 ms pause: what one counting costs next to
 * a bare round trip to a Redis that has gone idle between requests, as it does here.
 * Results: a table on stdout and bench/results/rate-limit-overhead.json.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import type { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { createApp } from '../src/app.js';
import { RATE_CLASSES, loadConfig, type Config } from '../src/config.js';
import { createMetrics } from '../src/metrics.js';
import { createRateLimits } from '../src/rateLimit/limiter.js';
import { WechatClient } from '../src/wechat/index.js';
import { accessTokens, envNumber, machine, percentile, seedFacility, sleep, startBenchEnv, table, writeResults, type BenchEnv } from './support.js';

const BLOCKS = Math.round(envNumber('BENCH_BLOCKS', 10));
const REQUESTS = Math.round(envNumber('BENCH_REQUESTS', 200));
const WARMUP = Math.round(envNumber('BENCH_WARMUP', 300));
const TARGET_MS = 1;
const HIGH_LIMIT = '999999/60';
const REQUEST_TIMEOUT_MS = 10_000;
/** Sequential calls of the in-process comparison (consume() against a Redis PING). */
const DIRECT = 1_000;

type Variant = 'limited' | 'unlimited';
const VARIANTS: Variant[] = ['limited', 'unlimited'];

interface RouteUnderTest {
  name: string;
  path: string;
  headers: Record<string, string>;
}

interface RunningApp {
  variant: Variant;
  port: number;
  agent: http.Agent;
  close(): Promise<void>;
}

const r3 = (n: number) => Math.round(n * 1000) / 1000;

function stats(ms: number[]) {
  const sorted = [...ms].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const median = sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return {
    count: sorted.length,
    median: r3(median),
    p95: r3(percentile(sorted, 95)),
    p99: r3(percentile(sorted, 99)),
    mean: r3(sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1)),
    min: r3(sorted[0] ?? Number.NaN),
    max: r3(sorted.at(-1) ?? Number.NaN),
  };
}
const median = (xs: number[]) => stats(xs).median;

/** The bench env's settings, with rate limiting on (limits out of reach) or off. */
function configFor(env: BenchEnv, variant: Variant): Config {
  const c = env.config;
  return loadConfig({
    NODE_ENV: 'production',
    LOG_LEVEL: c.logLevel,
    MONGODB_URI: c.mongo.uri!,
    MONGODB_DB: c.mongo.dbName,
    MONGODB_MAX_POOL_SIZE: String(c.mongo.maxPoolSize),
    REDIS_URL: c.redis.url,
    REDIS_KEY_PREFIX: c.redis.keyPrefix,
    JWT_SECRET: env.sessions.jwtSecret,
    WECHAT_APPID: c.wechat.appId,
    WECHAT_APP_SECRET: c.wechat.appSecret,
    WECHAT_API_BASE_URL: c.wechat.apiBaseUrl!,
    SEED_DEMO: 'false',
    RATE_LIMIT_ENABLED: variant === 'limited' ? 'true' : 'false',
    ...Object.fromEntries(RATE_CLASSES.map((cls) => [`RATE_LIMIT_${cls.toUpperCase()}`, HIGH_LIMIT])),
  });
}

async function startApp(env: BenchEnv, variant: Variant): Promise<RunningApp> {
  const config = configFor(env, variant);
  const wechat = new WechatClient({
    baseUrl: config.wechat.apiBaseUrl!,
    appId: config.wechat.appId,
    appSecret: config.wechat.appSecret,
    timeoutMs: 1_000,
  });
  const { app } = createApp({ config, logger: env.logger, mongo: mongoose.connection, redis: env.redis, jwtSecret: env.sessions.jwtSecret, wechat });
  const server = http.createServer(app.callback());
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return {
    variant,
    port: (server.address() as AddressInfo).port,
    agent,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** One GET, timed from sending to the last byte of the answer. */
function timedGet(app: RunningApp, route: RouteUnderTest): Promise<{ ms: number; status: number; remaining?: string }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = http.get(
      { host: '127.0.0.1', port: app.port, path: route.path, headers: route.headers, agent: app.agent, timeout: REQUEST_TIMEOUT_MS },
      (res) => {
        res.on('data', () => undefined);
        res.on('end', () => {
          const ms = Number(process.hrtime.bigint() - started) / 1e6;
          resolve({ ms, status: res.statusCode ?? 0, remaining: res.headers['ratelimit-remaining'] as string | undefined });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${route.path} took over ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
  });
}

/** `count` sequential requests; every answer must be 200. Returns the latencies (ms). */
async function runSequential(app: RunningApp, route: RouteUnderTest, count: number, remaining: Set<string>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const { ms, status, remaining: left } = await timedGet(app, route);
    if (status !== 200) throw new Error(`${app.variant} app answered ${status} to GET ${route.path}`);
    if (left !== undefined) remaining.add(`${app.variant}:${route.name}:${left}`);
    out.push(ms);
  }
  return out;
}

async function countRateKeys(redis: Redis): Promise<number> {
  const prefix = redis.options.keyPrefix ?? '';
  let cursor = '0';
  let count = 0;
  for (let round = 0; round < 10_000; round++) {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}rate:*`, 'COUNT', 1000);
    count += keys.length;
    cursor = next;
    if (cursor === '0') break;
  }
  return count;
}

async function main(): Promise<void> {
  const env = await startBenchEnv();
  const apps: RunningApp[] = [];
  try {
    const seeded = await seedFacility({ rooms: 1, residents: 1, tag: 'ratelimit' });
    const [token] = await accessTokens(env.sessions, seeded.residents);
    const routes: RouteUnderTest[] = [
      { name: 'GET /api/v1/me (resident)', path: '/api/v1/me', headers: { Authorization: `Bearer ${token}` } },
      { name: 'GET /docs (anonymous)', path: '/docs', headers: {} },
    ];
    for (const variant of VARIANTS) apps.push(await startApp(env, variant));
    const appOf = (v: Variant) => apps.find((a) => a.variant === v)!;

    console.log(`storage: ${env.storage.mongo}; Redis ${env.storage.redis}`);
    console.log(`warm-up ${WARMUP}, then ${BLOCKS} blocks × ${REQUESTS} sequential requests per route and app…`);
    const remaining = new Set<string>();
    for (const route of routes) for (const v of VARIANTS) await runSequential(appOf(v), route, WARMUP, remaining);

    const samples = new Map<string, number[]>(); // `${route}|${variant}` → ms
    const blockDiffs = new Map<string, number[]>(); // route → per-block median(limited) − median(unlimited)
    const loadBefore = os.loadavg().map((l) => Math.round(l * 100) / 100);
    const started = Date.now();
    for (let block = 0; block < BLOCKS; block++) {
      const order: Variant[] = block % 2 === 0 ? ['limited', 'unlimited'] : ['unlimited', 'limited'];
      for (const route of routes) {
        const blockMedian: Partial<Record<Variant, number>> = {};
        for (const v of order) {
          const ms = await runSequential(appOf(v), route, REQUESTS, remaining);
          const key = `${route.name}|${v}`;
          samples.set(key, [...(samples.get(key) ?? []), ...ms]);
          blockMedian[v] = median(ms);
        }
        blockDiffs.set(route.name, [...(blockDiffs.get(route.name) ?? []), r3(blockMedian.limited! - blockMedian.unlimited!)]);
      }
    }
    const seconds = (Date.now() - started) / 1000;
    const loadAfter = os.loadavg().map((l) => Math.round(l * 100) / 100);

    // What the limiter itself costs, without HTTP: one consume() (rate-limiter-flexible's
    // Redis script) against a bare Redis round trip (PING) on the same client, each after a
    // 2 ms pause as between requests (back to back, Redis never sleeps and looks cheaper).
    const limits = createRateLimits(env.redis, configFor(env, 'limited').rateLimits, createMetrics(false), env.logger);
    const direct = { ping: [] as number[], consume: [] as number[] };
    for (let i = 0; i < DIRECT; i++) {
      await sleep(2);
      let t = process.hrtime.bigint();
      await env.redis.ping();
      direct.ping.push(Number(process.hrtime.bigint() - t) / 1e6);
      await sleep(2);
      t = process.hrtime.bigint();
      const decision = await limits.consume('resident', 'person:bench-direct');
      direct.consume.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (decision.outcome !== 'allowed') throw new Error(`consume() answered ${decision.outcome}`);
    }
    const directStats = { redisPing: stats(direct.ping), limiterConsume: stats(direct.consume) };

    // The limited app really counted in Redis; the unlimited one never did.
    const rateKeys = await countRateKeys(env.redis);
    const limitedCounted = [...remaining].some((r) => r.startsWith('limited:') && !r.endsWith(':999999'));
    const unlimitedNeverCounted = [...remaining].filter((r) => r.startsWith('unlimited:')).every((r) => r.endsWith(':999999'));
    if (rateKeys === 0 || !limitedCounted || !unlimitedNeverCounted) {
      throw new Error(`sanity check failed: rate keys in Redis ${rateKeys}, limited app counted ${limitedCounted}, unlimited app never counted ${unlimitedNeverCounted}`);
    }

    const results = routes.map((route) => {
      const limited = stats(samples.get(`${route.name}|limited`)!);
      const unlimited = stats(samples.get(`${route.name}|unlimited`)!);
      const diffs = blockDiffs.get(route.name)!;
      const overhead = r3(limited.median - unlimited.median);
      return {
        route: route.name,
        limited,
        unlimited,
        overheadMedianMs: overhead,
        overheadP95Ms: r3(limited.p95 - unlimited.p95),
        blockOverheadMs: { median: median(diffs), min: Math.min(...diffs), max: Math.max(...diffs), all: diffs },
        underTarget: overhead < TARGET_MS,
      };
    });

    console.log('');
    console.log(
      table([
        ['route', 'limiting', 'n', 'median ms', 'p95 ms', 'mean ms'],
        ...results.flatMap((r) => [
          [r.route, 'on', r.limited.count, r.limited.median.toFixed(3), r.limited.p95.toFixed(3), r.limited.mean.toFixed(3)],
          ['', 'off', r.unlimited.count, r.unlimited.median.toFixed(3), r.unlimited.p95.toFixed(3), r.unlimited.mean.toFixed(3)],
        ]),
      ]),
    );
    console.log('');
    console.log(
      table([
        ['route', 'overhead at median ms', 'at p95 ms', 'per block (median, min…max) ms', `< ${TARGET_MS} ms`],
        ...results.map((r) => [
          r.route,
          r.overheadMedianMs.toFixed(3),
          r.overheadP95Ms.toFixed(3),
          `${r.blockOverheadMs.median.toFixed(3)} (${r.blockOverheadMs.min.toFixed(3)}…${r.blockOverheadMs.max.toFixed(3)})`,
          r.underTarget ? 'yes' : 'NO',
        ]),
      ]),
    );

    console.log('');
    console.log(
      table([
        ['in process, no HTTP, 2 ms apart', 'n', 'median ms', 'p95 ms'],
        ['Redis PING (round trip)', directStats.redisPing.count, directStats.redisPing.median.toFixed(3), directStats.redisPing.p95.toFixed(3)],
        ['limiter consume()', directStats.limiterConsume.count, directStats.limiterConsume.median.toFixed(3), directStats.limiterConsume.p95.toFixed(3)],
      ]),
    );

    const file = await writeResults('rate-limit-overhead', {
      benchmark: 'rate-limit-overhead',
      date: new Date().toISOString(),
      machine: machine(),
      // 1/5/15-minute load averages: other work on the machine shows here and in the spread.
      loadAverage: { before: loadBefore, after: loadAfter },
      storage: env.storage,
      logLevel: env.config.logLevel,
      method: {
        apps: 'two createApp instances in one process, same MongoDB/FerretDB and Redis, RATE_LIMIT_ENABLED true (limits 999999/60) vs false',
        client: 'sequential GETs from the same process, one keep-alive connection per app, 127.0.0.1',
        warmupPerRouteAndApp: WARMUP,
        blocks: BLOCKS,
        requestsPerBlock: REQUESTS,
        order: 'apps alternate within each block, the order flipping every block',
        measuredSeconds: Math.round(seconds),
      },
      targetMs: TARGET_MS,
      results,
      inProcess: directStats,
      rateKeysInRedis: rateKeys,
    });
    console.log(`\nall ${results.length * 2 * BLOCKS * REQUESTS} measured answers 200; results: ${file}`);
    if (results.some((r) => !r.underTarget)) process.exitCode = 1;
  } finally {
    for (const app of apps) await app.close();
    await env.teardown();
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
