import type { Redis } from 'ioredis';
import type { Types } from 'mongoose';
import { atShanghai, dayjs, minutesOfDay, shanghaiDay } from '../../models/calendar.js';
import { Room } from '../../models/room.js';
import { scheduleEntries, type ScheduleEntry } from '../booking/scheduleProjection.js';
import { cachedRead } from '../cache/readCache.js';
import { UNIT_MINUTES, withinOpeningHours } from '../booking/time.js';
import { TIME_ZONE } from '../config.js';
import { BookingRuleError } from '../errors.js';
import type { RoomWithFacility } from '../policies/room.js';
import { currentBlackouts } from './roomBookings.js';

export interface TimeRange {
  start: Date;
  end: Date;
}

/** Joins touching ranges: 09:00–09:30 + 09:30–10:00 → 09:00–10:00. */
function merge(ranges: TimeRange[]): TimeRange[] {
  const out: TimeRange[] = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last && last.end.getTime() === r.start.getTime()) last.end = r.end;
    else out.push({ start: r.start, end: r.end });
  }
  return out;
}

/**
 * The free time of one room on one Shanghai day: its opening intervals that day, minus the
 * bookings that hold it (from the staff grid's Redis projection, rebuilt from MongoDB when the
 * day was never projected, read from MongoDB while Redis is away), minus the blackouts still in
 * force (read cache), minus what has already begun. Ranges are made of whole booking slots
 * (max(slotMinutes, 30) minutes), merged. It read the room's claims before: FerretDB v1 decoded
 * every claim the room ever had (a year: 1.3 s for the bot's ten rooms). A booking in the
 * instant between its claim and its projection can show as free; booking claims the units, so
 * it is never booked twice, and notice, advance and quota rules still apply when booking.
 */
export async function roomAvailabilityFromGrid(redis: Redis, room: RoomWithFacility, day: string, now = new Date()) {
  const dayStart = atShanghai(day, '00:00');
  const dayEnd = atShanghai(day, '24:00');
  const [held, current] = await Promise.all([roomHeldOnDay(redis, room, day), currentBlackouts(room.facility._id, now)]);
  const blackouts = current.filter((b) => (!b.room || String(b.room) === String(room._id)) && b.start < dayEnd && b.end > dayStart);
  return freeTimesOf(room, day, now, (start, end) => held.some((e) => e.start < end && e.end > start), blackouts);
}

/** The bookings that hold `room` on `day`, from the grid projection (MongoDB while Redis is away). */
export async function roomHeldOnDay(redis: Redis, room: RoomWithFacility, day: string): Promise<ScheduleEntry[]> {
  const entries = await scheduleEntries(redis, room.facility._id, day, { from: atShanghai(day, '00:00'), to: atShanghai(day, '24:00') }, HOLDING_STATUSES);
  return entries.filter((e) => e.room === String(room._id));
}

/** A room's free whole slots on `day`: its opening intervals minus what `taken` says, blackouts and the past. */
function freeTimesOf(
  room: RoomWithFacility,
  day: string,
  now: Date,
  taken: (start: Date, end: Date) => boolean,
  blackouts: { start: Date; end: Date; reason?: string | null }[],
) {
  const weekday = dayjs.tz(day, TIME_ZONE).day();
  const intervals = room.openingHours
    .filter((h) => h.weekday === weekday)
    .sort((a, b) => minutesOfDay(a.open) - minutesOfDay(b.open))
    .map((h) => ({ open: h.open, close: h.close }));
  const slotMs = Math.max(room.slotMinutes, UNIT_MINUTES) * 60_000;
  const free: TimeRange[] = [];
  for (const h of intervals) {
    const open = atShanghai(day, h.open).getTime();
    const close = atShanghai(day, h.close).getTime();
    // Slots start on multiples of the slot length (as checkRoomRules requires).
    for (let t = Math.ceil(open / slotMs) * slotMs; t + slotMs <= close; t += slotMs) {
      const start = new Date(t);
      const end = new Date(t + slotMs);
      if (start < now) continue;
      if (taken(start, end)) continue;
      if (blackouts.some((b) => b.start < end && b.end > start)) continue;
      free.push({ start, end });
    }
  }
  return {
    room: String(room._id),
    date: day,
    openingHours: intervals,
    openingLabel: intervals.length ? intervals.map((h) => `${h.open}–${h.close}`).join('、') : '不开放',
    free: merge(free),
    blackouts: blackouts.map((b) => ({ start: b.start, end: b.end, reason: b.reason })),
  };
}

export interface FreeRoomsQuery {
  start: Date;
  end: Date;
  minCapacity?: number;
  equipment?: string[];
}

/** Booking statuses that hold a room's time (the claims of the others are released). */
const HOLDING_STATUSES = ['pending', 'confirmed', 'checked_in'] as const;

/** The Shanghai days [start, end) touches (a range is at most 24 hours: one or two days). */
function daysOf(start: Date, end: Date): string[] {
  const days = [shanghaiDay(start)];
  const last = shanghaiDay(new Date(end.getTime() - 1));
  if (last !== days[0]) days.push(last);
  return days;
}

/**
 * Rooms of a facility free for the whole of [start, end): open then, not blacked out, not
 * booked, big enough and with the equipment asked for. Read without scanning history: the
 * rooms and the current blackouts from the read cache, the bookings from the staff grid's
 * projection of the one or two days the range touches (Redis; rebuilt from MongoDB when a day
 * was never projected). It used one claim read per room, which FerretDB v1 answers by decoding
 * every claim the room ever had (a year: ~1,600 per room, 10 rooms). Free does not promise
 * bookable: booking claims the units, and a racing booking still loses there.
 */
export async function freeRooms(redis: Redis, facility: Types.ObjectId, q: FreeRoomsQuery, now = new Date()) {
  if (q.end <= q.start) throw BookingRuleError(400, 'range_invalid', '结束时间需晚于开始时间');
  if (q.end.getTime() - q.start.getTime() > 24 * 3_600_000) {
    throw BookingRuleError(400, 'range_too_long', '查询的时间段最长 24 小时');
  }
  if (q.start < now) throw BookingRuleError(400, 'range_in_past', '不能查询已经过去的时间');
  const rooms = (await cachedRead(`facility-rooms:${facility}`, ['Room'], () => Room.find({ facility }).sort({ name: 1 }).lean(), { shared: true }))
    .filter((r) => (!q.minCapacity || r.capacity >= q.minCapacity)
      && (!q.equipment?.length || q.equipment.every((e) => r.equipment.includes(e)))
      && withinOpeningHours(r.openingHours, q.start, q.end));
  if (!rooms.length) return [];

  const blackouts = (await currentBlackouts(facility, now)).filter((b) => b.start < q.end && b.end > q.start);
  if (blackouts.some((b) => !b.room)) return [];
  const entries = (await Promise.all(daysOf(q.start, q.end).map((day) =>
    scheduleEntries(redis, facility, day, { from: atShanghai(day, '00:00'), to: atShanghai(day, '24:00') }, HOLDING_STATUSES)))).flat();
  const taken = new Set([
    ...blackouts.map((b) => String(b.room)),
    ...entries.filter((e) => e.start < q.end && e.end > q.start).map((e) => e.room),
  ]);
  return rooms.filter((r) => !taken.has(String(r._id)));
}
