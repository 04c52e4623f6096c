/**
 * Shanghai wall-clock helpers. The service speaks UTC instants and Shanghai days; the console
 * shows Shanghai time whatever the desk PC's time zone (China has no daylight saving: +08:00).
 */
const OFFSET_MS = 8 * 3_600_000;

export function shanghaiDay(at: Date | string | number): string {
  return new Date(new Date(at).getTime() + OFFSET_MS).toISOString().slice(0, 10);
}

/** Minutes since Shanghai midnight. */
export function shanghaiMinutes(at: Date | string | number): number {
  const d = new Date(new Date(at).getTime() + OFFSET_MS);
  return d.getUTCHours() * 60 + d.getUTCMinutes();
}

/** The instant of `day` (YYYY-MM-DD) at `minutes` past Shanghai midnight. */
export function atShanghai(day: string, minutes: number): Date {
  return new Date(Date.parse(`${day}T00:00:00Z`) - OFFSET_MS + minutes * 60_000);
}

export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

export const hhmm = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

/** 12月7日 周一 09:30 */
export function formatShanghai(at: Date | string, withDay = true): string {
  const day = shanghaiDay(at);
  const t = hhmm(shanghaiMinutes(at));
  if (!withDay) return t;
  const [, m, d] = day.split('-');
  return `${Number(m)}月${Number(d)}日 ${WEEKDAYS[new Date(`${day}T00:00:00Z`).getUTCDay()]} ${t}`;
}

export const WEEKDAYS = ['周日', '周一', '周二', '周三', '周四', '周五', '周六'];

/** Monday of the Shanghai week of `day`. */
export function mondayOf(day: string): string {
  const wd = new Date(`${day}T00:00:00Z`).getUTCDay();
  return addDays(day, wd === 0 ? -6 : 1 - wd);
}
