/**
 * The outbox under load: 100,000 due reminders dispatched through a stub channel by three
 * dispatcher processes, each with its own MongoDB pool and Redis connection, racing for the
 * same due-index. Reports the total time, messages per second, and the proof of exactly-once
 * delivery: how many times the stub received each notification id (every id once, none
 * twice), checked against the claims and results in the database.
 *
 *   npm run bench:outbox                     # 100,000 reminders, 3 processes
 *   COUNT=20000 INSTANCES=3 BATCH=500 npm run bench:outbox
 *   REINDEX=1 npm run bench:outbox           # and re-add every entry while they run, as a
 *                                            # reconcile racing the dispatchers would: the
 *                                            # claims must refuse every second delivery
 *
 * Storage as the other benchmarks: MONGODB_URI, else a private FerretDB v1.24 (SQLite) in a
 * temporary folder; REDIS_URL, else 127.0.0.1:6379, else a redis-server of our own. A database
 * `csb_bench_<pid>` and keys `csb-bench-<pid>:` are used and removed at the end.
 */
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import mongoose, { Types } from 'mongoose';
import '../models/index.js';
import { Notification, NotificationAttempt, NotificationResult } from '../models/index.js';
import { CONTACTS_BUILT_KEY, CONTACTS_KEY } from '../src/outbox/contacts.js';
import { dispatchDueNotifications } from '../src/outbox/dispatch.js';
import { indexNotifications } from '../src/outbox/index.js';
import type { Channel } from '../src/outbox/channels.js';
import { connectMongo, ensureIndexes } from '../src/storage/mongo.js';
import { connectRedis, createRedis, deleteKeysWithPrefix } from '../src/storage/redis.js';
import { useOrStartServers } from '../test/support/servers.js';

const COUNT = Number(process.env.COUNT ?? 100_000);
const INSTANCES = Number(process.env.INSTANCES ?? 3);
const BATCH = Number(process.env.BATCH ?? 500);
const PERSONS = Math.max(1, Math.floor(COUNT / 5));
/** The injected clock of the run: everything is due by then. */
const NOW = new Date('2031-06-01T12:00:00.000Z');
const RULES = { maxAttempts: 5, retryBaseSeconds: 60, retryMaxSeconds: 3600 };
const REINDEX = process.env.REINDEX === '1';
/** Set by the parent once nothing more will be added to the due-index. */
const DONE_KEY = 'bench:index-final';

interface ChildArgs {
  mongoUri: string;
  dbName: string;
  redisUrl: string;
  keyPrefix: string;
  name: string;
}

type ChildReport = { name: string; ms: number; batches: number; ids: string[]; counts: Record<string, number> };

/** One dispatcher process: waits for "go", dispatches until nothing is due, reports what the stub got. */
async function child(args: ChildArgs): Promise<void> {
  await connectMongo({ uri: args.mongoUri, dbName: args.dbName, maxPoolSize: 20, serverSelectionTimeoutMs: 10_000 });
  const redis = await connectRedis(createRedis({ url: args.redisUrl, keyPrefix: args.keyPrefix }));
  const ids: string[] = [];
  const stub: Channel = {
    name: 'bot',
    async send(_recipient, message) {
      ids.push(message.id);
      return { status: 'sent' };
    },
  };
  const deps = { redis, channels: { bot: stub }, instance: args.name, rules: RULES, concurrency: 32 };
  process.send!({ ready: true });
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  const started = performance.now();
  const counts: Record<string, number> = {};
  let batches = 0;
  for (;;) {
    const c = await dispatchDueNotifications(deps, NOW, BATCH);
    if (c.taken === 0) {
      if (await redis.exists(DONE_KEY)) break;
      await new Promise((r) => setTimeout(r, 20));
      continue;
    }
    batches += 1;
    for (const [k, v] of Object.entries(c)) counts[k] = (counts[k] ?? 0) + v;
  }
  const report: ChildReport = { name: args.name, ms: performance.now() - started, batches, ids, counts };
  await new Promise<void>((resolve) => process.send!(report, () => resolve()));
  await redis.quit();
  await mongoose.disconnect();
}

function waitFor<T>(proc: ChildProcess, test: (m: unknown) => boolean): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown) => {
      if (!test(m)) return;
      proc.off('message', onMessage);
      resolve(m as T);
    };
    proc.on('message', onMessage);
    proc.once('exit', (code) => reject(new Error(`dispatcher exited with ${code}`)));
  });
}

async function main(): Promise<void> {
  const servers = await useOrStartServers();
  const dbName = `csb_bench_${process.pid}`;
  const keyPrefix = `csb-bench-${process.pid}:`;
  const redis = await connectRedis(createRedis({ url: servers.redisUrl, keyPrefix }));
  const children: ChildProcess[] = [];
  try {
    await connectMongo({ uri: servers.mongoUri, dbName, maxPoolSize: 20, serverSelectionTimeoutMs: 10_000 });
    await ensureIndexes(mongoose.connection);
    console.log(`storage: ${servers.ferret ? 'FerretDB v1.24 (SQLite, private)' : 'MongoDB at MONGODB_URI'}; Redis ${servers.redisUrl}`);
    console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, load ${os.loadavg()[0]!.toFixed(2)}; node ${process.version}`);

    // --- setup (not timed): the reminders, their due-index entries, everyone bound to the bot ---
    const setupStarted = performance.now();
    const persons = Array.from({ length: PERSONS }, () => new Types.ObjectId());
    const all: Array<Parameters<typeof indexNotifications>[1][number]> = [];
    for (let i = 0; i < COUNT; i += 5_000) {
      const docs = Array.from({ length: Math.min(5_000, COUNT - i) }, (_, k) => {
        const n = i + k;
        const start = new Date(NOW.getTime() + 3_600_000 + (n % 600) * 60_000);
        return {
          _id: new Types.ObjectId(), key: `bench:${n}:reminder-1h`, person: persons[n % PERSONS]!, kind: 'room_booking_reminder',
          text: `提醒：您预约的活动室将在 ${start.toISOString().slice(11, 16)} 开始，请准时到场并签到。`,
          dueAt: new Date(NOW.getTime() - (n % 3_600) * 1000), staleAfter: start, createdAt: NOW, updatedAt: NOW,
        };
      });
      await Notification.collection.insertMany(docs, { ordered: false });
      await indexNotifications(redis, docs);
      if (REINDEX) all.push(...docs);
    }
    for (let i = 0; i < PERSONS; i += 5_000) {
      await redis.hset(CONTACTS_KEY, Object.fromEntries(persons.slice(i, i + 5_000).map((p) => [String(p), `contact-${p}`])));
    }
    await redis.set(CONTACTS_BUILT_KEY, '1');
    console.log(`setup: ${COUNT} notifications for ${PERSONS} persons stored and indexed in ${((performance.now() - setupStarted) / 1000).toFixed(1)} s`);

    // --- the run: N dispatcher processes, started together -------------------------------------
    const self = fileURLToPath(import.meta.url);
    for (let i = 0; i < INSTANCES; i += 1) {
      const args: ChildArgs = { mongoUri: servers.mongoUri, dbName, redisUrl: servers.redisUrl, keyPrefix, name: `dispatcher-${i + 1}` };
      children.push(fork(self, ['--child', JSON.stringify(args)], { execArgv: ['--import', 'tsx'], serialization: 'advanced' }));
    }
    await Promise.all(children.map((c) => waitFor(c, (m) => (m as { ready?: boolean }).ready === true)));
    const reportsPromise = Promise.all(children.map((c) => waitFor<ChildReport>(c, (m) => Array.isArray((m as ChildReport).ids))));
    const started = performance.now();
    for (const c of children) c.send('go');
    let readded = 0;
    if (REINDEX) {
      // ZADD NX puts back every entry a dispatcher has already taken: delivered twice, unless the claims hold.
      for (let i = 0; i < all.length; i += 5_000) readded += await indexNotifications(redis, all.slice(i, i + 5_000));
    }
    await redis.set(DONE_KEY, '1');
    const reports = await reportsPromise;
    const totalMs = performance.now() - started;

    // --- the proof ----------------------------------------------------------------------------
    const perId = new Map<string, number>();
    for (const r of reports) for (const id of r.ids) perId.set(id, (perId.get(id) ?? 0) + 1);
    const duplicates = [...perId.values()].filter((n) => n > 1).length;
    const missing = COUNT - perId.size;
    const [claims, sent] = await Promise.all([
      NotificationAttempt.estimatedDocumentCount(),
      NotificationResult.estimatedDocumentCount(),
    ]);
    const left = await redis.zcard('outbox:due');

    console.log('');
    console.log(`| dispatcher | batches | sent | duplicates refused (claim) | ms |`);
    console.log(`| --- | ---: | ---: | ---: | ---: |`);
    for (const r of reports) {
      console.log(`| ${r.name} | ${r.batches} | ${r.counts.sent ?? 0} | ${r.counts.duplicates ?? 0} | ${Math.round(r.ms)} |`);
    }
    console.log('');
    console.log(`total: ${COUNT} reminders in ${(totalMs / 1000).toFixed(1)} s = ${Math.round(COUNT / (totalMs / 1000))} messages/s with ${INSTANCES} dispatcher processes (batch ${BATCH})`);
    if (REINDEX) console.log(`re-added while running: ${readded} entries (each refused by a claim, or removed when its first delivery finished)`);
    console.log(`stub received: ${perId.size} distinct ids, ${duplicates} received more than once, ${missing} never received`);
    console.log(`database: ${claims} claims, ${sent} results; Redis due-index left: ${left}`);
    if (duplicates > 0 || missing > 0 || claims !== COUNT || sent !== COUNT || left !== 0) {
      process.exitCode = 1;
      console.error('FAILED: not exactly once');
    }
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill();
    await mongoose.connection.db?.dropDatabase().catch(() => undefined);
    await mongoose.disconnect();
    await deleteKeysWithPrefix(redis).catch(() => undefined);
    redis.disconnect();
    await servers.stop();
  }
}

if (process.argv[2] === '--child') {
  child(JSON.parse(process.argv[3]!) as ChildArgs).then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
} else {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
