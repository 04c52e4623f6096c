/**
 * The audit trail's admin page (GET /audit-entries) at a year of one community, the old read
 * against the new, in one process on the embedded default (FerretDB v1 over PostgreSQL with
 * the jsonb indexes). Loads `BENCH_PERSONS` (1,250) persons and `BENCH_AUDIT_ENTRIES`
 * (30,000) entries spread over 365 days (10 staff actors), then times, `BENCH_SAMPLES` (5)
 * times after a warm-up, a page of 100 newest first (unfiltered, and one action):
 * - old: `find(filter).sort({at: -1}).limit(100)` + names by `Person.find({_id: {$in}})`;
 * - new: `listAuditEntries` (AuditDay + `{day[, action]}` reads) + `personNames`.
 *   node --import tsx bench/audit-trail.ts
 */
import mongoose, { Types, trusted } from 'mongoose';
import { shanghaiDay } from '../models/calendar.js';
import { AuditDay, AuditEntry, Person } from '../models/index.js';
import { listAuditEntries } from '../src/commands/audit.js';
import { personNames } from '../src/commands/personNames.js';
import { envNumber, insertInBatches, machine, startBenchEnv, summarize } from './support.js';

const PERSONS = envNumber('BENCH_PERSONS', 1_250);
const ENTRIES = envNumber('BENCH_AUDIT_ENTRIES', 30_000);
const SAMPLES = envNumber('BENCH_SAMPLES', 5);
const DAY = 86_400_000;

async function time(n: number, f: () => Promise<unknown>) {
  await f();
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await f();
    ms.push(performance.now() - t0);
  }
  return summarize(ms);
}

async function main() {
  const env = await startBenchEnv();
  try {
    const community = new Types.ObjectId();
    const persons = Array.from({ length: PERSONS }, (_, i) => ({ _id: new Types.ObjectId(), name: `居民${i}`, community, roles: ['resident'], status: 'active', tags: [] }));
    await insertInBatches((d) => Person.collection.insertMany(d), persons);
    const staff = persons.slice(0, 10).map((p) => p._id);
    const now = Date.now();
    const actions = ['resident.read', 'resident.list', 'meal.orders.list', 'resident.update'];
    const entries = Array.from({ length: ENTRIES }, (_, i) => {
      const at = new Date(now - Math.floor((i / ENTRIES) * 365 * DAY));
      return { _id: new Types.ObjectId(), actor: staff[i % 10]!, action: actions[i % 4]!, subject: persons[(i * 7) % PERSONS]!._id, at, day: shanghaiDay(at) };
    });
    await insertInBatches((d) => AuditEntry.collection.insertMany(d), entries);
    const days = [...new Set(entries.map((e) => e.day))];
    await AuditDay.collection.insertMany(days.map((d) => ({ _id: d as unknown as Types.ObjectId, month: d.slice(0, 7) })));
    console.log(`loaded ${PERSONS} persons, ${ENTRIES} audit entries over ${days.length} days; ${JSON.stringify(machine())}`);

    const old = async (filter: Record<string, unknown>) => {
      const page = await AuditEntry.find(filter).sort({ at: -1 }).limit(100);
      const ids = [...new Set(page.flatMap((e) => [String(e.actor), String(e.subject)]))].map((id) => new Types.ObjectId(id));
      await Person.find({ _id: trusted({ $in: ids }) }, { name: 1 }).lean();
    };
    const now2 = async (action?: string) => {
      const { entries: page } = await listAuditEntries({ limit: 100, ...(action ? { action } : {}) });
      await personNames(page.flatMap((e) => [e.actor, e.subject]));
    };
    for (const [label, f] of [
      ['old, unfiltered', () => old({})], ['new, unfiltered', () => now2()],
      ['old, action=resident.update', () => old({ action: 'resident.update' })], ['new, action=resident.update', () => now2('resident.update')],
    ] as const) {
      console.log(label.padEnd(32), JSON.stringify(await time(SAMPLES, f)));
    }
  } finally {
    await mongoose.connection.db?.dropDatabase().catch(() => undefined);
    await env.teardown();
  }
}

main().then(() => process.exit(0), (err: unknown) => { console.error(err); process.exit(1); });
