import { atShanghai, dayjs, shanghaiDay } from '../../models/calendar.js';
import type { PersonFields } from '../../models/person.js';
import { isAdmin, isStaffOver, type AuthUser } from '../auth/user.js';
import { assertNotBlocked } from '../booking/noShows.js';
import { UNIT_MINUTES, hhmm, rangeLabel, unitOf, unitStart } from '../booking/time.js';
import { TIME_ZONE } from '../config.js';
import { AppError, SlotTakenError } from '../errors.js';
import type { RoomWithFacility } from '../policies/room.js';
import type { RoomBookingDeps } from './roomBookings.js';
import type { Redis } from 'ioredis';
import type { Types } from 'mongoose';
import { freeRooms, roomHeldOnDay } from './roomAvailability.js';
import { assessOccurrence, type Occurrence, type SlotHolder } from './roomSeries.js';

export interface RoomSlot {
  start: Date;
  end: Date;
}

/**
 * What createRoomBooking would refuse for this slot (no-show block, the room's rules —
 * notice, advance limit, hours, capacity, blackouts — the weekly quota, a taken unit), read
 * without claiming anything: the bot runs it when it shows the summary (issue 20). The claims
 * stay the rule; a race can still lose after 确认.
 */
export async function roomBookingRefusal(
  deps: RoomBookingDeps,
  user: AuthUser,
  room: RoomWithFacility,
  person: PersonFields,
  slot: RoomSlot,
  attendees: number,
  now: Date,
): Promise<AppError | undefined> {
  try {
    await assertNotBlocked(person._id, 'room', deps.rules, now);
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  const occ = await assess(user, room, person, slot, attendees, now, holderOnGrid(deps.redis));
  return occ.status === 'conflict' ? new AppError(409, occ.reason!.code, occ.reason!.message) : undefined;
}

function assess(user: AuthUser, room: RoomWithFacility, person: PersonFields, slot: RoomSlot, attendees: number, now: Date, holder?: SlotHolder): Promise<Occurrence> {
  const byStaff = isStaffOver(user, room.facility.community, room.facility._id) || isAdmin(user);
  return assessOccurrence(room, person, slot, { ...slot, purpose: '', attendees, mode: 'preview' }, byStaff, now, undefined, holder);
}

/**
 * Who holds a slot by the staff grid's projection (Redis, rebuilt from MongoDB when missing),
 * for the summary: one read of the claims fewer on every booking the bot shows (issue 20). The
 * claims still decide at 确认.
 */
const holderOnGrid = (redis: Redis): SlotHolder => async (room, slot) => {
  const first = (await roomHeldOnDay(redis, room, shanghaiDay(slot.start)))
    .filter((e) => e.start < slot.end && e.end > slot.start)
    .sort((a, b) => a.start.getTime() - b.start.getTime())[0];
  if (!first) return null;
  return {
    unit: unitOf(first.start > slot.start ? first.start : slot.start),
    conflictWith: { start: first.start, end: first.end, purpose: first.purpose },
  };
};

/**
 * The refusal createRoomBooking's claims would give (slot_taken, naming the first unit held)
 * when the staff grid's projection shows the slot held; undefined when it shows it free. For
 * the bot's 确认: in a rush most refusals are a slot booked since the summary was shown, and
 * said from the grid they cost no claims written and taken back (issue 20). A free answer
 * decides nothing: the claims still do.
 */
export async function slotTakenOnGrid(redis: Redis, room: RoomWithFacility, slot: RoomSlot): Promise<AppError | undefined> {
  const taken = await holderOnGrid(redis)(room, slot);
  if (!taken) return undefined;
  const first = unitStart(taken.unit);
  return SlotTakenError(`「${room.name}」${rangeLabel(first, new Date(first.getTime() + UNIT_MINUTES * 60_000))}`);
}

/**
 * The nearest slots of the same length in the same room that would be accepted: from the day
 * asked on (or, past the advance limit, back from the last day within reach), the same time
 * first, then the others of that day; at most `limit`, within a week of days. With `redis`, a
 * day's candidates that the staff grid's projection shows taken are skipped before the rules
 * (each a read of the claims) are run: a refusal in a busy week cost up to ~30 reads, now about
 * one per day tried. The rules still decide every slot offered.
 */
export async function nearestRoomSlots(
  user: AuthUser,
  room: RoomWithFacility,
  person: PersonFields,
  slot: RoomSlot,
  attendees: number,
  now: Date,
  limit = 3,
  redis?: Redis,
): Promise<RoomSlot[]> {
  const length = slot.end.getTime() - slot.start.getTime();
  const asked = shanghaiDay(slot.start);
  const lastDay = shanghaiDay(new Date(now.getTime() + room.maxAdvanceDays * 86_400_000));
  const tooFar = asked > lastDay;
  const days = Array.from({ length: 7 }, (_, i) => dayjs.utc(tooFar ? lastDay : asked).add(tooFar ? -i : i, 'day').format('YYYY-MM-DD'))
    .filter((d) => d >= shanghaiDay(now));
  const out: RoomSlot[] = [];
  const time = hhmm(slot.start);
  for (const day of days) {
    const same = atShanghai(day, time);
    // The same time of day first, then each half hour of the room's opening hours that day.
    const starts = [same, ...openStarts(room, day).filter((t) => t.getTime() !== same.getTime())];
    const held = redis ? await roomHeldOnDay(redis, room, day).catch(() => []) : [];
    for (const start of starts) {
      if (out.length >= limit) return out;
      const candidate = { start, end: new Date(start.getTime() + length) };
      if (candidate.start.getTime() === slot.start.getTime()) continue;
      if (held.some((e) => e.start < candidate.end && e.end > candidate.start)) continue;
      if ((await assess(user, room, person, candidate, attendees, now)).status === 'free') {
        out.push(candidate);
        break; // one slot per day: the nearest days, not five slots of one afternoon
      }
    }
  }
  return out;
}

/** Every half hour within the room's opening hours on `day` (Shanghai). */
function openStarts(room: RoomWithFacility, day: string): Date[] {
  const weekday = dayjs.tz(day, TIME_ZONE).day();
  const starts: Date[] = [];
  for (const h of room.openingHours.filter((o) => o.weekday === weekday)) {
    for (let t = atShanghai(day, h.open).getTime(); t < atShanghai(day, h.close).getTime(); t += 30 * 60_000) starts.push(new Date(t));
  }
  return starts;
}

/**
 * Rooms of a facility free for the whole of [start, end), for the bot's list: freeRooms (the
 * rooms and blackouts from the read cache, the bookings from the staff grid's projection),
 * with a range the bot cannot offer (empty, or begun) answered by no rooms instead of a
 * refusal. A room booked in the instant between its claim and its projection can show as
 * free: the claims still decide at 确认, and the summary's roomBookingRefusal reads them.
 */
export async function freeRoomsFromGrid(redis: Redis, facility: Types.ObjectId, q: { start: Date; end: Date; minCapacity?: number }, now: Date) {
  if (q.end <= q.start || q.start < now) return [];
  return freeRooms(redis, facility, q, now);
}
