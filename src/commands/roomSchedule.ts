import type { Redis } from 'ioredis';
import { Types } from 'mongoose';
import { atShanghai, dayjs } from '../../models/calendar.js';
import { Room } from '../../models/room.js';
import type { RoomBookingStatus } from '../../models/roomBooking.js';
import { scheduleEntries } from '../booking/scheduleProjection.js';
import { TIME_ZONE } from '../config.js';

/** What the grid shows: bookings that hold their room, and those that are over. Cancelled and rejected ones are not shown. */
export const SCHEDULE_STATUSES: RoomBookingStatus[] = ['pending', 'confirmed', 'checked_in', 'completed', 'released_no_show'];

const roomsKey = (facility: string) => `schedule-rooms:${facility}`;
const ROOMS_TTL_SECONDS = 60;

/**
 * Forgets the cached room list of a facility (call after creating or changing a room). Best
 * effort: the room is saved already, and a list Redis kept anyway expires in ROOMS_TTL_SECONDS.
 */
export async function forgetScheduleRooms(redis: Redis, facility: Types.ObjectId | string): Promise<void> {
  await redis.del(roomsKey(String(facility))).catch(() => undefined);
}

async function roomsFromDatabase(facility: Types.ObjectId) {
  return (await Room.find({ facility }, { name: 1, capacity: 1 }).sort({ name: 1 }).lean())
    .map((r) => ({ id: String(r._id), name: r.name, capacity: r.capacity }));
}

/** The rooms of a facility, cached in Redis for a minute; from MongoDB while Redis cannot answer. */
async function roomsOf(redis: Redis, facility: Types.ObjectId) {
  if (redis.status !== 'ready') return roomsFromDatabase(facility);
  const cached = await redis.get(roomsKey(String(facility))).catch(() => null);
  if (cached) return JSON.parse(cached) as Array<{ id: string; name: string; capacity: number }>;
  const rooms = await roomsFromDatabase(facility);
  redis.set(roomsKey(String(facility)), JSON.stringify(rooms), 'EX', ROOMS_TTL_SECONDS).catch(() => undefined);
  return rooms;
}

/**
 * The staff day (or week) grid of every room of a facility, from 00:00 Shanghai of `day` for
 * `days` days: the rooms, and the bookings with their booker's name and masked phone. Read
 * from the Redis projection kept by the booking commands (see scheduleProjection.ts), so it
 * stays fast with a thousand rooms and ten thousand bookings a day on FerretDB too. While
 * Redis cannot answer, the grid is read from MongoDB.
 */
export async function facilitySchedule(redis: Redis, facilityId: Types.ObjectId | string, day: string, days: number) {
  const facility = new Types.ObjectId(String(facilityId));
  const dayAt = (n: number) => dayjs.tz(day, TIME_ZONE).add(n, 'day').format('YYYY-MM-DD');
  const from = atShanghai(day, '00:00');
  const to = atShanghai(dayAt(days), '00:00');
  const [rooms, ...perDay] = await Promise.all([
    roomsOf(redis, facility),
    ...Array.from({ length: days }, (_, i) =>
      scheduleEntries(redis, facility, dayAt(i), { from: atShanghai(dayAt(i), '00:00'), to: atShanghai(dayAt(i + 1), '00:00') }, SCHEDULE_STATUSES)),
  ]);
  return { from, to, rooms, bookings: perDay.flat() };
}
