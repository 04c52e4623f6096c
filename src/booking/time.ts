import { atShanghai, minutesOfDay, pad, shanghaiDay, shanghaiFields } from '../../models/calendar.js';
import type { OpeningInterval } from '../../models/openingHours.js';

/** Rooms are claimed in 30-minute units counted from the epoch (Shanghai is a whole-hour offset). */
export const UNIT_MINUTES = 30;
const UNIT_MS = UNIT_MINUTES * 60_000;

export const unitOf = (at: Date) => Math.floor(at.getTime() / UNIT_MS);
export const unitStart = (unit: number) => new Date(unit * UNIT_MS);

/** The units covering [start, end). */
export function unitsBetween(start: Date, end: Date): number[] {
  const units: number[] = [];
  for (let u = unitOf(start); u < Math.ceil(end.getTime() / UNIT_MS); u += 1) units.push(u);
  return units;
}

/** Minutes since Shanghai midnight. */
export const shanghaiMinutes = (at: Date) => {
  const f = shanghaiFields(at);
  return f.hour * 60 + f.minute;
};

export const shanghaiWeekday = (at: Date) => shanghaiFields(at).weekday;

/** Monday (YYYY-MM-DD, Shanghai) of the week `at` falls in: the weekly quota's key. */
export function weekOf(at: Date): string {
  const monday = atShanghai(shanghaiDay(at), '00:00');
  return shanghaiDay(new Date(monday.getTime() - ((shanghaiWeekday(at) + 6) % 7) * 86_400_000));
}


/** 09:00–10:30 in Shanghai time, for messages. */
export const hhmm = (at: Date) => {
  const f = shanghaiFields(at);
  return `${pad(f.hour)}:${pad(f.minute)}`;
};
export const dayLabel = (at: Date) => {
  const f = shanghaiFields(at);
  return `${f.month}月${f.day}日`;
};
export const rangeLabel = (start: Date, end: Date) => `${dayLabel(start)} ${hhmm(start)}–${hhmm(end)}`;

/** Whether [start, end) lies inside one opening interval of its Shanghai day. */
export function withinOpeningHours(hours: readonly OpeningInterval[], start: Date, end: Date): boolean {
  if (shanghaiDay(start) !== shanghaiDay(new Date(end.getTime() - 1))) return false;
  const from = shanghaiMinutes(start);
  const to = from + (end.getTime() - start.getTime()) / 60_000;
  return hours.some((h) => h.weekday === shanghaiWeekday(start) && minutesOfDay(h.open) <= from && to <= minutesOfDay(h.close));
}

/** "08:00–12:00、14:00–20:00" for the Shanghai weekday of `at`, or "不开放". */
export function openingLabel(hours: readonly OpeningInterval[], at: Date): string {
  const today = hours.filter((h) => h.weekday === shanghaiWeekday(at)).sort((a, b) => a.open.localeCompare(b.open));
  return today.length ? today.map((h) => `${h.open}–${h.close}`).join('、') : '不开放';
}
