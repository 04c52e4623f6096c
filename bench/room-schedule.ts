/**
 * The staff day grid: GET /api/v1/facilities/:facilityId/schedule?date=…&days=1 for a facility
 * with 1,000 rooms and 10,000 bookings that day (issue 4's benchmark: median under 300 ms).
 *
 *   npm run bench:schedule
 *   MONGODB_URI=mongodb://127.0.0.1:27017 npm run bench:schedule
 *   BENCH_REQUESTS=50 BENCH_OTHER_BOOKINGS=20000 npm run bench:schedule
 *   BENCH_CPU_PROFILE=/tmp/prof npm run bench:schedule   # + a .cpuprofile of the HTTP requests
 *
 * Data: one facility, 1,000 rooms (08:00–20:00), 2,000 residents; on one day (tomorrow,
 * Shanghai) 10 one-hour bookings in every room, 08:00–18:00, booked by residents spread over
 * the 2,000, with a realistic mix of statuses (mostly confirmed; some pending, checked in,
 * completed, released, cancelled), purposes, history and a few flags and series.
 * BENCH_OTHER_BOOKINGS adds bookings on other days of the same facility (default 0), to see
 * how the grid scales with the collection rather than with the day. The grid reads rooms,
 * bookings and people only, so no CapacityClaims are made.
 *
 * Measured: over HTTP with a staff token, from a child process (so parsing the answer does
 * not load the server's thread), 5 warm-up requests then BENCH_REQUESTS (default 30)
 * sequential ones, each to its last byte: median, p95, min, max. Then facilitySchedule()
 * called directly (3 warm-up + 15). The grid is served from a Redis projection that the
 * booking commands keep up to date and that a view rebuilds from the database when it is
 * missing (src/booking/scheduleProjection.ts): the first warm-up request is that rebuild,
 * and three more cold calls (the bench's Redis keys deleted before each) time it, with each
 * database query it makes (timed around Query.exec) and FerretDB's own CPU.
 * Results: stdout and bench/results/room-schedule.json.
 */
import mongoose, { Types } from 'mongoose';
import { Person, RoomBooking } from '../models/index.js';
import { atShanghai, dayjs, shanghaiDay } from '../models/calendar.js';
import { weekOf } from '../src/booking/time.js';
import { facilitySchedule } from '../src/commands/roomSchedule.js';
import type { SequentialJob, SequentialResult } from './http-load.js';
import {
  accessTokens, cpuSecondsOf, deleteKeysWithPrefix, startProfiler, envNumber, insertInBatches, machine, round, runLoadChild, seedFacility, startBenchEnv,
  sourceFingerprint, summarize, table, writeResults,
  runBench, withQuerySpans,
} from './support.js';

const ROOMS = 1_000;
const BOOKINGS_PER_ROOM = 10;
const PERSONS = 2_000;
const REQUESTS = envNumber('BENCH_REQUESTS', 30);
const WARMUP = 5;
const DIRECT_CALLS = 15;
const COLD_CALLS = 3;
const OTHER_BOOKINGS = process.env.BENCH_OTHER_BOOKINGS ? Math.floor(envNumber('BENCH_OTHER_BOOKINGS', 0)) : 0;
const TARGET_MEDIAN_MS = 300;
/** BENCH_CPU_PROFILE=dir: write a V8 CPU profile of the app process during the HTTP requests. */
const PROFILE_DIR = process.env.BENCH_CPU_PROFILE;

const PURPOSES = ['太极拳练习', '书法兴趣班', '合唱团排练', '社区议事会', '老年大学课程', '亲子阅读', '象棋比赛', '健康讲座', '编织小组', '舞蹈排练'];

/** status of the j-th booking of room i: about 82% confirmed, the rest spread over the others. */
function statusFor(n: number): 'pending' | 'confirmed' | 'checked_in' | 'completed' | 'released_no_show' | 'cancelled' {
  const r = n % 50;
  if (r < 3) return 'pending';
  if (r < 5) return 'checked_in';
  if (r < 7) return 'completed';
  if (r === 7) return 'released_no_show';
  if (r < 10) return 'cancelled';
  return 'confirmed';
}

function bookingDoc(
  n: number,
  room: Types.ObjectId,
  facility: Types.ObjectId,
  community: Types.ObjectId,
  bookedFor: Types.ObjectId,
  start: Date,
  staff: Types.ObjectId,
) {
  const status = statusFor(n);
  const created = new Date(start.getTime() - 3 * 86_400_000);
  const history: Array<{ from: string | null; to: string; at: Date; by: Types.ObjectId; reason?: string }> = [
    { from: null, to: status === 'pending' ? 'pending' : 'confirmed', at: created, by: bookedFor },
  ];
  if (status === 'checked_in' || status === 'completed') history.push({ from: 'confirmed', to: 'checked_in', at: start, by: bookedFor });
  if (status === 'completed') history.push({ from: 'checked_in', to: 'completed', at: new Date(start.getTime() + 3_600_000), by: bookedFor });
  if (status === 'released_no_show') history.push({ from: 'confirmed', to: 'released_no_show', at: start, by: bookedFor, reason: 'no check-in' });
  if (status === 'cancelled') history.push({ from: 'confirmed', to: 'cancelled', at: created, by: bookedFor });
  return {
    room,
    facility,
    community,
    bookedFor,
    bookedBy: n % 7 === 0 ? staff : bookedFor,
    start,
    end: new Date(start.getTime() + 3_600_000),
    purpose: PURPOSES[n % PURPOSES.length]!,
    attendees: 5 + (n % 20),
    status,
    version: history.length - 1,
    series: n % 10 === 0 ? `series-${Math.floor(n / 10) % 300}` : undefined,
    quotaWeek: weekOf(start),
    checkedInAt: status === 'checked_in' || status === 'completed' ? start : undefined,
    flag: n % 97 === 0 ? { reason: '维修期间：请工作人员联系预约人', at: created } : undefined,
    history,
  };
}

async function main(): Promise<number> {
  const startedAt = new Date();
  console.log(`staff day grid: ${ROOMS} rooms, ${ROOMS * BOOKINGS_PER_ROOM} bookings on one day, ${PERSONS} bookers` +
    (OTHER_BOOKINGS ? `, ${OTHER_BOOKINGS} more bookings on other days` : ''));
  const env = await startBenchEnv();
  try {
    console.log(`storage: ${env.storage.mongo}; Redis ${env.storage.redis}`);
    const t = performance.now();
    const seeded = await seedFacility({ rooms: ROOMS, residents: PERSONS, tag: 'schedule' });
    const day = dayjs.utc(shanghaiDay(new Date())).add(1, 'day').format('YYYY-MM-DD');
    const docs = [];
    for (let i = 0; i < ROOMS; i += 1) {
      for (let j = 0; j < BOOKINGS_PER_ROOM; j += 1) {
        const n = i * BOOKINGS_PER_ROOM + j;
        const start = atShanghai(day, `${String(8 + j).padStart(2, '0')}:00`);
        docs.push(bookingDoc(n, seeded.rooms[i]!, seeded.facility._id, seeded.community, seeded.residents[(n * 7) % PERSONS]!, start, seeded.staff));
      }
    }
    // Other days, for BENCH_OTHER_BOOKINGS: the same rooms, days 2, 3, … after the measured one.
    for (let k = 0; k < OTHER_BOOKINGS; k += 1) {
      const perDay = ROOMS * BOOKINGS_PER_ROOM;
      const otherDay = dayjs.utc(day).add(1 + Math.floor(k / perDay), 'day').format('YYYY-MM-DD');
      const i = k % ROOMS;
      const j = Math.floor(k / ROOMS) % BOOKINGS_PER_ROOM;
      const start = atShanghai(otherDay, `${String(8 + j).padStart(2, '0')}:00`);
      docs.push(bookingDoc(k + 7, seeded.rooms[i]!, seeded.facility._id, seeded.community, seeded.residents[(k * 11) % PERSONS]!, start, seeded.staff));
    }
    await insertInBatches((batch) => RoomBooking.insertMany(batch), docs, 1_000);
    const [token] = await accessTokens(env.sessions, [seeded.staff]);
    const seedSec = round((performance.now() - t) / 1000, 1);
    const onDay = await RoomBooking.collection.countDocuments({ facility: seeded.facility._id, start: { $gte: atShanghai(day, '00:00'), $lt: atShanghai(dayjs.utc(day).add(1, 'day').format('YYYY-MM-DD'), '00:00') } });
    const shownExpected = docs.slice(0, ROOMS * BOOKINGS_PER_ROOM).filter((d) => d.status !== 'cancelled').length;
    console.log(`seeded in ${seedSec} s: ${onDay} bookings on ${day} (${shownExpected} shown: cancelled ones are not), ${await Person.estimatedDocumentCount()} persons`);

    // ---- HTTP, from a child process
    const path = `/api/v1/facilities/${seeded.facility._id}/schedule?date=${day}&days=1`;
    const ferretBefore = await cpuSecondsOf(env.ferretPid);
    const selfBefore = await cpuSecondsOf(process.pid);
    const job: SequentialJob = { mode: 'sequential', url: env.baseUrl, path, token: token!, warmup: WARMUP, count: REQUESTS, maxSec: 900 };
    const profiler = PROFILE_DIR ? await startProfiler() : undefined;
    const http = await runLoadChild<SequentialResult>(job, 960_000);
    if (profiler) console.log(`CPU profile of the app process during the HTTP requests: ${await profiler.stop(PROFILE_DIR!, 'room-schedule-http')}`);
    const ferretHttpCpu = ferretBefore === undefined ? undefined : round((await cpuSecondsOf(env.ferretPid))! - ferretBefore, 2);
    const serverHttpCpu = round((await cpuSecondsOf(process.pid))! - selfBefore!, 2);
    const bad = http.statuses.filter((s) => s !== 200).length;
    const httpStats = summarize(http.ms);

    // ---- facilitySchedule() directly, and where its time goes
    for (let i = 0; i < 3; i += 1) await facilitySchedule(env.redis, seeded.facility._id, day, 1);
    const direct: number[] = [];
    const serialize: number[] = [];
    let lastShown = 0;
    let lastRooms = 0;
    const ferretDirect0 = await cpuSecondsOf(env.ferretPid);
    for (let i = 0; i < DIRECT_CALLS; i += 1) {
      const t1 = performance.now();
      const grid = await facilitySchedule(env.redis, seeded.facility._id, day, 1);
      direct.push(performance.now() - t1);
      const t2 = performance.now();
      JSON.stringify(grid);
      serialize.push(performance.now() - t2);
      lastShown = grid.bookings.length;
      lastRooms = grid.rooms.length;
    }
    const ferretDirectCpu = ferretDirect0 === undefined ? undefined : round(((await cpuSecondsOf(env.ferretPid))! - ferretDirect0) / DIRECT_CALLS * 1000);
    const directStats = summarize(direct);
    const serializeStats = summarize(serialize);

    // The cold path: with the bench's Redis keys deleted (grid projection and room cache
    // included), every call rebuilds from the database. Each query timed around Query.exec.
    const cold = [];
    for (let i = 0; i < COLD_CALLS; i += 1) {
      await deleteKeysWithPrefix(env.redis);
      const ferret0 = await cpuSecondsOf(env.ferretPid);
      const traced = await withQuerySpans(() => facilitySchedule(env.redis, seeded.facility._id, day, 1));
      const ferret1 = await cpuSecondsOf(env.ferretPid);
      cold.push({ ...traced, ferretCpuMs: ferret0 === undefined ? undefined : round((ferret1! - ferret0) * 1000) });
    }
    const coldStats = summarize(cold.map((c) => c.totalMs));
    const typical = [...cold].sort((a, b) => a.totalMs - b.totalMs)[Math.floor(cold.length / 2)]!;

    // What the storage does with each of those filters.
    const explains = [];
    for (const span of typical.spans) {
      const explain = await mongoose.connection.db!.collection(span.collection).find(span.filter as object).explain().catch((e: Error) => ({ error: e.message }));
      const e = explain as { filterPushdown?: boolean; queryPlanner?: unknown };
      explains.push({ collection: span.collection, filterPushdown: e.filterPushdown, plan: JSON.stringify(e.queryPlanner ?? explain).slice(0, 200) });
    }
    // How long a plain scan of each collection takes here (a find with a filter that matches nothing).
    const scans = [];
    for (const name of ['rooms', 'roombookings', 'people']) {
      const col = mongoose.connection.db!.collection(name);
      const count = await col.countDocuments();
      const t3 = performance.now();
      await col.find({ __bench_nothing__: true }).toArray();
      scans.push({ collection: name, documents: count, ms: round(performance.now() - t3) });
    }

    const met = httpStats.median < TARGET_MEDIAN_MS;
    console.log(`\nHTTP GET ${path.replace(String(seeded.facility._id), ':id')} — ${http.ms.length} sequential requests after ${http.warmupMs.length} warm-up, ${round(http.bytes / 1024 / 1024, 2)} MiB each`);
    console.log(table([
      ['measure', 'n', 'median ms', 'p95 ms', 'min ms', 'max ms'],
      ['HTTP (to last byte)', httpStats.count, httpStats.median, httpStats.p95, httpStats.min, httpStats.max],
      ['facilitySchedule() direct', directStats.count, directStats.median, directStats.p95, directStats.min, directStats.max],
      ['JSON.stringify(grid)', serializeStats.count, serializeStats.median, serializeStats.p95, serializeStats.min, serializeStats.max],
      ['cold: facilitySchedule() rebuild', coldStats.count, coldStats.median, coldStats.p95, coldStats.min, coldStats.max],
    ]));
    console.log(`HTTP warm-up requests (the first one finds no projection): ${http.warmupMs.map((v) => round(v)).join(', ')} ms`);
    console.log(`\ngrid: ${lastRooms} rooms, ${lastShown} bookings shown; non-200 answers: ${bad}`);
    console.log(`CPU during the HTTP requests: FerretDB ${ferretHttpCpu ?? '-'} s, app process ${serverHttpCpu} s (for ${http.ms.length + http.warmupMs.length} requests)`);
    console.log(`FerretDB CPU per direct call: ${ferretDirectCpu ?? '-'} ms`);
    console.log(`\ncold facilitySchedule(): database queries of the median call of ${COLD_CALLS} (total ${round(typical.totalMs)} ms, FerretDB CPU ${typical.ferretCpuMs ?? '-'} ms):`);
    console.log(table([
      ['collection', 'op', 'starts at ms', 'ms', 'documents'],
      ...typical.spans.map((s) => [s.collection, s.op, s.startMs, s.ms, s.docs]),
    ]));
    console.log(`\nstorage plans: ${explains.map((e) => `${e.collection}: filterPushdown=${e.filterPushdown}`).join('; ')}`);
    console.log(`full scans (filter matching nothing): ${scans.map((s) => `${s.collection} ${s.documents} docs ${s.ms} ms`).join('; ')}`);
    console.log(`\nmedian ${httpStats.median} ms — target < ${TARGET_MEDIAN_MS} ms: ${met ? 'met' : 'NOT met'}`);

    const file = await writeResults('room-schedule', {
      benchmark: 'room-schedule',
      date: startedAt.toISOString(),
      machine: machine(),
      storage: env.storage,
      sources: await sourceFingerprint(['src/commands/roomSchedule.ts', 'src/booking/scheduleProjection.ts', 'src/routes/api/rooms/index.ts']),
      data: { rooms: ROOMS, bookingsOnDay: onDay, bookingsShown: lastShown, otherBookings: OTHER_BOOKINGS, persons: PERSONS, day, seedSec },
      http: { ...httpStats, warmupMs: http.warmupMs.map((v) => round(v)), allMs: http.ms.map((v) => round(v)), bytes: http.bytes, non200: bad, cpuSec: { ferretdb: ferretHttpCpu, appProcess: serverHttpCpu } },
      direct: { ...directStats, ferretdbCpuMsPerCall: ferretDirectCpu, jsonStringify: serializeStats },
      cold: { ...coldStats, breakdown: { totalMs: round(typical.totalMs), ferretdbCpuMs: typical.ferretCpuMs, queries: typical.spans.map(({ filter: _f, ...s }) => s), explains, scans } },
      target: { medianMs: TARGET_MEDIAN_MS, met },
    });
    console.log(`results: ${file}`);
    if (bad > 0) {
      console.error(`FAILED: ${bad} answers were not 200 (first body: ${http.firstBodyStart})`);
      return 1;
    }
    if (lastShown !== shownExpected || lastRooms !== ROOMS) {
      console.error(`FAILED: the grid shows ${lastRooms} rooms and ${lastShown} bookings, expected ${ROOMS} and ${shownExpected}`);
      return 1;
    }
    return 0;
  } finally {
    await env.teardown();
  }
}

runBench(main);
