/**
 * The room grid's layout, kept out of the component so it is unit-tested and cheap: rooms are
 * rows, time runs left to right in 30-minute units (a day, or seven days side by side), and a
 * booking is one absolutely positioned block. 2,000 blocks are 2,000 divs with four numbers.
 */
import { addDays, atShanghai, shanghaiDay, shanghaiMinutes } from './time';

export const UNIT_MINUTES = 30;

export interface ScheduleBooking {
  id: string;
  room: string;
  start: string;
  end: string;
  status: string;
  purpose: string;
  attendees: number;
  series: string | null;
  booker: { name: string | null; phone: string | null };
  flag: { reason: string; at: string | null } | null;
}

export interface Schedule {
  from: string;
  to: string;
  rooms: Array<{ id: string; name: string; capacity: number }>;
  bookings: ScheduleBooking[];
}

export type BlockTone = 'confirmed' | 'pending' | 'checked_in' | 'flagged' | 'done';

export interface Block {
  booking: ScheduleBooking;
  row: number;
  /** In units from the grid's left edge. */
  left: number;
  span: number;
  tone: BlockTone;
}

export interface GridLayout {
  days: string[];
  /** Minutes past midnight of the first and after the last unit of each day. */
  dayStart: number;
  dayEnd: number;
  unitsPerDay: number;
  totalUnits: number;
  rooms: Schedule['rooms'];
  blocks: Block[];
}

export const TONE_LABELS: Record<BlockTone, string> = {
  confirmed: '已确认',
  pending: '待审核',
  checked_in: '已签到',
  flagged: '受停用影响',
  done: '已结束',
};

/** A blackout's flag wins over the status: staff must act on those first. */
export function toneOf(b: Pick<ScheduleBooking, 'status' | 'flag'>): BlockTone {
  if (b.flag) return 'flagged';
  if (b.status === 'pending') return 'pending';
  if (b.status === 'checked_in') return 'checked_in';
  if (b.status === 'confirmed') return 'confirmed';
  return 'done';
}

/**
 * Lays out `schedule` from `firstDay` for `dayCount` days. The visible hours default to
 * 07:00–22:00 and widen to whole units around any booking outside them.
 */
export function layoutGrid(schedule: Schedule, firstDay: string, dayCount: number, hours = { start: 7 * 60, end: 22 * 60 }): GridLayout {
  const days = Array.from({ length: dayCount }, (_, i) => addDays(firstDay, i));
  const dayIndex = new Map(days.map((d, i) => [d, i]));
  let dayStart = hours.start;
  let dayEnd = hours.end;
  for (const b of schedule.bookings) {
    const s = shanghaiMinutes(b.start);
    const sameDay = shanghaiDay(b.start) === shanghaiDay(b.end);
    const e = sameDay ? shanghaiMinutes(b.end) : 24 * 60;
    dayStart = Math.min(dayStart, Math.floor(s / UNIT_MINUTES) * UNIT_MINUTES);
    dayEnd = Math.max(dayEnd, Math.ceil(e / UNIT_MINUTES) * UNIT_MINUTES);
  }
  const unitsPerDay = (dayEnd - dayStart) / UNIT_MINUTES;
  const rowOf = new Map(schedule.rooms.map((r, i) => [r.id, i]));
  const blocks: Block[] = [];
  for (const booking of schedule.bookings) {
    const row = rowOf.get(booking.room);
    const di = dayIndex.get(shanghaiDay(booking.start));
    if (row === undefined || di === undefined) continue;
    const s = shanghaiMinutes(booking.start);
    const minutes = Math.max(UNIT_MINUTES, (Date.parse(booking.end) - Date.parse(booking.start)) / 60_000);
    const left = di * unitsPerDay + (s - dayStart) / UNIT_MINUTES;
    const span = Math.min(minutes / UNIT_MINUTES, (dayEnd - s) / UNIT_MINUTES);
    blocks.push({ booking, row, left, span, tone: toneOf(booking) });
  }
  return { days, dayStart, dayEnd, unitsPerDay, totalUnits: unitsPerDay * dayCount, rooms: schedule.rooms, blocks };
}

/** The instant at the left edge of `unit` (whole units from the grid's left edge). */
export function unitToInstant(layout: Pick<GridLayout, 'days' | 'dayStart' | 'unitsPerDay'>, unit: number): Date {
  const di = Math.min(layout.days.length - 1, Math.max(0, Math.floor(unit / layout.unitsPerDay)));
  const within = Math.min(layout.unitsPerDay - 1, Math.max(0, unit - di * layout.unitsPerDay));
  return atShanghai(layout.days[di]!, layout.dayStart + within * UNIT_MINUTES);
}

/** Where a dragged booking lands: the unit under the pointer, keeping its length. */
export function dropTarget(
  layout: Pick<GridLayout, 'days' | 'dayStart' | 'unitsPerDay'>,
  booking: Pick<ScheduleBooking, 'start' | 'end'>,
  offsetPx: number,
  unitPx: number,
): { start: Date; end: Date } {
  const unit = Math.floor(offsetPx / unitPx);
  const start = unitToInstant(layout, unit);
  const length = Date.parse(booking.end) - Date.parse(booking.start);
  return { start, end: new Date(start.getTime() + length) };
}

export interface Blackout {
  id: string;
  facility: string;
  /** null: every room of the facility. */
  room: string | null;
  start: string;
  end: string;
  reason: string;
}

/** A blackout's band over the grid: one per blackout and visible day, across its rooms' rows. */
export interface Band {
  blackout: Blackout;
  /** First row covered, and how many rows (all of them for a whole-facility blackout). */
  row: number;
  rows: number;
  /** In units from the grid's left edge (fractional when the blackout is not on a unit boundary). */
  left: number;
  span: number;
}

/**
 * Where each blackout shows on the grid: clipped to every visible day's hours, one band per day
 * (a blackout over a night leaves the hidden hours out); a whole-facility blackout covers every
 * row, a room's only that room's. Blackouts of rooms not on the grid, or outside it, give none.
 */
export function layoutBlackouts(blackouts: readonly Blackout[], layout: Pick<GridLayout, 'days' | 'dayStart' | 'dayEnd' | 'unitsPerDay' | 'rooms'>): Band[] {
  const rowOf = new Map(layout.rooms.map((r, i) => [r.id, i]));
  const bands: Band[] = [];
  for (const blackout of blackouts) {
    const row = blackout.room === null ? 0 : rowOf.get(blackout.room);
    if (row === undefined || !layout.rooms.length) continue;
    const rows = blackout.room === null ? layout.rooms.length : 1;
    const from = Date.parse(blackout.start);
    const to = Date.parse(blackout.end);
    layout.days.forEach((day, di) => {
      const open = atShanghai(day, layout.dayStart).getTime();
      const close = atShanghai(day, layout.dayEnd).getTime();
      const s = Math.max(from, open);
      const e = Math.min(to, close);
      if (e <= s) return;
      const left = di * layout.unitsPerDay + (s - open) / (UNIT_MINUTES * 60_000);
      bands.push({ blackout, row, rows, left, span: (e - s) / (UNIT_MINUTES * 60_000) });
    });
  }
  return bands;
}

/** The statuses as staff read them (the export; the drawer has its own wording for the past ones). */
export const STATUS_LABELS: Record<string, string> = {
  pending: '待审核', confirmed: '已确认', checked_in: '已签到', completed: '已完成', released_no_show: '未到场已释放',
};

export type BookingRow = { room: string; start: string; end: string; status: string; booker: string; phone: string; purpose: string; attendees: number; flag: string };

/**
 * The bookings a grid shows, one row each for the .xlsx export: by start, then room name (Chinese
 * order); the status in words, with a blackout's flag beside it. `format` renders an instant.
 */
export function bookingRows(layout: GridLayout, format: (iso: string) => string): BookingRow[] {
  const roomName = new Map(layout.rooms.map((r) => [r.id, r.name]));
  return layout.blocks
    .map(({ booking: b }) => ({
      room: roomName.get(b.room) ?? b.room,
      start: b.start,
      end: b.end,
      status: STATUS_LABELS[b.status] ?? b.status,
      booker: b.booker.name ?? '',
      phone: b.booker.phone ?? '',
      purpose: b.purpose,
      attendees: b.attendees,
      flag: b.flag ? `受停用影响：${b.flag.reason}` : '',
    }))
    .sort((x, y) => x.start.localeCompare(y.start) || x.room.localeCompare(y.room, 'zh'))
    .map((r) => ({ ...r, start: format(r.start), end: format(r.end) }));
}
