/**
 * Booking creation: how many room bookings per second the service makes over HTTP with 32
 * concurrent clients, against how many the MongoDB driver alone makes when it performs the
 * same database operations, on the same server, in the same run (issue 4's benchmark).
 *
 *   npm run bench:booking                       # private FerretDB (SQLite) + Redis
 *   MONGODB_URI=mongodb://127.0.0.1:27017 npm run bench:booking
 *   BENCH_DURATION=15 BENCH_CONNECTIONS=32 BENCH_IDEMPOTENCY=1 npm run bench:booking
 *   BENCH_EXISTING_BOOKINGS=10000 npm run bench:booking   # a database already in use
 *   BENCH_WHATIF=1 npm run bench:booking    # adds a driver line with the reads docs/performance.md suggests
 *   BENCH_CPU_PROFILE=/tmp/prof npm run bench:booking   # + a .cpuprofile of the HTTP phase
 *
 * One facility, 100 rooms (08:00–20:00 every day, default rules) and 320 residents, each with
 * an access token from a real session. Every booking is 30 minutes in its own (room, unit)
 * and claims place 0 of a weekly-quota key nobody else uses (bench/plan.ts), so no request
 * can conflict: every answer must be 201.
 *
 * What one booking does to the database (src/commands/roomBookings.ts and its route):
 *   writes  ListHorizon updateOne upsert (the resident's list)      widenListHorizon
 *           CapacityClaim insertOne (weekly quota place)            claimPlaces
 *           CapacityClaim insertMany (the room's 30-minute units)   claimAll
 *           RoomBooking insertOne                                   createRoomBooking
 *   reads   none once warm: the caller and their proxy links, the room and its facility, the
 *           facility's blackouts and the caller's no-show block come from the read cache
 *           (src/cache/readCache.ts: one MGET each), and the grid projection is written from
 *           the new booking itself.
 * plus Redis, which no driver line includes: EXISTS (revoked session), the rate limiter, the
 * four cache MGETs and the grid projection's EVAL (two more with an Idempotency-Key).
 *
 * The "9 reads + 4 writes" driver line is what a booking cost before the read cache (the
 * reads each answered by MongoDB): kept to show what the cache saves.
 *
 * Phases, in this order, each with 32 concurrent workers for BENCH_DURATION seconds:
 *   1. warm-ups (not counted): HTTP 3 s, driver 2 s
 *   2. driver, writes only:    the 4 writes (the headline baseline: "the same database
 *                              writes that one booking makes")
 *   3. driver, reads + writes: the 9 reads the app made before the read cache, and the 4 writes
 *   4. HTTP:                   POST /api/v1/rooms/:roomId/bookings through autocannon in a
 *                              child process, against the real app on 127.0.0.1
 * What a phase wrote is deleted after it, so each phase starts from the same database (the
 * seed, plus BENCH_EXISTING_BOOKINGS bookings and their claims, default 0): on FerretDB v1 some
 * reads cost time in proportion to the collection, and no phase pays for another's rows.
 * Results: a table on stdout and bench/results/room-booking-create.json.
 */
import mongoose, { Types } from 'mongoose';
import { Blackout, CapacityClaim, Facility, ListHorizon, NoShow, Person, ProxyLink, Room, RoomBooking } from '../models/index.js';
import { shanghaiDay } from '../models/calendar.js';
import { unitOf, weekOf } from '../src/booking/time.js';
import type { BookingsJob, BookingsResult } from './http-load.js';
import { planSize, slotAt, type SlotPlan } from './plan.js';
import {
  OUT_OF_REACH, accessTokens, cpuSecondsOf, envNumber, machine, round, runLoadChild, seedFacility, sourceFingerprint, startBenchEnv, startProfiler, summarize,
  table, writeResults, type BenchEnv, type SeededFacility,
  runBench,
} from './support.js';

const DURATION = envNumber('BENCH_DURATION', 12);
const CONNECTIONS = envNumber('BENCH_CONNECTIONS', 32);
const WHAT_IF = ['1', 'true', 'yes'].includes(process.env.BENCH_WHATIF ?? '');
const IDEMPOTENCY = ['1', 'true', 'yes'].includes(process.env.BENCH_IDEMPOTENCY ?? '');
const EXISTING = process.env.BENCH_EXISTING_BOOKINGS ? Math.floor(envNumber('BENCH_EXISTING_BOOKINGS', 0)) : 0;
/** BENCH_CPU_PROFILE=dir: write a V8 CPU profile of the app process during the HTTP phase. */
const PROFILE_DIR = process.env.BENCH_CPU_PROFILE;
const ROOMS = 100;
const RESIDENTS = 320;
/** Rooms 0–89 for the measured HTTP phase, 90–99 for its warm-up (both inside 14 days). */
const HTTP_ROOMS = 90;
const TARGET_RATIO = 0.5;

interface PhaseResult {
  name: string;
  bookings: number;
  seconds: number;
  perSec: number;
  latencyMs: { p50: number; p99: number; mean: number; max: number };
  failures: number;
  failureSamples: string[];
  /** Driver lines: mean time of each operation (includes waiting behind the other workers). */
  opMeanMs?: Record<string, number>;
  /** CPU seconds in this phase: the benchmark process (app server + driver), FerretDB, the load child. */
  cpu: { benchProcess?: number; ferretdb?: number; loadChild?: number };
}

type DriverMode = 'writes' | 'reads+writes' | 'suggested-reads+writes';

/**
 * The driver line: `workers` concurrent loops, each taking the next slot of the plan and doing
 * for it what one booking does to the database, with mongoose.connection.db's collections
 * (the same MongoClient and pool as the app). Bounded by the plan's size and by `durationSec`.
 */
async function driverPhase(
  name: string,
  mode: DriverMode,
  plan: SlotPlan,
  seeded: SeededFacility,
  durationSec: number,
  workers: number,
  purpose: string,
): Promise<Omit<PhaseResult, 'cpu'>> {
  const db = mongoose.connection.db!;
  const col = (model: { collection: { collectionName: string } }) => db.collection(model.collection.collectionName);
  const claims = col(CapacityClaim);
  const bookings = col(RoomBooking);
  const people = col(Person);
  const links = col(ProxyLink);
  const rooms = col(Room);
  const facilities = col(Facility);
  const blackouts = col(Blackout);
  const noShows = col(NoShow);
  const horizons = col(ListHorizon);
  const lookbackMs = (30 + 14) * 86_400_000; // noShowWindowDays + noShowBlockDays (defaults)

  const size = planSize(plan);
  let next = 0;
  let done = 0;
  const latencies: number[] = [];
  const failureSamples: string[] = [];
  let failures = 0;
  const started = performance.now();
  const deadline = started + durationSec * 1000;

  const opMs: Record<string, { n: number; ms: number }> = {};
  async function timed<T>(op: string, work: Promise<T>): Promise<T> {
    const t0 = performance.now();
    const out = await work;
    const entry = (opMs[op] ??= { n: 0, ms: 0 });
    entry.n += 1;
    entry.ms += performance.now() - t0;
    return out;
  }

  async function one(i: number): Promise<void> {
    const slot = slotAt(plan, i)!;
    const roomId = seeded.rooms[slot.room]!;
    const personId = seeded.residents[slot.resident]!;
    const quotaKey = `room-quota:${personId}:${roomId}:${weekOf(slot.start)}`;
    if (mode !== 'writes') {
      const person = await timed('Person.findById', people.findOne({ _id: personId }));
      if (!person) throw new Error('person not found');
      await timed('ProxyLink.distinct', links.distinct('elder', { proxy: personId, status: 'active' }));
      const room = await timed('Room.findById', rooms.findOne({ _id: roomId }));
      if (!room) throw new Error('room not found');
      await timed('Facility.find $in', facilities.find({ _id: { $in: [room.facility] } }).toArray());
      await timed('Blackout.findOne', blackouts.findOne({
        facility: room.facility,
        $or: [{ room: roomId }, { room: { $exists: false } }, { room: null }],
        start: { $lt: slot.end },
        end: { $gt: slot.start },
      }));
      await timed('NoShow.find', noShows.find({ person: personId, service: 'room', at: { $gte: new Date(Date.now() - lookbackMs) } }).sort({ at: 1 }).toArray());
      if (mode === 'reads+writes') await timed('CapacityClaim.distinct', claims.distinct('slot', { key: quotaKey }));
    }
    const id = new Types.ObjectId();
    const now = new Date();
    // widenListHorizon: the resident's room-booking list covers the new booking's month (an
    // upsert before the booking, since the own lists are read a month at a time).
    await timed('ListHorizon.updateOne', horizons.updateOne(
      { _id: `room-bookings:${personId}` as never },
      { $max: { month: shanghaiDay(slot.start).slice(0, 7) }, $min: { oldest: shanghaiDay(slot.start).slice(0, 7) }, $inc: { count: 1 } },
      { upsert: true },
    ));
    await timed('CapacityClaim.insertOne', claims.insertOne({ key: quotaKey, slot: 0, holder: id, createdAt: now }));
    await timed('CapacityClaim.insertMany', claims.insertMany([{ key: `room:${roomId}`, slot: unitOf(slot.start), holder: id, createdAt: now }], { ordered: false }));
    await timed('RoomBooking.insertOne', bookings.insertOne({
      _id: id,
      room: roomId,
      facility: seeded.facility._id,
      community: seeded.community,
      bookedFor: personId,
      bookedBy: personId,
      start: slot.start,
      end: slot.end,
      purpose,
      attendees: 8,
      status: 'confirmed',
      version: 0,
      quotaWeek: weekOf(slot.start),
      history: [{ from: null, to: 'confirmed', at: now, by: personId }],
      createdAt: now,
      updatedAt: now,
      __v: 0,
    }));
    if (mode !== 'writes') {
      // refreshScheduleEntries: the new booking by _id, then its booker (find with $in).
      const row = await timed('RoomBooking.findById', bookings.findOne({ _id: id }));
      if (mode === 'reads+writes') {
        await timed('Person.find $in', people.find({ _id: { $in: [row!.bookedFor] } }, { projection: { name: 1, phone: 1 } }).toArray());
      } else {
        await timed('Person.findById (booker)', people.findOne({ _id: row!.bookedFor }, { projection: { name: 1, phone: 1 } }));
      }
    }
  }

  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < deadline && next < size) {
        const i = next++;
        const t0 = performance.now();
        try {
          await one(i);
          done += 1;
          latencies.push(performance.now() - t0);
        } catch (err) {
          failures += 1;
          if (failureSamples.length < 5) failureSamples.push((err as Error).message.slice(0, 300));
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const s = summarize(latencies);
  return {
    name,
    bookings: done,
    seconds: round(seconds, 2),
    perSec: round(done / seconds),
    latencyMs: { p50: s.median, p99: round(percentileOf(latencies, 99)), mean: s.mean, max: s.max },
    failures,
    failureSamples,
    opMeanMs: Object.fromEntries(Object.entries(opMs).map(([op, e]) => [op, round(e.ms / e.n, 2)])),
  };
}

function percentileOf(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

async function httpPhase(env: BenchEnv, name: string, plan: SlotPlan, seeded: SeededFacility, tokens: string[], durationSec: number) {
  const job: BookingsJob = {
    mode: 'bookings',
    url: env.baseUrl,
    roomIds: seeded.rooms.map(String),
    tokens,
    plan,
    connections: CONNECTIONS,
    durationSec,
    idempotency: IDEMPOTENCY,
  };
  const r = await runLoadChild<BookingsResult>(job, (durationSec + 60) * 1000);
  const failures = r.sent - r.created + r.errors;
  const phase: Omit<PhaseResult, 'cpu'> = {
    name,
    bookings: r.created,
    seconds: round(r.elapsedSec, 2),
    perSec: round(r.createdPerSec),
    latencyMs: { p50: r.latencyMs.p50, p99: r.latencyMs.p99, mean: round(r.latencyMs.average), max: r.latencyMs.max },
    failures,
    failureSamples: r.otherBodies,
  };
  return { phase, raw: r };
}

/** Runs `work` and adds the CPU each process used meanwhile. */
async function withCpu<T extends Omit<PhaseResult, 'cpu'>>(env: BenchEnv, work: () => Promise<T & { loadCpu?: number }>) {
  const [self0, ferret0] = [await cpuSecondsOf(process.pid), await cpuSecondsOf(env.ferretPid)];
  const result = await work();
  const [self1, ferret1] = [await cpuSecondsOf(process.pid), await cpuSecondsOf(env.ferretPid)];
  const delta = (a?: number, b?: number) => (a === undefined || b === undefined ? undefined : round(b - a, 2));
  const { loadCpu, ...phase } = result;
  return { ...phase, cpu: { benchProcess: delta(self0, self1), ferretdb: delta(ferret0, ferret1), loadChild: loadCpu } } as PhaseResult;
}

async function main(): Promise<number> {
  const startedAt = new Date();
  console.log(`room booking creation: ${CONNECTIONS} concurrent clients, ${DURATION} s per phase${IDEMPOTENCY ? ', Idempotency-Key on' : ''}`);
  // The plan has each resident book about 20 times in the HTTP phase and its warm-up, past the
  // booking budget of 30 a minute on a fast machine (429s, seen at 400 bookings/s). The limiter
  // still runs on every request, so its cost is measured; only its budget is out of reach.
  const env = await startBenchEnv({ RATE_LIMIT_BOOKING: OUT_OF_REACH });
  try {
    console.log(`storage: ${env.storage.mongo}; Redis ${env.storage.redis}; driver pool ${env.storage.poolSize}`);
    const seeded = await seedFacility({ rooms: ROOMS, residents: RESIDENTS, tag: 'booking' });
    const tokens = await accessTokens(env.sessions, seeded.residents);
    const baseDay = shanghaiDay(new Date());
    const plans = {
      httpWarmup: { baseDay, roomFrom: HTTP_ROOMS, rooms: ROOMS - HTTP_ROOMS, residents: RESIDENTS, dayFrom: 1, days: 13 },
      http: { baseDay, roomFrom: 0, rooms: HTTP_ROOMS, residents: RESIDENTS, dayFrom: 1, days: 13 },
      // The driver checks no rule, so its bookings lie beyond the 14 days, apart from HTTP's.
      driverWarmup: { baseDay, roomFrom: 0, rooms: ROOMS, residents: RESIDENTS, dayFrom: 80, days: 7 },
      driverWrites: { baseDay, roomFrom: 0, rooms: ROOMS, residents: RESIDENTS, dayFrom: 20, days: 28 },
      driverFull: { baseDay, roomFrom: 0, rooms: ROOMS, residents: RESIDENTS, dayFrom: 50, days: 28 },
    } satisfies Record<string, SlotPlan>;

    if (EXISTING > 0) {
      console.log(`adding ${EXISTING} existing bookings (${EXISTING * 2} claims)…`);
      await seedExistingBookings(EXISTING, seeded);
    }
    const problems: string[] = [];
    const stored = (purpose: string) => RoomBooking.countDocuments({ purpose });

    console.log('warming up (HTTP 3 s, driver 2 s)…');
    let since = new Date();
    const warmHttp = await httpPhase(env, 'warm-up', plans.httpWarmup, seeded, tokens, 3);
    if (warmHttp.raw.sent > warmHttp.raw.created) throw new Error(`the warm-up was refused: ${warmHttp.raw.otherBodies.join(' | ')}`);
    await driverPhase('warm-up', 'reads+writes', plans.driverWarmup, seeded, 2, CONNECTIONS, '压测：预热');
    await compareDocumentShapes();
    await removeSince(since);

    console.log('driver, writes only…');
    since = new Date();
    const writes = await withCpu(env, () =>
      driverPhase('driver: 4 writes', 'writes', plans.driverWrites, seeded, DURATION, CONNECTIONS, '压测：驱动基线（仅写）'));
    if ((await stored('压测：驱动基线（仅写）')) !== writes.bookings) problems.push('driver writes: stored bookings differ from those done');
    await removeSince(since);

    console.log('driver, reads + writes…');
    since = new Date();
    const full = await withCpu(env, () =>
      driverPhase('driver: 9 reads + 4 writes', 'reads+writes', plans.driverFull, seeded, DURATION, CONNECTIONS, '压测：驱动基线（读+写）'));
    if ((await stored('压测：驱动基线（读+写）')) !== full.bookings) problems.push('driver reads+writes: stored bookings differ from those done');
    await removeSince(since);

    console.log('HTTP…');
    since = new Date();
    let httpRaw: BookingsResult | undefined;
    const profiler = PROFILE_DIR ? await startProfiler() : undefined;
    const httpResult = await withCpu(env, async () => {
      const { phase, raw } = await httpPhase(env, `HTTP POST (${CONNECTIONS} connections)`, plans.http, seeded, tokens, DURATION);
      httpRaw = raw;
      return { ...phase, loadCpu: round(raw.cpuSec, 2) };
    });
    if (profiler) console.log(`CPU profile of the app process during the HTTP phase: ${await profiler.stop(PROFILE_DIR!, 'room-booking-http')}`);
    // Every 201 left one booking. Requests still in flight when autocannon stopped (at most one
    // per connection) may have booked too without their answer being counted.
    const storedHttp = await stored('压测：兴趣小组活动');
    if (storedHttp < httpResult.bookings || storedHttp > httpResult.bookings + CONNECTIONS) {
      problems.push(`HTTP: ${httpResult.bookings} answers 201 but ${storedHttp} bookings stored`);
    }
    await removeSince(since);

    // BENCH_WHATIF=1: the reads as docs/performance.md suggests: no distinct over the quota key
    // in claimPlaces, and the booker of the grid refresh read by _id instead of with $in.
    let whatIf: PhaseResult | undefined;
    if (WHAT_IF) {
      console.log('driver, suggested reads + writes (what if)…');
      since = new Date();
      whatIf = await withCpu(env, () =>
        driverPhase('driver: 8 reads + 4 writes (suggested)', 'suggested-reads+writes', plans.driverFull, seeded, DURATION, CONNECTIONS, '压测：假设'));
      await removeSince(since);
    }

    // Where a booking's database time goes, without queueing: one client, 5 s.
    since = new Date();
    const single = await driverPhase('driver: 1 client, 9 reads + 4 writes', 'reads+writes', plans.driverFull, seeded, 5, 1, '压测：单客户端');
    await removeSince(since);

    for (const p of [writes, full, httpResult]) if (p.failures > 0) problems.push(`${p.name}: ${p.failures} failures (${p.failureSamples.join(' | ')})`);
    if (httpRaw?.planExhausted) problems.push('HTTP: the slot plan ran out before the duration ended (raise HTTP_ROOMS)');

    const ratio = round(httpResult.perSec / writes.perSec, 3);
    const ratioFull = round(httpResult.perSec / full.perSec, 3);
    const met = ratio >= TARGET_RATIO;

    const rows: Array<Array<string | number>> = [
      ['phase', 'bookings', 'seconds', 'bookings/s', 'p50 ms', 'p99 ms', 'failures', 'CPU s: bench', 'ferretdb', 'load'],
      ...[writes, full, httpResult, ...(whatIf ? [whatIf] : [])].map((p) => [
        p.name, p.bookings, p.seconds, p.perSec, round(p.latencyMs.p50), round(p.latencyMs.p99), p.failures,
        p.cpu.benchProcess ?? '-', p.cpu.ferretdb ?? '-', p.cpu.loadChild ?? '-',
      ]),
    ];
    console.log(`\n${table(rows)}\n`);
    console.log(`HTTP / driver (4 writes)           = ${ratio}  (target ≥ ${TARGET_RATIO}: ${met ? 'met' : 'NOT met'})`);
    console.log(`HTTP / driver (9 reads + 4 writes) = ${ratioFull}`);
    const ops = [...new Set([...Object.keys(single.opMeanMs ?? {}), ...Object.keys(whatIf?.opMeanMs ?? {})])];
    console.log(`\nmean ms per operation (driver lines):\n${table([
      ['operation', '1 client', `${CONNECTIONS} workers`, ...(whatIf ? ['suggested'] : [])],
      ...ops.map((op) => [op, single.opMeanMs?.[op] ?? '-', full.opMeanMs?.[op] ?? '-', ...(whatIf ? [whatIf.opMeanMs?.[op] ?? '-'] : [])]),
    ])}`);
    console.log(`1 client: ${single.perSec} bookings/s (9 reads + 4 writes)\n`);
    if (httpRaw) console.log(`HTTP status counts: ${JSON.stringify(httpRaw.statusCounts)}; connection errors ${httpRaw.errors}, timeouts ${httpRaw.timeouts}`);

    const file = await writeResults('room-booking-create', {
      benchmark: 'room-booking-create',
      date: startedAt.toISOString(),
      machine: machine(),
      storage: env.storage,
      sources: await sourceFingerprint([
        'src/commands/roomBookings.ts', 'src/booking/claims.ts', 'src/booking/scheduleProjection.ts', 'src/routes/api/rooms/bookings.ts',
        'src/middlewares/authenticate.ts', 'src/policies/policy.ts', 'src/cache/readCache.ts',
      ]),
      settings: {
        connections: CONNECTIONS, durationSec: DURATION, idempotencyKey: IDEMPOTENCY, rooms: ROOMS, residents: RESIDENTS, existingBookings: EXISTING,
        logLevel: env.config.logLevel, planSizes: Object.fromEntries(Object.entries(plans).map(([k, v]) => [k, planSize(v)])),
      },
      phases: { driverWrites: writes, driverReadsWrites: full, http: httpResult, singleClientReadsWrites: single, whatIfSuggestedReads: whatIf },
      http: httpRaw && { statusCounts: httpRaw.statusCounts, errors: httpRaw.errors, timeouts: httpRaw.timeouts, latencyMs: httpRaw.latencyMs },
      ratio: { httpOverDriverWrites: ratio, httpOverDriverReadsWrites: ratioFull, target: TARGET_RATIO, met },
      problems,
    });
    console.log(`results: ${file}`);
    if (problems.length) {
      console.error(`\nFAILED checks:\n  - ${problems.join('\n  - ')}`);
      return 1;
    }
    return 0;
  } finally {
    await env.teardown();
  }
}

/**
 * Removes what a phase wrote (bookings and claims created since `since`), so every phase
 * starts from the same database: on FerretDB v1 the cost of some reads grows with the
 * collection (see docs/performance.md), and a later phase must not pay for an earlier one.
 */
async function removeSince(since: Date): Promise<void> {
  await CapacityClaim.collection.deleteMany({ createdAt: { $gte: since } });
  await RoomBooking.collection.deleteMany({ createdAt: { $gte: since } });
}

/**
 * BENCH_EXISTING_BOOKINGS: bookings (with their quota and unit claims) made before the run,
 * as a service that has been in use has: past days of the same rooms, other residents' quota
 * keys. They stay through every phase.
 */
async function seedExistingBookings(n: number, seeded: SeededFacility): Promise<void> {
  const db = mongoose.connection.db!;
  const claims = db.collection(CapacityClaim.collection.collectionName);
  const bookings = db.collection(RoomBooking.collection.collectionName);
  const at = new Date(Date.now() - 86_400_000);
  const plan: SlotPlan = { baseDay: shanghaiDay(new Date()), roomFrom: 0, rooms: ROOMS, residents: RESIDENTS, dayFrom: -400, days: 399 };
  for (let from = 0; from < n; from += 1_000) {
    const claimDocs = [];
    const bookingDocs = [];
    for (let i = from; i < Math.min(n, from + 1_000); i += 1) {
      const slot = slotAt(plan, i)!;
      const id = new Types.ObjectId();
      const room = seeded.rooms[slot.room]!;
      const person = seeded.residents[slot.resident]!;
      claimDocs.push({ key: `room-quota:${person}:${room}:${weekOf(slot.start)}`, slot: 0, holder: id, createdAt: at });
      claimDocs.push({ key: `room:${room}`, slot: unitOf(slot.start), holder: id, createdAt: at });
      bookingDocs.push({
        _id: id, room, facility: seeded.facility._id, community: seeded.community, bookedFor: person, bookedBy: person,
        start: slot.start, end: slot.end, purpose: '压测：既有预约', attendees: 6, status: 'completed', version: 2,
        quotaWeek: weekOf(slot.start), history: [{ from: null, to: 'confirmed', at, by: person }], createdAt: at, updatedAt: at, __v: 0,
      });
    }
    await claims.insertMany(claimDocs, { ordered: false });
    await bookings.insertMany(bookingDocs, { ordered: false });
  }
}

/** Warns when the driver's booking documents differ in shape from the ones mongoose writes. */
async function compareDocumentShapes(): Promise<void> {
  const viaApp = await RoomBooking.collection.findOne({ purpose: '压测：兴趣小组活动' });
  const viaDriver = await RoomBooking.collection.findOne({ purpose: '压测：预热' });
  const keys = (d: object | null) => Object.keys(d ?? {}).sort().join(',');
  if (keys(viaApp) !== keys(viaDriver)) {
    console.warn(`note: booking fields differ\n  app:    ${keys(viaApp)}\n  driver: ${keys(viaDriver)}`);
  }
}

runBench(main);
