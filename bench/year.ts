/**
 * A year of one busy community (issue 17): loads, with the driver, what one community makes in
 * a year — 5,000 persons, 10 rooms and 8,000 room bookings with their claims, 2 kitchens with
 * 60,000 meal orders, 5,000 childcare bookings, 5,000 volunteer assignments, 200,000
 * notifications, 14 days of job runs — then measures p50 / p95 of every GET operation of the
 * OpenAPI document (as the resident or the staff member it is for), of each write (room
 * booking, meal order, childcare booking, volunteer claim, and their cancels; the busy
 * resident's "mark all read", first and again) and of about twenty typical bot messages. It
 * does the same at one month's volume (persons, rooms and kitchens stay; records are a twelfth;
 * job runs are 14 days at both, as retention keeps them) and prints the growth ratio (year p95 / month p95) per operation and the ten slowest.
 *
 * The busy resident's personal data export is prepared first (timed as a background job, its
 * size printed), so the export GETs (status, file, and the legacy /me/export, which serves it)
 * measure a ready export of a year of that resident's data.
 *
 * Retention: after loading and before measuring, the bench runs the real
 * `outbox.pruneNotifications` (src/outbox/retention.ts, NOTIFICATION_RETENTION_DAYS, default 90)
 * as production's daily job would have after a year, so a year holds the notifications a year of
 * production keeps (the load still writes 200,000 and prints how many the job deleted).
 * Notifications are written with the read keys notify() gives them (`month`, `subject`).
 *
 *   npm run bench:year                      # month, then year (FerretDB on a private PostgreSQL)
 *   npm run bench:year -- --scale 0.1       # both volumes × 0.1, a quick run
 *   BENCH_SAMPLES=20 npm run bench:year     # samples per operation (default 10)
 *   npm run bench:year -- --only 'export|notifications' --year-only
 *                                           # only the operations whose name matches, a year only
 *   BENCH_ROWS=1 npm run bench:year -- --only …
 *                                           # also the rows one request made PostgreSQL read (under
 *                                           # FerretDB: sequential + index fetches of every table, from
 *                                           # pg_stat_user_tables; ~25 s more per GET, so with --only)
 *
 * Storage as every benchmark (bench/support.ts): MONGODB_URI, else the embedded default.
 * Results: tables on stdout and bench/results/year.json.
 */
import { parseArgs } from 'node:util';
import mongoose, { Types } from 'mongoose';
import pg from 'pg';
import type { MessageInterface } from 'wechaty/impls';
import { startBot } from '../bots/index.js';
import { atShanghai, dayjs, shanghaiDay } from '../models/calendar.js';
import {
  CapacityClaim, Child, ChildcareBooking, ChildcareSession, Community, Facility, Identity, JobRun, MealMenu, MealOrder,
  Notification, Person, Room, RoomBooking, VolunteerAssignment, VolunteerTask,
} from '../models/index.js';
import { unitsBetween, weekOf } from '../src/booking/time.js';
import { monthOf, subjectOf } from '../models/notification.js';
import { pruneNotifications } from '../src/outbox/retention.js';
import { exportPreparationsSettled, preparePersonalDataExport, requestPersonalDataExport } from '../src/commands/personalDataExport.js';
import { PersonalDataExport } from '../models/personalDataExport.js';
import { ensureJsonbIndexes } from '../src/storage/jsonbIndexes.js';
import { OUT_OF_REACH, accessTokens, envNumber, insertInBatches, machine, round, runBench, startBenchEnv, summarize, table, writeResults, type BenchEnv } from './support.js';

const { values: args } = parseArgs({ options: { scale: { type: 'string' }, only: { type: 'string' }, 'year-only': { type: 'boolean' } } });
/** `--only <regex>`: measure only the operations whose name (`GET /api/v1/…`, `POST …`, `bot: …`) matches. */
const ONLY = args.only ? new RegExp(args.only) : undefined;
const wanted = (op: string) => !ONLY || ONLY.test(op);
const SCALE = args.scale ? Number(args.scale) : 1;
if (!(SCALE > 0 && SCALE <= 1)) throw new Error('--scale must be a number in (0, 1]');
const SAMPLES = Math.round(envNumber('BENCH_SAMPLES', 10));
const EVERY_DAY = [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, open: '08:00', close: '20:00' }));
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** The volume of `months` months of one community (persons, rooms, kitchens do not grow). */
function volume(months: number) {
  const f = (months / 12) * SCALE;
  return {
    months,
    persons: Math.max(200, Math.round(5_000 * SCALE)),
    roomBookings: Math.round(8_000 * f),
    mealOrders: Math.round(60_000 * f),
    childcareBookings: Math.round(5_000 * f),
    assignments: Math.round(5_000 * f),
    notifications: Math.round(200_000 * f),
    jobRunDays: Math.max(1, Math.round(14 * SCALE)),
    days: Math.max(7, Math.round(months * 30.5)),
  };
}
type Volume = ReturnType<typeof volume>;

interface World {
  community: Types.ObjectId;
  centre: Types.ObjectId;
  kitchens: Types.ObjectId[];
  childcareCentre: Types.ObjectId;
  rooms: Types.ObjectId[];
  residents: Types.ObjectId[];
  staff: Types.ObjectId;
  /** A resident with data of every kind (bookings, orders, a child, assignments). */
  busy: Types.ObjectId;
  ids: Record<string, Types.ObjectId>;
  /** Children with no booking in the session the childcare writes are measured on. */
  children: Types.ObjectId[];
  volunteers: Types.ObjectId[];
  today: string;
}

const oid = () => new Types.ObjectId();
const dayOffset = (today: string, d: number) => dayjs.utc(today).add(d, 'day').format('YYYY-MM-DD');
const insert = <T>(model: { collection: { insertMany(docs: T[], o: object): Promise<unknown> } }, docs: T[]) =>
  insertInBatches((batch) => model.collection.insertMany(batch, { ordered: false }), docs, 2_000);

/** Loads a community's `v` through the driver (no mongoose documents: fast, as the bench needs). */
async function load(v: Volume, retentionDays: number): Promise<World> {
  const now = new Date();
  const today = shanghaiDay(now);
  // Records cover the days [-(days-15) … +14]: history, and the two weeks bookable ahead.
  const firstDay = -(v.days - 15);
  const community = (await Community.create({ name: '一年社区', code: `year-${process.pid}-${v.months}`, district: '压测区' }))._id;
  const facility = async (kind: 'community_centre' | 'kitchen' | 'childcare_centre', name: string) =>
    (await Facility.create({ community, kind, name, address: '压测路1号', openingHours: EVERY_DAY }))._id;
  const centre = await facility('community_centre', '服务中心');
  const kitchens = [await facility('kitchen', '长者食堂一'), await facility('kitchen', '长者食堂二')];
  const childcareCentre = await facility('childcare_centre', '托育中心');
  const rooms = Array.from({ length: 10 }, oid);
  // Through the model once, so every default a real create sets is there.
  await insert(Room, rooms.map((_id, i) => new Room({
    _id, facility: centre, name: `活动室${i + 1}`, capacity: 30, equipment: ['桌椅'], openingHours: EVERY_DAY, createdAt: now, updatedAt: now,
  }).toObject()));
  const residents = Array.from({ length: v.persons }, oid);
  await insert(Person, residents.map((_id, i) => new Person({
    _id, community, name: `居民${i + 1}`, phone: `139${String(10_000_000 + i).slice(-8)}`,
    roles: i % 10 === 0 ? ['resident', 'volunteer'] : ['resident'], status: 'active', grid: `第${(i % 8) + 1}网格`,
    birthDate: new Date(Date.UTC(1940 + (i % 40), i % 12, (i % 28) + 1, -8)),
    address: { building: `${(i % 20) + 1}栋`, unit: `${(i % 4) + 1}单元`, room: `${100 + (i % 30)}` },
    tags: [], createdAt: now, updatedAt: now,
    ...(i % 10 === 0 ? { volunteer: { skills: [], verified: true, verifiedAt: now, registeredAt: now } } : {}),
  }).toObject()));
  const staff = (await Person.create({
    community, name: '工作人员', phone: '13800000000', roles: ['staff', 'admin'], status: 'active',
    staffScope: { community, facilities: [centre, ...kitchens, childcareCentre] },
  }))._id;
  const busy = residents[0]!;
  const person = (i: number) => (i % 50 === 0 ? busy : residents[i % residents.length]!);
  const claims: object[] = [];

  // Room bookings: spread over the days and rooms, 1 hour each, never overlapping.
  const perRoomDay = Math.ceil(v.roomBookings / (v.days * rooms.length));
  const roomBookings = Array.from({ length: v.roomBookings }, (_, i) => {
    const room = i % rooms.length;
    const k = Math.floor(i / rooms.length);
    const d = firstDay + (k % v.days);
    const slot = Math.floor(k / v.days) % Math.min(12, Math.max(1, perRoomDay * 2));
    const start = new Date(atShanghai(dayOffset(today, d), '08:00').getTime() + slot * HOUR);
    const end = new Date(start.getTime() + HOUR);
    const past = end < now;
    const status = i % 9 === 0 ? 'cancelled' : past ? 'completed' : 'confirmed';
    const _id = oid();
    const who = person(i);
    if (status !== 'cancelled') {
      for (const unit of unitsBetween(start, end)) claims.push({ key: `room:${rooms[room]}`, slot: unit, holder: _id, createdAt: now });
      claims.push({ key: `room-quota:${who}:${rooms[room]}:${weekOf(start)}`, slot: i % 3, holder: _id, createdAt: now });
    }
    if (status !== 'confirmed') claims.push({ key: `state:${_id}`, slot: 1, holder: _id, createdAt: now });
    return {
      _id, room: rooms[room], facility: centre, community, bookedFor: who, bookedBy: who, start, end, day: shanghaiDay(start), month: shanghaiDay(start).slice(0, 7), purpose: '活动',
      attendees: 5, status, version: status === 'confirmed' ? 0 : 1, quotaWeek: weekOf(start),
      history: [{ from: null, to: 'confirmed', at: start, by: who }], createdAt: start, updatedAt: start,
    };
  });

  // Meals: lunch and dinner at both kitchens every day; orders spread over them.
  const menus: Array<{ _id: Types.ObjectId; kitchen: Types.ObjectId; date: string; meal: string }> = [];
  for (let d = firstDay; d < 15; d++) {
    for (const kitchen of kitchens) for (const meal of ['lunch', 'dinner']) menus.push({ _id: oid(), kitchen, date: dayOffset(today, d), meal });
  }
  const perMenu = Math.ceil(v.mealOrders / menus.length);
  const capacity = Math.max(200, perMenu * 2);
  await insert(MealMenu, menus.map((m) => new MealMenu({
    ...m, dishes: [{ name: '红烧肉', dietary: [] }, { name: '清炒时蔬', dietary: ['低盐', '素食'] }], price: 12, capacity,
    remaining: capacity - perMenu, cutoff: atShanghai(m.date, m.meal === 'lunch' ? '09:00' : '15:00'), published: true,
    createdAt: now, updatedAt: now,
  }).toObject()));
  const mealOrders = Array.from({ length: v.mealOrders }, (_, i) => {
    const menu = menus[i % menus.length]!;
    const who = person(i);
    const _id = oid();
    const past = menu.date < today;
    const status = i % 15 === 0 ? 'cancelled' : past ? 'delivered' : 'confirmed';
    if (status !== 'cancelled') {
      claims.push({ key: `meal-person:${menu._id}:${who}`, slot: 0, holder: _id, createdAt: now });
      claims.push({ key: `meal:${menu._id}`, slot: Math.floor(i / menus.length), holder: _id, createdAt: now });
    }
    return {
      _id, menu: menu._id, kitchen: menu.kitchen, community, date: menu.date, month: menu.date.slice(0, 7), meal: menu.meal, bookedFor: who, bookedBy: who,
      mode: i % 3 === 0 ? 'delivery' : 'dine_in', quantity: 1, dietaryNeeds: [], dietarySource: 'profile',
      building: `${(i % 20) + 1}栋`, grid: `第${(i % 8) + 1}网格`,
      breakdown: { unitPrice: 1200, quantity: 1, tier: null, subsidisedPrice: 1200, subsidy: 0, deliveryFee: 0, toPay: 1200 }, status, version: 0,
      history: [], createdAt: now, updatedAt: now,
    };
  });

  // Childcare: one 托小班 session a day, a child for every 20 residents.
  const children = residents.filter((_, i) => i % 20 === 0).map((parent) => ({ _id: oid(), parents: [parent], name: '宝宝', birthDate: new Date(now.getTime() - 540 * DAY), allergies: [], guardians: [], createdAt: now, updatedAt: now }));
  const sessions = Array.from({ length: v.days }, (_, k) => {
    const date = dayOffset(today, firstDay + k);
    return { _id: oid(), centre: childcareCentre, date, start: atShanghai(date, '08:30'), end: atShanghai(date, '17:00'), classType: '托小班', carersOnShift: 4, capacity: 40, booked: 0, createdAt: now, updatedAt: now };
  });
  const childcareBookings = Array.from({ length: v.childcareBookings }, (_, i) => {
    const session = sessions[i % sessions.length]!;
    const child = children[i % children.length]!;
    const _id = oid();
    session.booked += 1;
    const past = session.end < now;
    const status = i % 12 === 0 ? 'cancelled' : past ? 'picked_up' : 'confirmed';
    if (status !== 'cancelled') {
      claims.push({ key: `childcare:${session._id}`, slot: Math.floor(i / sessions.length), holder: _id, createdAt: now });
      claims.push({ key: `childcare-child:${session._id}:${child._id}`, slot: 0, holder: _id, createdAt: now });
      claims.push({ key: `childcare-month:${child._id}:${session.date.slice(0, 7)}`, slot: i % 20, holder: _id, createdAt: now });
    }
    return {
      _id, session: session._id, centre: childcareCentre, community, child: child._id, bookedFor: child.parents[0], bookedBy: child.parents[0],
      date: session.date, start: session.start, end: session.end, classType: '托小班', month: session.date.slice(0, 7),
      healthDeclaration: { healthy: true, at: session.start }, status, version: 0, history: [], createdAt: now, updatedAt: now,
    };
  });

  // Volunteers: tasks of 5 people, a task a few times a day.
  const volunteers = residents.filter((_, i) => i % 10 === 0);
  const tasks = Array.from({ length: Math.max(10, Math.ceil(v.assignments / 5)) }, (_, i) => {
    const d = firstDay + (i % v.days);
    const start = new Date(atShanghai(dayOffset(today, d), '09:00').getTime() + (i % 8) * HOUR);
    return {
      _id: oid(), community, facility: centre, type: 'event', title: `志愿活动${i}`, place: '服务中心', start, end: new Date(start.getTime() + HOUR),
      peopleNeeded: 6, claimedCount: 5, skillsRequired: [], siteCode: '1234', status: start < now ? 'done' : 'open', createdAt: now, updatedAt: now,
    };
  });
  // One open task with room for the bench's claims, a week ahead.
  const openStart = new Date(atShanghai(dayOffset(today, 7), '09:00'));
  tasks.push({
    _id: oid(), community, facility: centre, type: 'event', title: '压测任务', place: '服务中心', start: openStart, end: new Date(openStart.getTime() + HOUR),
    peopleNeeded: 1_000, claimedCount: 0, skillsRequired: [], siteCode: '1234', status: 'open', createdAt: now, updatedAt: now,
  });
  const assignments = Array.from({ length: v.assignments }, (_, i) => {
    const task = tasks[i % (tasks.length - 1)]!;
    const volunteer = i % 25 === 0 ? busy : volunteers[(i * 7) % volunteers.length]!;
    const _id = oid();
    const past = task.end < now;
    claims.push({ key: `task-volunteer:${task._id}:${volunteer}:${i}`, slot: 0, holder: _id, createdAt: now });
    claims.push({ key: `task-places:${task._id}`, slot: Math.floor(i / tasks.length), holder: _id, createdAt: now });
    return {
      _id, task: task._id, volunteer, community, facility: centre, start: task.start, end: task.end, day: shanghaiDay(task.start), month: shanghaiDay(task.start).slice(0, 7), assignedBy: volunteer,
      status: past ? 'approved' : 'claimed', version: 0, ...(past ? { attendedMinutes: 60, approvedMinutes: 60, points: 1, hoursEligible: true } : {}),
      history: [], createdAt: now, updatedAt: now,
    };
  });

  // Notifications: reminders and results, due over the whole span.
  const span = v.days * DAY;
  const spanStart = now.getTime() + firstDay * DAY;
  const notifications = Array.from({ length: v.notifications }, (_, i) => {
    const dueAt = new Date(spanStart + Math.floor((i / v.notifications) * span));
    const _id = oid();
    const key = `bench-note:${_id}:reminder-eve`;
    // The read keys notify() sets (models/notification.ts).
    return { _id, key, person: person(i), kind: 'room.reminder', text: '您预约的活动室明天开始，请准时到场。', dueAt, month: monthOf(dueAt), subject: subjectOf(key), createdAt: dueAt, updatedAt: dueAt };
  });

  // Job runs: the once-per-tick jobs' records of the retention window.
  const perDay: Array<[string, number]> = [
    ['rooms.releaseNoShows', 1440], ['childcare.releaseNoShows', 1440], ['childcare.waitlist', 1440], ['meals.processCutoffs', 1440],
    ['urgent.escalate', 1440], ['rooms.enqueueReminders', 288], ['childcare.enqueueReminders', 288], ['volunteers.enqueueReminders', 288],
    ['meals.enqueueReminders', 288], ['meals.escalateWellness', 288], ['volunteers.autoCheckOut', 144], ['meals.materialiseRecurring', 144],
    ['outbox.reconcile', 144], ['volunteers.announceTasks', 96], ['jobs.pruneRuns', 1],
  ];
  const jobRuns: object[] = [];
  for (const [job, n] of perDay) {
    for (let k = 0; k < n * v.jobRunDays; k++) {
      const startedAt = new Date(now.getTime() - (k * DAY) / n);
      jobRuns.push({ job, tick: startedAt.toISOString().slice(0, 19), instance: 'bench', fence: 1, status: 'ok', startedAt, finishedAt: startedAt, ms: 5, counts: {} });
    }
  }

  const t0 = performance.now();
  await insert(RoomBooking, roomBookings);
  await insert(MealOrder, mealOrders);
  await insert(Child, children);
  await insert(ChildcareSession, sessions);
  await insert(ChildcareBooking, childcareBookings);
  await insert(VolunteerTask, tasks);
  await insert(VolunteerAssignment, assignments);
  await insert(Notification, notifications);
  await insert(JobRun, jobRuns);
  // A person may order twice from one menu in the generated data; the unique index keeps one.
  const seen = new Set<string>();
  await insert(CapacityClaim, (claims as Array<{ key: string; slot: number }>).filter((c) => !seen.has(`${c.key}#${c.slot}`) && seen.add(`${c.key}#${c.slot}`)));
  const counts = { roomBookings: roomBookings.length, mealOrders: mealOrders.length, childcareBookings: childcareBookings.length, assignments: assignments.length, notifications: notifications.length, jobRuns: jobRuns.length, claims: claims.length };
  console.log(`  loaded ${JSON.stringify(counts)} in ${round((performance.now() - t0) / 1000)} s`);
  // What production's daily retention job (outbox.pruneNotifications) keeps after this span.
  const pruned = await pruneNotifications(retentionDays, now);
  console.log(`  retention (${retentionDays} days, outbox.pruneNotifications): deleted ${JSON.stringify(pruned)}`);

  const futureBooking = roomBookings.find((b) => b.bookedFor.equals(busy) && b.status === 'confirmed') ?? roomBookings.at(-1)!;
  const todayMenu = menus.find((m) => m.date === dayOffset(today, 1))!;
  const busyChild = children.find((c) => c.parents[0]!.equals(busy))!;
  const futureSession = sessions.at(-1)!;
  const bookedInFuture = new Set(childcareBookings.filter((b) => b.session.equals(futureSession._id)).map((b) => String(b.child)));
  return {
    community, centre, kitchens, childcareCentre, rooms, residents, staff, busy, today,
    children: children.filter((c) => !bookedInFuture.has(String(c._id))).map((c) => c._id), volunteers,
    ids: {
      bookingId: futureBooking._id, orderId: mealOrders.find((o) => o.bookedFor.equals(busy))?._id ?? mealOrders[0]!._id,
      childcareBookingId: childcareBookings.find((b) => b.child.equals(busyChild._id))?._id ?? oid(),
      menuId: todayMenu._id, childId: busyChild._id, sessionId: futureSession._id, taskId: tasks.at(-1)!._id,
      assignmentId: assignments.find((a) => a.volunteer.equals(busy))?._id ?? assignments[0]!._id,
    },
  };
}

interface Measured {
  op: string;
  as: string;
  status: number;
  p50: number;
  p95: number;
  /** BENCH_ROWS=1: rows PostgreSQL read for one request (all tables), and the table that read most. */
  rows?: number;
  rowsTop?: string;
}

const ROWS = process.env.BENCH_ROWS === '1';

/**
 * A year of records arrives here in a minute, and the retention then deletes 140,000 of them:
 * PostgreSQL's autovacuum and autoanalyze would be catching up during the measurement that
 * follows, at a year far more than at a month. A community whose year accumulated over a year
 * is vacuumed and analysed as it goes: settle it the same way, at both volumes, before measuring.
 */
async function vacuumAfterLoad(postgresqlUrl: string): Promise<void> {
  const t0 = performance.now();
  const client = new pg.Client({ connectionString: postgresqlUrl });
  await client.connect();
  try {
    await client.query('VACUUM (ANALYZE)');
  } finally {
    await client.end();
  }
  console.log(`  vacuumed and analysed in ${round((performance.now() - t0) / 1000, 1)} s`);
}

/** Rows read so far per table of FerretDB's schema (sequential reads + index fetches). */
async function tableReads(env: BenchEnv): Promise<Map<string, number>> {
  const client = new pg.Client({ connectionString: env.postgresqlUrl });
  await client.connect();
  try {
    const r = await client.query<{ name: string; n: string }>(
      `SELECT coalesce(m._jsonb->>'_id', s.relname) AS name, (coalesce(s.seq_tup_read, 0) + coalesce(s.idx_tup_fetch, 0))::text AS n
         FROM pg_stat_user_tables s LEFT JOIN "${mongoose.connection.db!.databaseName}"._ferretdb_database_metadata m ON m._jsonb->>'table' = s.relname
        WHERE s.schemaname = $1`, [mongoose.connection.db!.databaseName]);
    return new Map(r.rows.map((row) => [row.name, Number(row.n)]));
  } finally {
    await client.end();
  }
}

/**
 * The rows one call of `get` makes PostgreSQL read. PostgreSQL 15 publishes a backend's counts
 * when it has been idle ~1 s, at the latest after 10 s: wait that long before and after.
 */
async function rowsOf(env: BenchEnv, get: () => Promise<number>): Promise<{ rows: number; rowsTop: string }> {
  const settle = () => new Promise((r) => setTimeout(r, 11_000));
  await settle();
  const before = await tableReads(env);
  await get();
  await settle();
  const after = await tableReads(env);
  const diff = [...after].map(([name, n]) => [name, n - (before.get(name) ?? 0)] as const).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  return { rows: diff.reduce((a, [, n]) => a + n, 0), rowsTop: diff.slice(0, 2).map(([name, n]) => `${name} ${n}`).join(', ') };
}

/**
 * `n` timed samples of `one`, their results, and their one status (`statusOf`), or -1 when the
 * samples got different answers (a 429 after some 200s): such a row times two different things.
 */
async function timeRequests<T>(n: number, one: (i: number) => Promise<T>, statusOf: (result: T) => number) {
  const ms: number[] = [];
  const results: T[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    results.push(await one(i));
    ms.push(performance.now() - t0);
  }
  const statuses = results.map(statusOf);
  return { status: statuses.every((s) => s === statuses[0]) ? statuses[0] ?? 0 : -1, ms, results };
}

const PREPARE_OP = 'job: prepare the busy resident\'s personal data export';

/**
 * The busy resident's data export, prepared in the background as POST /me/exports does
 * (src/commands/personalDataExport.ts): the preparation is timed as a job (it is not a request
 * anyone waits on), a few times, and the last one is left ready for the GETs of its status and
 * file. Returns its id (none when no export operation is wanted).
 */
async function prepareExports(w: World): Promise<{ measured: Measured[]; exportId?: Types.ObjectId }> {
  if (!wanted(PREPARE_OP) && !wanted('GET /api/v1/me/exports/{exportId}') && !wanted('GET /api/v1/me/export')) return { measured: [] };
  const ms: number[] = [];
  let last: Types.ObjectId | undefined;
  for (let i = 0; i < Math.min(3, SAMPLES); i++) {
    const { doc } = await requestPersonalDataExport(w.busy);
    const t0 = performance.now();
    const outcome = await preparePersonalDataExport(doc._id, 0);
    ms.push(performance.now() - t0);
    if (outcome !== 'ready') throw new Error(`the bench's export ended ${outcome}`);
    last = doc._id;
  }
  await exportPreparationsSettled();
  const ready = (await PersonalDataExport.findById(last).lean())!;
  console.log(`  the busy resident's export: ${ready.records} records, ${round(ready.bytes! / 1_048_576, 2)} MiB of JSON (${round(ready.gzipBytes! / 1024, 1)} KiB gzipped) in ${ready.chunks} piece(s); prepared in ${ms.map((m) => round(m)).join(', ')} ms`);
  const s = summarize(ms);
  return { measured: wanted(PREPARE_OP) ? [{ op: PREPARE_OP, as: 'job', status: 0, p50: s.median, p95: s.p95 }] : [], exportId: last };
}

/** Every GET of the OpenAPI document, with its path parameters from the world, as resident then staff. */
async function measureGets(env: BenchEnv, w: World, tokens: { resident: string; staff: string }, exportId?: Types.ObjectId): Promise<Measured[]> {
  const doc = (await (await fetch(`${env.baseUrl}/openapi.json`)).json()) as { paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string; required: boolean }> }>> };
  const tomorrow = dayOffset(w.today, 1);
  const month = w.today.slice(0, 7);
  const path: Record<string, string> = {
    personId: String(w.busy), roomId: String(w.rooms[0]), facilityId: String(w.centre), taskId: String(w.ids.taskId),
    assignmentId: String(w.ids.assignmentId), childId: String(w.ids.childId), sessionId: String(w.ids.sessionId),
    entryId: String(oid()), menuId: String(w.ids.menuId), orderId: String(w.ids.orderId), communityId: String(w.community),
    month, kitchenId: String(w.kitchens[0]), exportId: String(exportId ?? oid()),
  };
  const query: Record<string, string> = {
    date: tomorrow, start: atShanghai(tomorrow, '10:00').toISOString(), end: atShanghai(tomorrow, '11:00').toISOString(), month,
  };
  const out: Measured[] = [];
  for (const [template, ops] of Object.entries(doc.paths)) {
    const op = ops.get;
    if (!op || !template.startsWith('/api/') || !wanted(`GET ${template}`)) continue;
    let url = template.replace(/\{(\w+)\}/g, (_, name: string) => {
      if (name === 'bookingId') return String(template.includes('childcare') ? w.ids.childcareBookingId : w.ids.bookingId);
      return path[name] ?? String(oid());
    });
    const q = (op.parameters ?? []).filter((p) => p.in === 'query' && p.required).map((p) => `${p.name}=${encodeURIComponent(query[p.name] ?? '')}`);
    if (q.length) url += `?${q.join('&')}`;
    // An own list answers from today on by default; its history (`when=past`, a page at a time) is measured too.
    const variants: Array<[string, string]> = [[`GET ${template}`, url]];
    if ((op.parameters ?? []).some((p) => p.in === 'query' && p.name === 'when')) variants.push([`GET ${template}?when=past`, `${url}${q.length ? '&' : '?'}when=past`]);
    for (const [name, target] of variants) out.push(...(await measureGet(env, template, name, target, tokens)));
  }
  return out;
}

/** GETs whose first view builds a Redis read model, measured apart: [path ending, what is cold]. */
const COLD_FIRST_VIEW: Array<[string, string]> = [['/schedule', 'projection cold'], ['/me/notifications', 'month tallies cold']];

/** One GET as the resident it is for, or as staff where the resident is refused (403). */
async function measureGet(env: BenchEnv, template: string, name: string, url: string, tokens: { resident: string; staff: string }): Promise<Measured[]> {
  const out: Measured[] = [];
  // The resident it is for; staff pages answer 403 to a resident and are measured as staff.
  const tryAs = /\/(me|mine)\b/.test(template) ? ['resident'] : ['resident', 'staff'];
  for (const as of tryAs) {
    const get = () => fetch(`${env.baseUrl}${url}`, { headers: { authorization: `Bearer ${tokens[as as 'resident' | 'staff']}` } }).then(async (r) => (await r.arrayBuffer(), r.status));
    const t0 = performance.now();
    const first = await get(); // warms caches the way a second visitor finds them
    const firstMs = performance.now() - t0;
    if (first === 403 && as === 'resident') continue;
    // First views that build a Redis read model from the database: the staff grid's day (issue 17:
    // < 1 s), a person's unread tallies of the months that are over (recounted once a week).
    const cold = COLD_FIRST_VIEW.find(([end]) => name === `GET ${template}` && template.endsWith(end));
    if (cold) out.push({ op: `GET ${template} (first view, ${cold[1]})`, as, status: first, p50: round(firstMs), p95: round(firstMs) });
    const { status, ms } = await timeRequests(SAMPLES, get, (status) => status);
    const s = summarize(ms);
    out.push({ op: name, as, status, p50: s.median, p95: s.p95, ...(ROWS && env.postgresqlUrl ? await rowsOf(env, get) : {}) });
    break;
  }
  return out;
}

const MARK_ALL_OP = 'POST /me/notifications/read {all}';

/**
 * "Mark all read" as the busy resident, after the GETs: the first call marks what the retained
 * months left unread (timed apart; repeated while there is more than one call's limit), then a
 * look at the messages (it counts the months the marks changed), then the calls that find
 * nothing new, as a resident's next visit makes.
 */
async function measureMarkAll(env: BenchEnv, token: string): Promise<Measured[]> {
  if (!wanted(MARK_ALL_OP)) return [];
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const markAll = () => fetch(`${env.baseUrl}/api/v1/me/notifications/read`, { method: 'POST', headers, body: '{"all":true}' })
    .then(async (r) => ({ status: r.status, marked: ((await r.json()) as { marked?: number }).marked ?? 0 }));
  const t0 = performance.now();
  const first = await markAll();
  const firstMs = performance.now() - t0;
  console.log(`  mark all read: the first call marked ${first.marked} in ${round(firstMs)} ms`);
  for (let more = first.marked, i = 0; more > 0 && i < 5; i++) more = (await markAll()).marked;
  await fetch(`${env.baseUrl}/api/v1/me/notifications`, { headers }).then((r) => r.arrayBuffer());
  const again = () => markAll().then((r) => r.status);
  const { status, ms } = await timeRequests(SAMPLES, again, (s) => s);
  const s = summarize(ms);
  return [
    { op: `${MARK_ALL_OP}, first (marks what is unread)`, as: 'resident', status: first.status, p50: round(firstMs), p95: round(firstMs) },
    { op: `${MARK_ALL_OP}, again (nothing new)`, as: 'resident', status, p50: s.median, p95: s.p95, ...(ROWS && env.postgresqlUrl ? await rowsOf(env, again) : {}) },
  ];
}

/** The cancel measured on what each kind of write made (a cancel wanted needs its write). */
const CANCEL_OF: Record<string, string> = {
  room: 'POST /room-bookings/{bookingId}/cancel', meal: 'POST /meal-orders/{orderId}/cancel',
  childcare: 'POST /childcare-bookings/{bookingId}/cancel', claim: 'POST /volunteer-assignments/{assignmentId}/release',
};

/** Each write and its cancel, on fresh residents and slots so no rule refuses it. */
async function measureWrites(env: BenchEnv, w: World, residentTokens: string[], volunteerTokens: string[], staffToken: string): Promise<Measured[]> {
  const post = (url: string, token: string, body: object) =>
    fetch(`${env.baseUrl}${url}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
      .then(async (r) => {
        const body = (await r.json().catch(() => ({}))) as { id?: string; booking?: { id?: string }; error?: { code: string; message: string } };
        if (r.status >= 300 && !warned.has(url.replace(/[0-9a-f]{24}/g, ':id'))) {
          warned.add(url.replace(/[0-9a-f]{24}/g, ':id'));
          console.warn(`  ${url} answered ${r.status}: ${JSON.stringify(body.error ?? body)}`);
        }
        return { status: r.status, body };
      });
  const warned = new Set<string>();
  const out: Measured[] = [];
  const record = (op: string, as: string, ms: number[], status: number) => {
    const s = summarize(ms);
    out.push({ op, as, status, p50: s.median, p95: s.p95 });
  };
  const created: Record<string, string[]> = { room: [], meal: [], childcare: [], claim: [] };
  const timed = async (key: string, op: string, as: string, fn: (i: number) => Promise<{ status: number; body: { id?: string; booking?: { id?: string } } }>) => {
    if (!wanted(op) && !wanted(CANCEL_OF[key]!)) return;
    const { status, ms, results } = await timeRequests(SAMPLES, fn, (r) => r.status);
    for (const r of results) {
      const id = r.body.id ?? r.body.booking?.id;
      if (id) created[key]!.push(id);
    }
    if (wanted(op)) record(op, as, ms, status);
  };
  const day = dayOffset(w.today, 3);
  await timed('room', 'POST /rooms/{roomId}/bookings', 'resident', (i) =>
    post(`/api/v1/rooms/${w.rooms[i % 10]}/bookings`, residentTokens[i]!, {
      start: new Date(atShanghai(day, '19:00').getTime() + Math.floor(i / 10) * 1_800_000).toISOString(),
      end: new Date(atShanghai(day, '19:30').getTime() + Math.floor(i / 10) * 1_800_000).toISOString(), purpose: '压测', attendees: 3,
    }));
  await timed('meal', 'POST /meal-menus/{menuId}/orders', 'resident', (i) =>
    post(`/api/v1/meal-menus/${w.ids.menuId}/orders`, residentTokens[i]!, { mode: 'dine_in', quantity: 1 }));
  await timed('childcare', 'POST /childcare-sessions/{sessionId}/bookings', 'staff', (i) =>
    post(`/api/v1/childcare-sessions/${w.ids.sessionId}/bookings`, staffToken, { childId: String(w.children[(i + 1) % w.children.length]), healthDeclaration: { healthy: true } }));
  await timed('claim', 'POST /volunteer-tasks/{taskId}/claim', 'resident', (i) =>
    post(`/api/v1/volunteer-tasks/${w.ids.taskId}/claim`, volunteerTokens[i]!, {}));
  const cancel = async (key: string, op: string, as: string, url: (id: string) => string, token: (i: number) => string) => {
    const ids = created[key]!;
    if (ids.length === 0 || !wanted(op)) return;
    const { status, ms } = await timeRequests(ids.length, (i) => post(url(ids[i]!), token(i), key === 'claim' ? {} : { reason: '压测取消' }), (r) => r.status);
    record(op, as, ms, status);
  };
  await cancel('room', 'POST /room-bookings/{bookingId}/cancel', 'resident', (id) => `/api/v1/room-bookings/${id}/cancel`, (i) => residentTokens[i]!);
  await cancel('meal', 'POST /meal-orders/{orderId}/cancel', 'resident', (id) => `/api/v1/meal-orders/${id}/cancel`, (i) => residentTokens[i]!);
  await cancel('childcare', 'POST /childcare-bookings/{bookingId}/cancel', 'staff', (id) => `/api/v1/childcare-bookings/${id}/cancel`, () => staffToken);
  await cancel('claim', 'POST /volunteer-assignments/{assignmentId}/release', 'resident', (id) => `/api/v1/volunteer-assignments/${id}/release`, (i) => volunteerTokens[i]!);
  return out;
}

const BOT_MESSAGES = [
  '你好', '帮助', '我的预约', '明天有哪些空闲的活动室', '后天下午3点到4点借活动室，5个人', '取消', '今天的菜单', '明天午饭吃什么',
  '我要订明天的午餐', '我的订餐', '托育', '我的托育预约', '志愿任务', '我的志愿服务', '我的积分', '活动室开放时间',
  '我要预约活动室', '查一下我的时间银行', '谢谢', '紧急求助怎么用',
];

/** Each typical message from a few residents bound to the bot, one after the other. */
async function measureBot(env: BenchEnv, w: World): Promise<Measured[]> {
  const messages = BOT_MESSAGES.filter((t) => wanted(`bot: ${t}`));
  if (messages.length === 0) return [];
  const bot = await startBot({ config: env.config, logger: env.logger, mongo: mongoose.connection, redis: env.redis });
  try {
    const mocker = bot.mocker!;
    const speakers = Math.min(5, SAMPLES);
    const people = [w.busy, ...w.residents.slice(1, speakers)];
    const contacts = people.map((_, i) => mocker.createContact({ name: `一年居民${i}` }));
    await Identity.insertMany(contacts.map((c, i) => ({ provider: 'wechat_bot', subject: c.id, person: people[i]! })));
    let waiting: ((t: string) => void) | undefined;
    bot.wechaty.on('message', (m: MessageInterface) => {
      if (m.self() && waiting) {
        const r = waiting;
        waiting = undefined;
        r(m.text());
      }
    });
    const out: Measured[] = [];
    for (const text of messages) {
      const ms: number[] = [];
      // A message the bot leaves unanswered for 30 s fails the row (status 408).
      let unanswered = false;
      for (const contact of contacts) {
        const t0 = performance.now();
        const answered = await Promise.race([
          new Promise<boolean>((r) => { waiting = () => r(true); contact.say(text).to(bot.botUser!); }),
          new Promise<boolean>((r) => setTimeout(() => r(false), 30_000)),
        ]);
        ms.push(performance.now() - t0);
        unanswered ||= !answered;
        await new Promise((r) => setTimeout(r, 50)); // a second reply (if any) lands before the next message
        waiting = undefined;
      }
      const s = summarize(ms);
      out.push({ op: `bot: ${text}`, as: 'resident', status: unanswered ? 408 : 0, p50: s.median, p95: s.p95 });
    }
    return out;
  } finally {
    await bot.stop();
  }
}

async function measureAt(env: BenchEnv, months: number): Promise<Measured[]> {
  const v = volume(months);
  console.log(`\n${months === 12 ? 'a year' : `${months} month(s)`}: ${JSON.stringify(v)}`);
  await mongoose.connection.db!.dropDatabase();
  await mongoose.connection.syncIndexes();
  if (env.postgresqlUrl) await ensureJsonbIndexes(mongoose.connection, env.postgresqlUrl);
  await env.redis.flushdb().catch(() => undefined);
  const w = await load(v, env.config.outbox.retentionDays);
  if (env.postgresqlUrl) await vacuumAfterLoad(env.postgresqlUrl);
  // The busy resident reads; one fresh resident per write sample (BENCH_SAMPLES may exceed 59).
  const people = [w.busy, ...w.residents.slice(1, Math.max(60, SAMPLES + 1))];
  const residentTokens = await accessTokens(env.sessions, people);
  const [staffToken] = await accessTokens(env.sessions, [w.staff]);
  const volunteerTokens = await accessTokens(env.sessions, w.volunteers.slice(1, SAMPLES + 1));
  const exports = await prepareExports(w);
  const results = [
    ...exports.measured,
    ...(await measureGets(env, w, { resident: residentTokens[0]!, staff: staffToken! }, exports.exportId)),
    ...(await measureMarkAll(env, residentTokens[0]!)),
    ...(await measureWrites(env, w, residentTokens.slice(1), volunteerTokens, staffToken!)),
    ...(await measureBot(env, w)),
  ];
  return results;
}

async function main(): Promise<number> {
  // One resident and one staff member make every GET (SAMPLES + 1) times within minutes, past
  // the budgets (300 and 1,200 a minute a person, the bot 20 a contact) on a fast machine. The
  // limiter still runs on every request; only its budgets are out of the bench's reach.
  const env = await startBenchEnv({
    RATE_LIMIT_RESIDENT: OUT_OF_REACH, RATE_LIMIT_STAFF: OUT_OF_REACH, RATE_LIMIT_BOOKING: OUT_OF_REACH, RATE_LIMIT_BOT: OUT_OF_REACH,
  });
  try {
    console.log(`bench:year on ${env.storage.mongo}, scale ${SCALE}, ${SAMPLES} samples per operation`);
    const month = args['year-only'] ? [] : await measureAt(env, 1);
    const year = await measureAt(env, 12);
    const byOp = new Map(month.map((m) => [m.op, m]));
    const rows = year.map((y) => {
      const m = byOp.get(y.op);
      return {
        op: y.op, as: y.as, status: y.status, monthP50: m?.p50 ?? NaN, monthP95: m?.p95 ?? NaN, yearP50: y.p50, yearP95: y.p95,
        growth: m ? round(y.p95 / Math.max(m.p95, 0.1), 2) : NaN,
        // The medians' ratio: at a few ms, a p95 of 10–20 samples is one slow sample.
        growthP50: m ? round(y.p50 / Math.max(m.p50, 0.1), 2) : NaN,
        ...(y.rows !== undefined ? { monthRows: m?.rows ?? NaN, yearRows: y.rows, yearRowsTop: y.rowsTop } : {}),
      };
    });
    console.log(`\n${table([['operation', 'as', 'status', 'month p50', 'month p95', 'year p50', 'year p95', 'year/month p95', 'p50'],
      ...rows.map((r) => [r.op, r.as, r.status, r.monthP50, r.monthP95, r.yearP50, r.yearP95, r.growth, r.growthP50])])}`);
    if (ROWS) console.log(`\nrows PostgreSQL read for one request:\n${table([['operation', 'month', 'year', 'year: most read'], ...rows.filter((r) => 'yearRows' in r).map((r) => [r.op, r.monthRows ?? NaN, r.yearRows ?? NaN, r.yearRowsTop ?? ''])])}`);
    const slowest = [...rows].sort((a, b) => b.yearP95 - a.yearP95).slice(0, 10);
    console.log(`\nten slowest at a year (p95 ms):\n${table([['operation', 'year p95', 'year/month'], ...slowest.map((r) => [r.op, r.yearP95, r.growth])])}`);
    const file = await writeResults(SCALE === 1 ? 'year' : `year-scale-${SCALE}`, { storage: env.storage, scale: SCALE, samples: SAMPLES, machine: machine(), rows });
    console.log(`\nresults: ${file}`);
    const failedBecause: Record<number, string> = { [-1]: 'the samples got different answers', 429: 'rate limited', 408: 'a message left unanswered' };
    const invalid = [...month, ...year].filter((m) => m.status in failedBecause);
    for (const m of invalid) console.log(`FAILED: ${m.op} (as ${m.as}): ${failedBecause[m.status]}`);
    return invalid.length ? 1 : 0;
  } finally {
    await env.teardown();
  }
}

runBench(main);
