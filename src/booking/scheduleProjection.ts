import type { Redis } from 'ioredis';
import { Types } from 'mongoose';
import { shanghaiDay } from '../../models/calendar.js';
import { Person } from '../../models/person.js';
import { RoomBooking } from '../../models/roomBooking.js';
import type { Logger } from '../logger.js';
import { maskPhone } from '../presenters/person.js';

/**
 * The staff grid's read model: one Redis hash per facility and Shanghai day, one field per
 * booking (compact JSON, booker's name and masked phone included). Why: FerretDB v1 on SQLite
 * evaluates every filter but an `_id` equality in Go after decoding each document of the
 * collection, so reading 10,000 bookings of a day takes seconds; HVALS takes milliseconds.
 * MongoDB stays the source of truth:
 *
 * - every write to a booking calls refreshScheduleEntries(), which re-reads the booking by
 *   `_id` and writes its entry only if its version is not older than the stored one (a Lua
 *   script, atomic in Redis), so racing refreshes never leave an older state behind;
 * - a day whose `built` mark is missing (first view, Redis flushed, mark expired) is rebuilt
 *   from MongoDB with the same versioned writes; the mark lasts BUILT_TTL, so a refresh lost
 *   while Redis was unreachable heals within that time.
 */
const BUILT_TTL_SECONDS = 10 * 60;
const KEEP_DAYS = 40;

const dayKey = (facility: string, day: string) => `schedule:${facility}:${day}`;
const builtKey = (facility: string, day: string) => `schedule-built:${facility}:${day}`;

// HSET unless the stored entry has a higher version; keeps the key for KEEP_DAYS.
const SET_IF_NEWER = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  local v = tonumber(string.match(current, '"v":(%d+)'))
  if v and v > tonumber(ARGV[3]) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1`;

export interface ScheduleEntry {
  id: string;
  room: string;
  start: Date;
  end: Date;
  status: string;
  purpose: string;
  attendees: number;
  series: string | null;
  booker: { name: string | null; phone: string | null };
  flag: { reason: string; at: Date | null } | null;
}

type StoredEntry = Omit<ScheduleEntry, 'start' | 'end'> & { v: number; start: string; end: string; gone?: true };

export interface BookingRow {
  _id: Types.ObjectId;
  facility: Types.ObjectId;
  room: Types.ObjectId;
  start: Date;
  end: Date;
  status: string;
  purpose: string;
  attendees: number;
  series?: string | null;
  version: number;
  bookedFor: Types.ObjectId;
  flag?: { reason?: string | null; at?: Date | null } | null;
}

function toStored(b: BookingRow, booker: { name?: string | null; phone?: string | null } | undefined): StoredEntry {
  return {
    v: b.version,
    id: String(b._id),
    room: String(b.room),
    start: b.start.toISOString(),
    end: b.end.toISOString(),
    status: b.status,
    purpose: b.purpose,
    attendees: b.attendees,
    series: b.series ?? null,
    booker: { name: booker?.name ?? null, phone: maskPhone(booker?.phone) },
    flag: b.flag?.reason ? { reason: b.flag.reason, at: b.flag.at ?? null } : null,
  };
}

async function writeEntry(redis: Redis, facility: string, day: string, entry: StoredEntry): Promise<void> {
  await redis.eval(SET_IF_NEWER, 1, dayKey(facility, day), entry.id, JSON.stringify(entry), String(entry.v), String(KEEP_DAYS * 86_400));
}

async function bookersOf(rows: BookingRow[]) {
  const ids = [...new Set(rows.map((r) => String(r.bookedFor)))];
  if (ids.length === 0) return new Map<string, { name?: string | null; phone?: string | null }>();
  // `_id` equalities, answered from an index (FerretDB v1 filters an `$in` in Go after decoding
  // every person: 2 s for a day's rebuild with 5,000 persons), a few dozen at a time.
  const found: ({ _id: Types.ObjectId; name?: string | null; phone?: string | null } | null)[] = [];
  for (let i = 0; i < ids.length; i += BOOKERS_AT_ONCE) {
    found.push(...(await Promise.all(ids.slice(i, i + BOOKERS_AT_ONCE).map((id) => Person.findById(id, { name: 1, phone: 1 }).lean()))));
  }
  return new Map(found.filter((p) => p !== null).map((p) => [String(p._id), p]));
}
const BOOKERS_AT_ONCE = 25;

/**
 * The bookings of a facility that start in [from, to), all on `day`: read by `{facility, day}`
 * equality (both indexed), the range applied here; a range on `start` is filtered by FerretDB v1
 * in Go after decoding every booking the facility ever had.
 */
function bookingsOfDay(facility: Types.ObjectId, day: string, from: Date, to: Date): Promise<BookingRow[]> {
  return RoomBooking.find(
    { facility, day },
    { facility: 1, room: 1, start: 1, end: 1, status: 1, purpose: 1, attendees: 1, series: 1, version: 1, bookedFor: 1, flag: 1 },
  ).lean().then((rows) => (rows as BookingRow[]).filter((r) => r.start >= from && r.start < to));
}

/**
 * Brings the grid entries of these bookings up to date after a write. `previously` names the
 * facility and start a moved booking had, so its old day stops showing it. Never throws: the
 * booking is written already, and a stale entry heals at the next rebuild.
 */
export async function refreshScheduleEntries(
  redis: Redis,
  bookingIds: Types.ObjectId[],
  log?: Logger,
  previously?: { facility: Types.ObjectId; start: Date },
): Promise<void> {
  try {
    // One findById per booking: FerretDB hands an `_id` equality to SQLite, the cheapest read it has.
    const rows = (await Promise.all(bookingIds.map((id) => RoomBooking.findById(id).lean()))).filter(Boolean) as BookingRow[];
    const bookers = await bookersOf(rows);
    for (const row of rows) {
      const entry = toStored(row, bookers.get(String(row.bookedFor)));
      await writeEntry(redis, String(row.facility), shanghaiDay(row.start), entry);
      if (previously) {
        const oldDay = shanghaiDay(previously.start);
        if (String(previously.facility) !== String(row.facility) || oldDay !== shanghaiDay(row.start)) {
          await writeEntry(redis, String(previously.facility), oldDay, { ...entry, gone: true });
        }
      }
    }
  } catch (err) {
    log?.warn({ err: { message: (err as Error).message }, bookings: bookingIds.length }, 'schedule projection not refreshed');
  }
}

/**
 * Stores the entry of a booking just written, from the document in hand (no read): the
 * booking create path, where every read costs on FerretDB.
 */
export async function projectNewBooking(
  redis: Redis,
  booking: BookingRow,
  booker: { name?: string | null; phone?: string | null },
  log?: Logger,
): Promise<void> {
  try {
    await writeEntry(redis, String(booking.facility), shanghaiDay(booking.start), toStored(booking, booker));
  } catch (err) {
    log?.warn({ err: { message: (err as Error).message } }, 'schedule projection not refreshed');
  }
}

/** Rebuilds in progress in this process: many first readers of a day share one rebuild. */
const rebuilding = new Map<string, Promise<void>>();
/** Checks in progress in this process: a burst of readers of a day shares one (ensureProjected). */
const ensuring = new Map<string, Promise<void>>();

/**
 * Makes sure a facility day is projected before it is read. Readers of this process asking at
 * the same moment share one check (a burst of 200 bot messages made 200 EXISTS, SET NX, EXISTS
 * before): a day already projected is served as it is while one caller rebuilds it in the
 * background (the built mark's expiry is a safety net, not news); only a day never seen waits
 * for its build.
 */
function ensureProjected(redis: Redis, facility: Types.ObjectId, day: string, range: { from: Date; to: Date }): Promise<void> {
  const key = dayKey(String(facility), day);
  let check = ensuring.get(key);
  if (!check) {
    check = checkProjected(redis, facility, day, range).finally(() => ensuring.delete(key));
    ensuring.set(key, check);
  }
  return check;
}

async function checkProjected(redis: Redis, facility: Types.ObjectId, day: string, range: { from: Date; to: Date }): Promise<void> {
  if (await redis.exists(builtKey(String(facility), day))) return;
  const lock = await redis.set(`schedule-rebuilding:${facility}:${day}`, '1', 'EX', 60, 'NX');
  const rebuild = lock
    ? rebuildDay(redis, facility, day, range.from, range.to).finally(() => redis.del(`schedule-rebuilding:${facility}:${day}`))
    : undefined;
  if (!(await redis.exists(dayKey(String(facility), day)))) await (rebuild ?? rebuildDay(redis, facility, day, range.from, range.to));
  else rebuild?.catch(() => undefined);
}

/** Rebuilds one facility day from MongoDB (the slow path), then marks it built. */
function rebuildDay(redis: Redis, facility: Types.ObjectId, day: string, from: Date, to: Date): Promise<void> {
  const key = dayKey(String(facility), day);
  const running = rebuilding.get(key);
  if (running) return running;
  const run = readDay(redis, facility, day, from, to).finally(() => rebuilding.delete(key));
  rebuilding.set(key, run);
  return run;
}

async function readDay(redis: Redis, facility: Types.ObjectId, day: string, from: Date, to: Date): Promise<void> {
  const rows = await bookingsOfDay(facility, day, from, to);
  const bookers = await bookersOf(rows);
  const pipeline = redis.pipeline();
  for (const row of rows) {
    const entry = toStored(row, bookers.get(String(row.bookedFor)));
    pipeline.eval(SET_IF_NEWER, 1, dayKey(String(facility), day), entry.id, JSON.stringify(entry), String(entry.v), String(KEEP_DAYS * 86_400));
  }
  pipeline.set(builtKey(String(facility), day), '1', 'EX', BUILT_TTL_SECONDS);
  await pipeline.exec();
}

/**
 * The grid entries of a facility day with these statuses: from the Redis projection, or, while
 * Redis cannot answer, straight from MongoDB (the source of truth; slow on FerretDB v1 for a
 * big day, but the grid keeps working through a Redis outage).
 */
export async function scheduleEntries(
  redis: Redis,
  facility: Types.ObjectId,
  day: string,
  range: { from: Date; to: Date },
  statuses: readonly string[],
  log?: Logger,
): Promise<ScheduleEntry[]> {
  if (redis.status === 'ready') {
    try {
      return await projectedEntries(redis, facility, day, range, statuses);
    } catch (err) {
      log?.warn({ err: { message: (err as Error).message }, facility: String(facility), day }, 'schedule read from MongoDB: Redis did not answer');
    }
  }
  return databaseEntries(facility, day, range, statuses);
}

/** The same entries as the projection would hold, read from MongoDB. */
async function databaseEntries(facility: Types.ObjectId, day: string, range: { from: Date; to: Date }, statuses: readonly string[]): Promise<ScheduleEntry[]> {
  const rows = await bookingsOfDay(facility, day, range.from, range.to);
  const bookers = await bookersOf(rows);
  const wanted = new Set(statuses);
  return rows
    .filter((row) => wanted.has(row.status))
    .map((row) => {
      const { v: _v, start, end, ...entry } = toStored(row, bookers.get(String(row.bookedFor)));
      return { ...entry, start: new Date(start), end: new Date(end) };
    })
    .sort(byStartThenRoom);
}

const byStartThenRoom = (a: ScheduleEntry, b: ScheduleEntry) => a.start.getTime() - b.start.getTime() || a.room.localeCompare(b.room);

/** The grid entries of a facility day from the projection, rebuilding the day when needed. */
async function projectedEntries(
  redis: Redis,
  facility: Types.ObjectId,
  day: string,
  range: { from: Date; to: Date },
  statuses: readonly string[],
): Promise<ScheduleEntry[]> {
  await ensureProjected(redis, facility, day, range);
  const fields = await redis.hvals(dayKey(String(facility), day));
  const wanted = new Set(statuses);
  const entries: ScheduleEntry[] = [];
  for (const raw of fields) {
    const { v: _v, gone, start, end, ...entry } = JSON.parse(raw) as StoredEntry;
    if (gone || !wanted.has(entry.status)) continue;
    entries.push({ ...entry, start: new Date(start), end: new Date(end) });
  }
  return entries.sort(byStartThenRoom);
}
