/**
 * Which (room, resident, time) the i-th booking of a benchmark phase takes. Pure, so the load
 * child and the parent compute the same plan from a few numbers instead of shipping a list.
 *
 * Bookings are 30 minutes long, between 08:00 and 20:00 Shanghai time (24 units a day), on the
 * days `dayFrom … dayFrom + days - 1` after `baseDay`. Consecutive indexes go to consecutive
 * rooms, so 32 requests in flight touch 32 different rooms. For one room, unit k goes to
 * resident (k + 5·room) mod residents: with at least 168 residents (the units of a week) no
 * resident books the same room twice in a week, so every booking claims place 0 of a fresh
 * weekly-quota key (quota 3 is never reached) and the plan never conflicts with itself.
 */
import { atShanghai, dayjs } from '../models/calendar.js';

export const UNITS_PER_DAY = 24; // 08:00–20:00 in 30-minute units
const UNIT_MS = 30 * 60_000;

export interface SlotPlan {
  /** Shanghai day 'YYYY-MM-DD' that day offsets count from (today when the run starts). */
  baseDay: string;
  /** First room index (into the seeded rooms) and how many rooms this phase uses. */
  roomFrom: number;
  rooms: number;
  residents: number;
  dayFrom: number;
  days: number;
}

export interface PlannedSlot {
  room: number;
  resident: number;
  start: Date;
  end: Date;
}

export const planSize = (p: SlotPlan) => p.rooms * p.days * UNITS_PER_DAY;

export function slotAt(p: SlotPlan, i: number): PlannedSlot | null {
  if (!Number.isInteger(i) || i < 0 || i >= planSize(p)) return null;
  if (p.residents < 7 * UNITS_PER_DAY) throw new Error('a slot plan needs at least 168 residents');
  const room = i % p.rooms;
  const k = Math.floor(i / p.rooms);
  const day = dayjs.utc(p.baseDay).add(p.dayFrom + Math.floor(k / UNITS_PER_DAY), 'day').format('YYYY-MM-DD');
  const start = new Date(atShanghai(day, '08:00').getTime() + (k % UNITS_PER_DAY) * UNIT_MS);
  return { room: p.roomFrom + room, resident: (k + 5 * room) % p.residents, start, end: new Date(start.getTime() + UNIT_MS) };
}
