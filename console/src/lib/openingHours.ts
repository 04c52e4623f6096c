/**
 * A room's opening hours as the API keeps them (a list of {weekday, open, close}, 0 = Sunday)
 * and as staff edit them: a week table, Monday first, each day closed or with its time ranges.
 * Pure, so the conversion is unit-tested; the API checks the hours again and its message wins.
 */
export interface OpeningInterval { weekday: number; open: string; close: string }
export interface WeekRow { weekday: number; label: string; open: boolean; ranges: Array<{ open: string; close: string }> }

const LABELS = ['星期日', '星期一', '星期二', '星期三', '星期四', '星期五', '星期六'];
/** Monday first, as a Chinese week reads. */
export const WEEK_ORDER = [1, 2, 3, 4, 5, 6, 0];

export function weekFromHours(hours: readonly OpeningInterval[]): WeekRow[] {
  return WEEK_ORDER.map((weekday) => {
    const ranges = hours.filter((h) => h.weekday === weekday)
      .sort((a, b) => a.open.localeCompare(b.open))
      .map((h) => ({ open: h.open, close: h.close }));
    return { weekday, label: LABELS[weekday]!, open: ranges.length > 0, ranges: ranges.length ? ranges : [{ open: '08:00', close: '18:00' }] };
  });
}

/**
 * The list to send, and where each entry came from (row and range of the table), so that a
 * field error such as `openingHours.3.close` is shown under the range that caused it.
 */
export function hoursFromWeek(week: readonly WeekRow[]): { hours: OpeningInterval[]; origin: Array<{ row: number; range: number }> } {
  const hours: OpeningInterval[] = [];
  const origin: Array<{ row: number; range: number }> = [];
  week.forEach((row, r) => {
    if (!row.open) return;
    row.ranges.forEach((range, i) => {
      hours.push({ weekday: row.weekday, open: range.open.trim(), close: range.close.trim() });
      origin.push({ row: r, range: i });
    });
  });
  return { hours, origin };
}

/** A week in one line: 周一至周五 08:00–18:00 style is left to the reader; this lists each open day. */
export function hoursSummary(hours: readonly OpeningInterval[]): string {
  const week = weekFromHours(hours).filter((d) => d.open);
  if (!week.length) return '不开放';
  return week.map((d) => `${d.label.replace('星期', '周')} ${d.ranges.map((r) => `${r.open}–${r.close}`).join('、')}`).join('；');
}
