/**
 * Calendar days as whole numbers (days since 1970-01-01), so date arithmetic never depends
 * on the process's TZ. Asia/Shanghai has been UTC+8 all year since 1991, so "which day is it
 * in Shanghai" is the UTC day of the instant plus eight hours.
 */

const MS_PER_DAY = 86_400_000;
const SHANGHAI_OFFSET_MS = 8 * 3_600_000;

export type Day = number;

/** The Shanghai calendar day of an instant. */
export function shanghaiToday(now: Date): Day {
  return Math.floor((now.getTime() + SHANGHAI_OFFSET_MS) / MS_PER_DAY);
}

export function dayOf(year: number, month: number, date: number): Day {
  return Math.floor(Date.UTC(year, month - 1, date) / MS_PER_DAY);
}

export function partsOf(day: Day): { year: number; month: number; date: number } {
  const d = new Date(day * MS_PER_DAY);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, date: d.getUTCDate() };
}

/** 1 = Monday … 7 = Sunday: Chinese weeks start on Monday. */
export function weekdayOf(day: Day): number {
  const sundayIsZero = new Date(day * MS_PER_DAY).getUTCDay();
  return sundayIsZero === 0 ? 7 : sundayIsZero;
}

/** The Monday of the week holding `day`. */
export function mondayOf(day: Day): Day {
  return day - (weekdayOf(day) - 1);
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** 'YYYY-MM-DD'. */
export function formatDay(day: Day): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

/** The next day on or after `from` that is the `date`-th of its month (3号 → the next 3rd). */
export function nextDateOfMonth(from: Day, date: number): Day | undefined {
  if (date < 1 || date > 31) return undefined;
  let { year, month } = partsOf(from);
  for (let i = 0; i < 13; i += 1) {
    if (date <= daysInMonth(year, month)) {
      const candidate = dayOf(year, month, date);
      if (candidate >= from) return candidate;
    }
    month += 1;
    if (month > 12) {
      month = 1;
      year += 1;
    }
  }
  return undefined;
}

/** A real calendar day, or undefined for 2月30日. */
export function validDay(year: number, month: number, date: number): Day | undefined {
  if (month < 1 || month > 12 || date < 1 || date > daysInMonth(year, month)) return undefined;
  return dayOf(year, month, date);
}

/** An ISO date-time (`--now`); without an offset it is Shanghai's wall clock. */
export function parseNow(value: string): Date | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', offset] = m;
  const zone = offset ? (offset === 'Z' ? 'Z' : offset.replace(/^([+-]\d{2})(\d{2})$/, '$1:$2')) : '+08:00';
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}${zone}`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
