/**
 * What every benchmark needs: a database and a Redis of its own, the real app listening on a
 * loopback port, data made fast (insertMany), access tokens, a load child process, and a
 * clean teardown. Nothing here runs at import time.
 *
 * Storage: MONGODB_URI if set (a database `csb_bench_<pid>` on it, dropped at the end), else a
 * private FerretDB v1.24 on a private PostgreSQL (FERRETDB_HANDLER=sqlite: SQLite) in a temporary folder (removed at the end). Redis: REDIS_URL,
 * else 127.0.0.1:6379 when something answers there, else a redis-server of our own on a free
 * port; every key gets the prefix `csb-bench-<pid>:` and is deleted at the end.
 */
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import inspector from 'node:inspector';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import mongoose, { Types } from 'mongoose';
import { pino } from 'pino';
import '../models/index.js';
import { Community, Facility, Person, Room, type FacilityDoc } from '../models/index.js';
import { createApp } from '../src/app.js';
import { useReadCache } from '../src/cache/readCache.js';
import { startSession, type SessionSettings } from '../src/auth/sessions.js';
import { loadConfig, type Config } from '../src/config.js';
import { createLogger, type Logger } from '../src/logger.js';
import { ensureJsonbIndexes } from '../src/storage/jsonbIndexes.js';
import { connectMongo, ensureIndexes } from '../src/storage/mongo.js';
import { connectRedis, createRedis, deleteKeysWithPrefix } from '../src/storage/redis.js';
import { WechatClient } from '../src/wechat/index.js';
import { useOrStartServers } from '../test/support/servers.js';

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const RESULTS_DIR = path.join(BENCH_DIR, 'results');

/** The whole environment of one benchmark run. */
export interface BenchEnv {
  config: Config;
  logger: Logger;
  redis: Redis;
  sessions: SessionSettings;
  /** http://127.0.0.1:PORT of the real app. */
  baseUrl: string;
  server: http.Server;
  /** What the run is measured on, for the report. */
  storage: { mongo: string; redis: string; poolSize: number };
  /** The PostgreSQL under our FerretDB, when its jsonb indexes are made (not with BENCH_JSONB_INDEXES=0). */
  postgresqlUrl?: string;
  /** The private FerretDB's process id (to account its CPU), when we started one. */
  ferretPid?: number;
  teardown(): Promise<void>;
}

const JWT_SECRET = 'bench-jwt-secret-0123456789abcdef0123456789';

/** Runs `stop`s in reverse order, each at most `ms`, never throwing. */
async function stopAll(stops: Array<() => Promise<unknown>>, ms = 15_000): Promise<void> {
  for (const stop of stops.reverse()) {
    await Promise.race([stop().catch((err) => console.error('teardown:', (err as Error).message)), sleep(ms)]);
  }
}

export { deleteKeysWithPrefix };

/** A rate-limit budget (RATE_LIMIT_*) no benchmark reaches: the limiter still runs on every request. */
export const OUT_OF_REACH = '999999/60';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * Starts storage, connects mongoose (indexes created like at a real start), builds the app
 * with createApp and listens on 127.0.0.1:0. The app logs at LOG_LEVEL (default info, as in
 * production) to /dev/null, so the cost of the request log line is part of what is measured.
 * `settings` are environment settings (as in .env) laid over the bench's own.
 */
export async function startBenchEnv(settings: Record<string, string> = {}): Promise<BenchEnv> {
  const load = os.loadavg()[0]!;
  if (load > 0.5) {
    console.warn(`warning: the 1-minute load average is ${load.toFixed(2)} on ${os.cpus().length} CPUs: other work will skew the numbers`);
  }
  const stops: Array<() => Promise<unknown>> = [];
  let tornDown = false;
  const teardown = async () => {
    if (tornDown) return;
    tornDown = true;
    await stopAll(stops);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: cleaning up…`);
    void teardown().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const servers = await useOrStartServers();
    stops.push(() => servers.stop());
    const { mongoUri, redisUrl } = servers;
    const handler = process.env.FERRETDB_HANDLER === 'sqlite' ? 'SQLite' : process.env.FERRETDB_POSTGRESQL_URL ? 'PostgreSQL at FERRETDB_POSTGRESQL_URL' : 'a private PostgreSQL';
    const mongoLabel = servers.ferret ? `FerretDB v1.24 (${handler}, temporary folder)` : 'MongoDB at MONGODB_URI';
    const ferretPid = servers.ferret?.process.pid;
    const dbName = `csb_bench_${process.pid}`;
    const keyPrefix = `csb-bench-${process.pid}:`;

    const config = loadConfig({
      NODE_ENV: 'production',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      MONGODB_URI: mongoUri,
      MONGODB_DB: dbName,
      MONGODB_MAX_POOL_SIZE: process.env.MONGODB_MAX_POOL_SIZE ?? '20',
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: keyPrefix,
      JWT_SECRET,
      WECHAT_APPID: 'wx-bench-appid',
      WECHAT_APP_SECRET: 'bench-app-secret',
      // Never called by the routes measured; a closed loopback port if it were.
      WECHAT_API_BASE_URL: 'http://127.0.0.1:9',
      SEED_DEMO: 'false',
      // The bot's turn queue, to compare (bench:bot): BOT_CONCURRENT_TURNS=1000 is every message at once.
      ...(process.env.BOT_CONCURRENT_TURNS ? { BOT_CONCURRENT_TURNS: process.env.BOT_CONCURRENT_TURNS } : {}),
      ...settings,
    });

    await connectMongo({
      uri: mongoUri,
      dbName,
      maxPoolSize: config.mongo.maxPoolSize,
      serverSelectionTimeoutMs: config.mongo.serverSelectionTimeoutMs,
    });
    stops.push(async () => {
      await mongoose.connection.db?.dropDatabase().catch(() => undefined);
      await mongoose.disconnect();
    });
    await ensureIndexes(mongoose.connection);
    // As the service does on FerretDB over PostgreSQL; BENCH_JSONB_INDEXES=0 measures without them.
    const postgresqlUrl = process.env.BENCH_JSONB_INDEXES === '0' ? undefined : servers.ferret?.postgresqlUrl;
    if (postgresqlUrl) await ensureJsonbIndexes(mongoose.connection, postgresqlUrl);

    const redis = await connectRedis(createRedis({ url: redisUrl, keyPrefix }));
    useReadCache(redis); // as startService does
    stops.push(async () => {
      useReadCache(null);
      await deleteKeysWithPrefix(redis).catch(() => undefined);
      await redis.quit().catch(() => redis.disconnect());
    });

    // BENCH_LOG_FILE=/tmp/app.log keeps the app's log, to see why a request failed.
    const logger = createLogger(config, pino.destination({ dest: process.env.BENCH_LOG_FILE ?? '/dev/null', sync: false }));
    const sessions: SessionSettings = {
      jwtSecret: JWT_SECRET,
      accessTokenTtlSeconds: config.auth.accessTokenTtlSeconds,
      refreshTokenTtlDays: config.auth.refreshTokenTtlDays,
      redis,
    };
    const wechat = new WechatClient({
      baseUrl: config.wechat.apiBaseUrl!,
      appId: config.wechat.appId,
      appSecret: config.wechat.appSecret,
      timeoutMs: 1_000,
    });
    const { app } = createApp({ config, logger, mongo: mongoose.connection, redis, jwtSecret: JWT_SECRET, wechat });
    const server = http.createServer(app.callback());
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    stops.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    const { port } = server.address() as AddressInfo;

    return {
      config,
      logger,
      redis,
      sessions,
      baseUrl: `http://127.0.0.1:${port}`,
      server,
      storage: { mongo: mongoLabel, redis: redisUrl, poolSize: config.mongo.maxPoolSize },
      ferretPid,
      postgresqlUrl,
      teardown,
    };
  } catch (err) {
    await teardown();
    throw err;
  }
}

/* ---------------------------------------------------------------- data */

const EVERY_DAY_8_TO_20 = [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, open: '08:00', close: '20:00' }));

export interface SeededFacility {
  community: Types.ObjectId;
  facility: FacilityDoc;
  rooms: Types.ObjectId[];
  residents: Types.ObjectId[];
  staff: Types.ObjectId;
}

/** Inserts `docs` with insertMany in batches of `batch` (bounded: one pass over the list). */
export async function insertInBatches<T>(
  insert: (docs: T[]) => Promise<unknown>,
  docs: T[],
  batch = 1_000,
): Promise<void> {
  for (let i = 0; i < docs.length; i += batch) await insert(docs.slice(i, i + batch));
}

/**
 * One community with one community centre (open 08:00–20:00 every day), `rooms` rooms with
 * the default rules (30-minute units, 60 minutes' notice, 14 days ahead, weekly quota 3, no
 * approval), `residents` active residents and one staff member scoped to the facility.
 */
export async function seedFacility(opts: { rooms: number; residents: number; tag?: string }): Promise<SeededFacility> {
  const tag = opts.tag ?? 'bench';
  const community = await Community.create({ name: `压测社区-${tag}`, code: `bench-${tag}-${process.pid}`, district: '压测区' });
  const facility = await Facility.create({
    community: community._id,
    kind: 'community_centre',
    name: `压测服务中心-${tag}`,
    address: '压测路1号',
    openingHours: EVERY_DAY_8_TO_20,
  });
  const roomIds = Array.from({ length: opts.rooms }, () => new Types.ObjectId());
  await insertInBatches(
    (docs) => Room.insertMany(docs),
    roomIds.map((_id, i) => ({
      _id,
      facility: facility._id,
      name: `活动室${String(i + 1).padStart(4, '0')}`,
      capacity: 30,
      equipment: i % 3 === 0 ? ['投影仪', '音响'] : ['桌椅'],
      openingHours: EVERY_DAY_8_TO_20,
    })),
  );
  const residentIds = Array.from({ length: opts.residents }, () => new Types.ObjectId());
  await insertInBatches(
    (docs) => Person.insertMany(docs),
    residentIds.map((_id, i) => ({
      _id,
      community: community._id,
      name: `压测居民${i + 1}`,
      phone: `139${String(10_000_000 + i).slice(-8)}`,
      roles: ['resident'],
      status: 'active',
      grid: `第${(i % 8) + 1}网格`,
      gender: i % 2 ? '女' : '男',
      birthDate: new Date(Date.UTC(1940 + (i % 40), i % 12, (i % 28) + 1, -8)),
      address: { building: `${(i % 20) + 1}栋`, unit: `${(i % 4) + 1}单元`, room: `${100 + (i % 30)}` },
    })),
  );
  const staff = await Person.create({
    community: community._id,
    name: '压测工作人员',
    phone: '13800000000',
    roles: ['staff'],
    status: 'active',
    staffScope: { community: community._id, facilities: [facility._id] },
  });
  return { community: community._id, facility, rooms: roomIds, residents: residentIds, staff: staff._id };
}

/** An access token per person, through real sessions (at most `parallel` at once). */
export async function accessTokens(sessions: SessionSettings, people: Types.ObjectId[], parallel = 8): Promise<string[]> {
  const tokens: string[] = new Array(people.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, people.length) }, async () => {
      while (next < people.length) {
        const i = next++;
        tokens[i] = (await startSession(sessions, people[i]!)).accessToken;
      }
    }),
  );
  return tokens;
}

/* ---------------------------------------------------------------- load child */

/** Runs bench/http-load.ts in a child process (so load and server do not share a thread). */
export function runLoadChild<T>(job: object, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const child = fork(path.join(BENCH_DIR, 'http-load.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(() => reject(new Error(`load child did not finish within ${timeoutMs} ms`)));
    }, timeoutMs);
    child.once('message', (message) => {
      const m = message as { ok: boolean; result?: T; error?: string };
      finish(() => (m.ok ? resolve(m.result as T) : reject(new Error(`load child: ${m.error}`))));
    });
    child.once('error', (err) => finish(() => reject(err)));
    child.once('exit', (code) => finish(() => reject(new Error(`load child exited with code ${code} without a result`))));
    child.send(job);
  });
}

/* ---------------------------------------------------------------- numbers */

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function summarize(ms: number[]) {
  const sorted = [...ms].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const median = sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return {
    count: sorted.length,
    median: round(median),
    p95: round(percentile(sorted, 95)),
    min: round(sorted[0] ?? Number.NaN),
    max: round(sorted.at(-1) ?? Number.NaN),
    mean: round(sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1)),
  };
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** A plain text table: the first row is the header. */
export function table(rows: Array<Array<string | number>>): string {
  const cells = rows.map((r) => r.map(String));
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((r) => [...(r[c] ?? '')].length)));
  const line = (r: string[]) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join('  ');
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** What the numbers were measured on. */
export function machine() {
  return {
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    platform: `${os.type()} ${os.release()}`,
    /** 1-minute load average at the end: other work on the machine skews every number. */
    loadAverage1m: round(os.loadavg()[0]!, 2),
  };
}

export async function writeResults(name: string, data: object): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.json`);
  await writeFile(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}

/**
 * A V8 CPU profile of this process from now until stop(), written as `<name>.cpuprofile` in
 * `dir` (open it in Chrome DevTools or speedscope). Covers this process only: the app.
 */
export async function startProfiler(): Promise<{ stop(dir: string, name: string): Promise<string> }> {
  const session = new inspector.Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 500 });
  await post('Profiler.start');
  return {
    async stop(dir, name) {
      const { profile } = (await post('Profiler.stop')) as { profile: object };
      session.disconnect();
      await mkdir(dir, { recursive: true });
      const file = path.join(dir, `${name}.cpuprofile`);
      await writeFile(file, JSON.stringify(profile));
      return file;
    },
  };
}

/** CPU seconds (user + system) a process has used so far, from /proc; undefined elsewhere. */
export async function cpuSecondsOf(pid: number | undefined): Promise<number | undefined> {
  if (!pid) return undefined;
  if (pid === process.pid) {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1e6;
  }
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux

/**
 * Short SHA-256 of each source file a benchmark measures, so a result can be matched to the
 * code it was measured on (the files change while work goes on).
 */
export async function sourceFingerprint(files: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const file of files) {
    try {
      out[file] = createHash('sha256').update(await readFile(path.join(BENCH_DIR, '..', file))).digest('hex').slice(0, 12);
    } catch {
      out[file] = 'missing';
    }
  }
  return out;
}

/** A number from the environment, or the default. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, not "${raw}"`);
  return n;
}

/** Runs a benchmark's main and exits with its code (1 on an exception, which is printed). */
export function runBench(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}

export interface QuerySpan {
  collection: string;
  op: string;
  startMs: number;
  ms: number;
  docs: number;
  filter: unknown;
}

/**
 * Times every mongoose query (Query.exec) while `work` runs: wall time from exec to the
 * documents (server time + transfer + BSON decoding), and how many documents came back.
 */
export async function withQuerySpans<T>(work: () => Promise<T>): Promise<{ result: T; spans: QuerySpan[]; totalMs: number }> {
  const proto = mongoose.Query.prototype as unknown as { exec: (...args: unknown[]) => Promise<unknown> };
  const original = proto.exec;
  const spans: QuerySpan[] = [];
  const t0 = performance.now();
  proto.exec = async function timedExec(this: mongoose.Query<unknown, unknown>, ...args: unknown[]) {
    const started = performance.now();
    const out = await original.apply(this, args);
    spans.push({
      collection: this.model.collection.collectionName,
      op: (this as unknown as { op?: string }).op ?? '?',
      startMs: round(started - t0),
      ms: round(performance.now() - started),
      docs: Array.isArray(out) ? out.length : out ? 1 : 0,
      filter: this.getFilter(),
    });
    return out;
  };
  try {
    const result = await work();
    return { result, spans, totalMs: performance.now() - t0 };
  } finally {
    proto.exec = original;
  }
}
