import dayjs from 'dayjs';
import timezone from 'dayjs/plugin/timezone.js';
import utc from 'dayjs/plugin/utc.js';
import { TIME_ZONE } from '../src/config.js';

dayjs.extend(utc);
dayjs.extend(timezone);

/**
 * Calendar helpers shared by the models. Instants are stored as UTC Dates; "which day" and
 * "what time of day" are always read in Asia/Shanghai, whatever the server's TZ.
 */

/** A Shanghai calendar day as stored on per-day documents (menus, childcare sessions). */
export const DAY_PATTERN = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])$/;

/** 'HH:mm' on a 24-hour clock; '24:00' is allowed so a close time can mean midnight. */
export const TIME_OF_DAY_PATTERN = /^(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$/;

/** True when `day` is a real calendar day in 'YYYY-MM-DD' form (rejects 2026-02-30). */
export function isDay(day: string): boolean {
  if (!DAY_PATTERN.test(day)) return false;
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d)).getUTCDate() === d;
}

/*
 * Shanghai has kept UTC+8 without daylight saving since September 1991, so for instants
 * after that the fields are plain arithmetic. dayjs's timezone plugin (Intl on every call)
 * cost 15% of a booking request's CPU; it still answers for earlier instants (birth dates).
 */
const FIXED_OFFSET_SINCE = Date.UTC(1992, 0, 1);
const OFFSET_MS = 8 * 3_600_000;

/** The calendar fields of an instant in Shanghai (weekday: 0 = Sunday). */
export function shanghaiFields(at: Date): { year: number; month: number; day: number; hour: number; minute: number; weekday: number } {
  if (at.getTime() < FIXED_OFFSET_SINCE) {
    const d = dayjs(at).tz(TIME_ZONE);
    return { year: d.year(), month: d.month() + 1, day: d.date(), hour: d.hour(), minute: d.minute(), weekday: d.day() };
  }
  const d = new Date(at.getTime() + OFFSET_MS);
  return {
    year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(),
    hour: d.getUTCHours(), minute: d.getUTCMinutes(), weekday: d.getUTCDay(),
  };
}

/** Two digits: 9 → '09'. */
export const pad = (n: number) => String(n).padStart(2, '0');

/** The Shanghai calendar day of an instant, as 'YYYY-MM-DD'. */
export function shanghaiDay(at: Date): string {
  const f = shanghaiFields(at);
  return `${f.year}-${pad(f.month)}-${pad(f.day)}`;
}

/** The instant of `hhmm` on the Shanghai calendar day `day` ('24:00' is the next midnight). */
export function atShanghai(day: string, hhmm: string): Date {
  const minutes = minutesOfDay(hhmm);
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const midnight = Date.UTC(y, m - 1, d) - OFFSET_MS;
  if (midnight < FIXED_OFFSET_SINCE) return dayjs.tz(day, TIME_ZONE).add(minutes, 'minute').toDate();
  return new Date(midnight + minutes * 60_000);
}

/** Minutes since midnight of an 'HH:mm' time. */
export function minutesOfDay(hhmm: string): number {
  if (!TIME_OF_DAY_PATTERN.test(hhmm)) throw new RangeError(`not an HH:mm time: ${hhmm}`);
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

export { dayjs };
