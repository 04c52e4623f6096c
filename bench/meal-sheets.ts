/**
 * The cut-off sheets of one meal with 5,000 orders (issue 5's benchmark: the kitchen sheet
 * and the delivery sheets in under 1 second).
 *
 *   npm run bench:meals
 *   MONGODB_URI=mongodb://127.0.0.1:27017 npm run bench:meals
 *   BENCH_ORDERS=5000 BENCH_OTHER_ORDERS=20000 BENCH_OTHER_PERSONS=5000 npm run bench:meals
 *
 * Data: one community, one kitchen, BENCH_ORDERS (5,000) residents over 8 grids and 40
 * buildings, each with one order of tomorrow's lunch (capacity 5,000): 40 % 送餐上门, 40 %
 * 堂食, 20 % 自取, 1 to 3 portions, about a third with dietary needs, 3 % cancelled.
 * BENCH_OTHER_ORDERS adds orders of other days (default 0) and BENCH_OTHER_PERSONS other
 * residents (default 1,000), to see how the sheets scale with the collections rather than
 * the meal: FerretDB v1 on SQLite scans the whole collection for every query.
 *
 * Measured (the orders are inserted in bulk, so the menu's read model does not exist yet):
 * 1. the cold rebuild of the read model from MongoDB (rebuildMealLines: one lean query of the
 *    menu's orders, then one ranked HSET per order), BENCH_REBUILDS (5) times;
 * 2. generation of both sheets from the read model — mealSheets(menu, redis, {finished:
 *    false}): one MULTI (built mark, @stamp, HVALS of 5,000 lines), JSON.parse, the kitchen
 *    sheet and the delivery sheets in memory; the cache of finished sheets bypassed — 3
 *    warm-up calls then BENCH_GEN_CALLS (30): this is the issue's target;
 * 3. for comparison, the sheets computed from MongoDB without Redis (mealSheets(menu)),
 *    BENCH_CALLS (5), each query timed; and the stamped cache of finished sheets (a hit);
 * 4. processMealCutoff() (sheets + one DeliveryRun and volunteer task per grid), first and again;
 * 5. the two GET endpoints over HTTP from a child process (3 warm-up + 10 sequential
 *    requests each), once with the finished-sheets cache deleted every millisecond (each
 *    request generates from the read model), once as deployed (cache hits).
 * Results: stdout and bench/results/meal-sheets.json.
 */
import { Types } from 'mongoose';
import { dayjs, shanghaiDay } from '../models/calendar.js';
import { Community, DeliveryRun, Facility, MealMenu, MealOrder, Person, mealCutoff } from '../models/index.js';
import { mealLines, rebuildMealLines } from '../src/commands/mealLines.js';
import { mealSheets, processMealCutoff } from '../src/commands/mealSheets.js';
import type { SequentialJob, SequentialResult } from './http-load.js';
import {
  accessTokens, cpuSecondsOf, envNumber, insertInBatches, machine, round, runLoadChild, sourceFingerprint, startBenchEnv, summarize, table,
  writeResults,
  runBench, withQuerySpans,
} from './support.js';

const ORDERS = Math.floor(envNumber('BENCH_ORDERS', 5_000));
const OTHER_ORDERS = process.env.BENCH_OTHER_ORDERS ? Math.floor(envNumber('BENCH_OTHER_ORDERS', 0)) : 0;
const OTHER_PERSONS = Math.floor(envNumber('BENCH_OTHER_PERSONS', 1_000));
const CALLS = Math.floor(envNumber('BENCH_CALLS', 5));
const GEN_CALLS = Math.floor(envNumber('BENCH_GEN_CALLS', 30));
const REBUILDS = Math.floor(envNumber('BENCH_REBUILDS', 5));
const WARMUP = 3;
const HTTP_REQUESTS = 10;
const TARGET_MS = 1_000;
const GRIDS = ['第一网格', '第二网格', '第三网格', '第四网格', '第五网格', '第六网格', '第七网格', '第八网格'];
const NEEDS = [[], [], ['低盐'], [], ['低糖'], ['软食', '低盐'], [], ['低脂'], [], ['清真'], [], ['素食']] as const;

function modeOf(i: number): 'delivery' | 'dine_in' | 'pickup' {
  const r = i % 5;
  return r < 2 ? 'delivery' : r < 4 ? 'dine_in' : 'pickup';
}

async function main(): Promise<number> {
  const startedAt = new Date();
  console.log(`meal sheets: ${ORDERS} orders of one lunch` + (OTHER_ORDERS ? `, ${OTHER_ORDERS} orders of other days` : '') + `, ${OTHER_PERSONS} other residents`);
  const env = await startBenchEnv();
  try {
    console.log(`storage: ${env.storage.mongo}; Redis ${env.storage.redis}`);
    const t = performance.now();
    const community = await Community.create({ name: '压测社区-助餐', code: `bench-meals-${process.pid}`, district: '压测区' });
    const kitchen = await Facility.create({
      community: community._id, kind: 'kitchen', name: '压测长者饭堂', address: '压测路1号',
      openingHours: [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, open: '07:00', close: '19:00' })),
    });
    const staff = await Person.create({
      community: community._id, name: '压测工作人员', phone: '13800000000', roles: ['staff'], status: 'active',
      staffScope: { community: community._id, facilities: [kitchen._id] },
    });
    const persons = Array.from({ length: ORDERS + OTHER_PERSONS }, () => new Types.ObjectId());
    await insertInBatches((docs) => Person.insertMany(docs, { lean: true }), persons.map((_id, i) => ({
      _id,
      community: community._id,
      name: `压测居民${i + 1}`,
      phone: `139${String(10_000_000 + i).slice(-8)}`,
      roles: ['resident'],
      status: 'active',
      grid: GRIDS[i % GRIDS.length],
      birthDate: new Date(Date.UTC(1930 + (i % 35), i % 12, (i % 28) + 1, -8)),
      tags: i % 9 === 0 ? ['独居'] : i % 13 === 0 ? ['失能'] : [],
      dietaryNeeds: [...NEEDS[i % NEEDS.length]!],
      address: { building: `${(i % 40) + 1}栋`, unit: `${(i % 3) + 1}单元`, room: `${(i % 18) + 1}0${(i % 4) + 1}` },
    })));

    const day = dayjs.utc(shanghaiDay(new Date())).add(1, 'day').format('YYYY-MM-DD');
    const menus = [day, ...Array.from({ length: Math.ceil(OTHER_ORDERS / ORDERS) }, (_, k) => dayjs.utc(day).subtract(k + 1, 'day').format('YYYY-MM-DD'))];
    const menuDocs = await MealMenu.insertMany(menus.map((date) => ({
      kitchen: kitchen._id, date, meal: 'lunch', price: 1200, capacity: ORDERS, remaining: 0,
      cutoff: mealCutoff(date, 'lunch'), published: true,
      dishes: [
        { name: '清蒸鲈鱼', allergens: ['鱼'], suitableFor: ['低盐', '低脂'] },
        { name: '番茄炖牛腩', allergens: [], suitableFor: ['软食', '清真'] },
        { name: '香菇青菜', allergens: [], suitableFor: ['低盐', '低糖', '低脂', '素食'] },
      ],
    })));
    const menu = (await MealMenu.findById(menuDocs[0]!._id))!;
    const orderDoc = (i: number, m: { _id: Types.ObjectId; date: string }) => {
      const quantity = i % 10 === 0 ? 2 : i % 37 === 0 ? 3 : 1;
      const person = i % ORDERS;
      return {
        menu: m._id, kitchen: kitchen._id, community: community._id, date: m.date, meal: 'lunch',
        bookedFor: persons[person], bookedBy: persons[person], mode: modeOf(i), quantity,
        dietaryNeeds: [...NEEDS[person % NEEDS.length]!], dietarySource: 'profile',
        building: `${(person % 40) + 1}栋`, grid: GRIDS[person % GRIDS.length],
        deliverTo: modeOf(i) === 'delivery'
          ? { name: `压测居民${person + 1}`, phone: `139${String(10_000_000 + person).slice(-8)}`, unit: `${(person % 3) + 1}单元`, room: `${(person % 18) + 1}0${(person % 4) + 1}` }
          : undefined,
        breakdown: { unitPrice: 1200, quantity, tier: '60–79岁', subsidisedPrice: 500, subsidy: 700, deliveryFee: 0, toPay: 500 + 1200 * (quantity - 1) },
        status: i % 33 === 0 ? 'cancelled' : 'confirmed', version: 0,
        history: [{ from: null, to: 'confirmed', at: new Date(), by: persons[person] }],
      };
    };
    const docs = Array.from({ length: ORDERS }, (_, i) => orderDoc(i, menu));
    for (let k = 0; k < OTHER_ORDERS; k += 1) docs.push(orderDoc(k, menuDocs[1 + Math.floor(k / ORDERS)]!));
    await insertInBatches((batch) => MealOrder.insertMany(batch, { lean: true }), docs, 1_000);
    const seedSec = round((performance.now() - t) / 1000, 1);
    console.log(`seeded in ${seedSec} s: ${await MealOrder.estimatedDocumentCount()} orders, ${await Person.estimatedDocumentCount()} persons`);

    // ---- the read model: cold rebuilds from MongoDB, then generation from it
    const rebuilds: number[] = [];
    for (let i = 0; i < REBUILDS; i += 1) {
      await env.redis.del(`meal-lines:${menu._id}`, `meal-lines-built:${menu._id}`);
      const t4 = performance.now();
      await rebuildMealLines(env.redis, menu._id);
      rebuilds.push(performance.now() - t4);
    }
    const rebuildStats = summarize(rebuilds);
    const check = await mealLines({ redis: env.redis }, menu);
    if (check.source !== 'lines' || check.orders.length !== ORDERS) throw new Error(`read model not in use: ${check.source}, ${check.orders.length} lines`);
    for (let i = 0; i < WARMUP; i += 1) await mealSheets(menu, env.redis, { finished: false });
    const gen: number[] = [];
    const genLines: number[] = [];
    for (let i = 0; i < GEN_CALLS; i += 1) {
      const t5 = performance.now();
      await mealSheets(menu, env.redis, { finished: false });
      gen.push(performance.now() - t5);
      const t6 = performance.now();
      await mealLines({ redis: env.redis }, menu);
      genLines.push(performance.now() - t6);
    }
    const genStats = summarize(gen);
    const genLinesStats = summarize(genLines);

    // ---- mealSheets() from MongoDB, without Redis (the path before the read model)
    for (let i = 0; i < 1; i += 1) await mealSheets(menu);
    const direct: number[] = [];
    const queries: Record<string, number[]> = {};
    let sheets = await mealSheets(menu);
    const ferret0 = await cpuSecondsOf(env.ferretPid);
    for (let i = 0; i < CALLS; i += 1) {
      const traced = await withQuerySpans(() => mealSheets(menu));
      direct.push(traced.totalMs);
      for (const span of traced.spans) (queries[`${span.collection} (${span.docs} docs)`] ??= []).push(span.ms);
      sheets = traced.result;
    }
    const ferretCpuPerCall = ferret0 === undefined ? undefined : round(((await cpuSecondsOf(env.ferretPid))! - ferret0) / CALLS * 1000);
    const directStats = summarize(direct);

    // ---- the finished-sheets cache: mealSheets(menu, redis) with an unchanged stamp (a hit)
    await mealSheets(menu, env.redis);
    const warm: number[] = [];
    for (let i = 0; i < CALLS; i += 1) {
      const t3 = performance.now();
      await mealSheets(menu, env.redis);
      warm.push(performance.now() - t3);
    }
    const warmStats = summarize(warm);
    const deliveryStops = sheets.delivery.reduce((n, s) => n + s.stops.length, 0);

    // ---- the cut-off: sheets + one run per grid, then again (idempotent: updates)
    const at = new Date(menu.cutoff.getTime() + 60_000);
    const t1 = performance.now();
    const first = await processMealCutoff(menu._id, at, env.redis);
    const cutoffFirstMs = round(performance.now() - t1);
    const t2 = performance.now();
    const again = await processMealCutoff(menu._id, at, env.redis);
    const cutoffAgainMs = round(performance.now() - t2);
    const runs = await DeliveryRun.countDocuments({ menu: menu._id });

    // ---- HTTP, from a child process
    const [token] = await accessTokens(env.sessions, [staff._id]);
    const http: Record<string, ReturnType<typeof summarize> & { bytes: number; non200: number }> = {};
    for (const generated of [true, false]) {
      // Generated: the cache of finished sheets is deleted every millisecond, so each request
      // generates the sheets from the read model (as the first request after an order write does).
      const buster = generated ? setInterval(() => void env.redis.del(`meal-sheets:${menu._id}`), 1) : undefined;
      try {
        for (const name of ['kitchen-sheet', 'delivery-sheets']) {
          const job: SequentialJob = { mode: 'sequential', url: env.baseUrl, path: `/api/v1/meal-menus/${menu._id}/${name}`, token: token!, warmup: 3, count: HTTP_REQUESTS, maxSec: 300 };
          const res = await runLoadChild<SequentialResult>(job, 360_000);
          http[`${name} ${generated ? 'generated' : 'cached'}`] = { ...summarize(res.ms), bytes: res.bytes, non200: res.statuses.filter((s) => s !== 200).length };
        }
      } finally {
        clearInterval(buster);
      }
    }

    const met = genStats.median < TARGET_MS;
    const metWarm = warmStats.median < TARGET_MS;
    const metMongo = directStats.median < TARGET_MS;
    console.log(`\nmealSheets(menu) for ${ORDERS} orders: kitchen sheet ${sheets.kitchen.orders} orders / ${sheets.kitchen.portions} portions; ` +
      `${sheets.delivery.length} delivery sheets, ${deliveryStops} stops`);
    console.log(table([
      ['measure', 'n', 'median ms', 'p95 ms', 'min ms', 'max ms'],
      ['generated from the read model (target)', genStats.count, genStats.median, genStats.p95, genStats.min, genStats.max],
      ['  of which mealLines() (MULTI + HVALS + parse)', genLinesStats.count, genLinesStats.median, genLinesStats.p95, genLinesStats.min, genLinesStats.max],
      ['read model rebuilt from MongoDB (cold)', rebuildStats.count, rebuildStats.median, rebuildStats.p95, rebuildStats.min, rebuildStats.max],
      ['computed from MongoDB, no Redis', directStats.count, directStats.median, directStats.p95, directStats.min, directStats.max],
      ['finished sheets cached, stamp unchanged', warmStats.count, warmStats.median, warmStats.p95, warmStats.min, warmStats.max],
      ...Object.entries(queries).map(([q, ms]) => {
        const s = summarize(ms);
        return [`  query ${q}`, s.count, s.median, s.p95, s.min, s.max];
      }),
      ...Object.entries(http).map(([name, s]) => [`HTTP GET ${name} (${round(s.bytes / 1024)} KiB)`, s.count, s.median, s.p95, s.min, s.max]),
    ]));
    console.log(`FerretDB CPU per mealSheets() call: ${ferretCpuPerCall ?? '-'} ms`);
    console.log(`processMealCutoff(): first ${cutoffFirstMs} ms (${first.created} runs made), again ${cutoffAgainMs} ms (${again.created} made); runs stored: ${runs}`);
    console.log(`\ngenerated from the read model: median ${genStats.median} ms, p95 ${genStats.p95} ms — target < ${TARGET_MS} ms: ${met ? 'met' : 'NOT met'}; ` +
      `cold rebuild from MongoDB: median ${rebuildStats.median} ms; computed from MongoDB: median ${directStats.median} ms (${metMongo ? 'met' : 'not met'}); ` +
      `finished cache: median ${warmStats.median} ms`);

    const file = await writeResults('meal-sheets', {
      benchmark: 'meal-sheets',
      date: startedAt.toISOString(),
      machine: machine(),
      storage: env.storage,
      sources: await sourceFingerprint(['src/commands/mealSheets.ts', 'src/commands/mealLines.ts', 'src/routes/api/meals/index.ts']),
      data: { orders: ORDERS, otherOrders: OTHER_ORDERS, persons: ORDERS + OTHER_PERSONS, day, seedSec, deliverySheets: sheets.delivery.length, deliveryStops },
      generated: { ...genStats, mealLines: genLinesStats },
      rebuild: rebuildStats,
      warm: warmStats,
      direct: { ...directStats, ferretdbCpuMsPerCall: ferretCpuPerCall, queries: Object.fromEntries(Object.entries(queries).map(([q, ms]) => [q, summarize(ms)])) },
      cutoff: { firstMs: cutoffFirstMs, againMs: cutoffAgainMs, runsMade: first.created, runsMadeAgain: again.created, runsStored: runs },
      http,
      target: { medianMs: TARGET_MS, measure: 'generated from the read model', met, metWarm, metMongo },
    });
    console.log(`results: ${file}`);
    if (Object.values(http).some((h) => h.non200 > 0) || again.created !== 0 || runs !== sheets.delivery.length) {
      console.error('FAILED: a non-200 answer, or the cut-off made runs twice');
      return 1;
    }
    return 0;
  } finally {
    await env.teardown();
  }
}

runBench(main);
