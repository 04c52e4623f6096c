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
  return DAY_PATTERN.test(day) && dayjs.tz(day, TIME_ZONE).format('YYYY-MM-DD') === day;
}

/** The Shanghai calendar day of an instant, as 'YYYY-MM-DD'. */
export function shanghaiDay(at: Date): string {
  return dayjs(at).tz(TIME_ZONE).format('YYYY-MM-DD');
}

/** The instant of `hhmm` on the Shanghai calendar day `day` ('24:00' is the next midnight). */
export function atShanghai(day: string, hhmm: string): Date {
  const minutes = minutesOfDay(hhmm);
  return dayjs.tz(day, TIME_ZONE).add(minutes, 'minute').toDate();
}

/** Minutes since midnight of an 'HH:mm' time. */
export function minutesOfDay(hhmm: string): number {
  if (!TIME_OF_DAY_PATTERN.test(hhmm)) throw new RangeError(`not an HH:mm time: ${hhmm}`);
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

export { dayjs };
