import { describe, expect, it } from 'vitest';
import { hoursFromWeek, hoursSummary, weekFromHours } from '../src/lib/openingHours';

describe('opening hours as a week table', () => {
  const hours = [
    { weekday: 0, open: '09:00', close: '17:00' },
    { weekday: 1, open: '13:00', close: '20:00' },
    { weekday: 1, open: '08:00', close: '12:00' },
  ];

  it('lists the week Monday first, each day open with its ranges in order, or closed', () => {
    const week = weekFromHours(hours);
    expect(week.map((d) => d.weekday)).toEqual([1, 2, 3, 4, 5, 6, 0]);
    expect(week[0]).toMatchObject({ label: '星期一', open: true, ranges: [{ open: '08:00', close: '12:00' }, { open: '13:00', close: '20:00' }] });
    expect(week[1]).toMatchObject({ label: '星期二', open: false });
    expect(week[1]!.ranges).toHaveLength(1); // a default range to start from when it is opened
    expect(week[6]).toMatchObject({ label: '星期日', open: true });
  });

  it('sends only open days, trimmed, and remembers which row and range each entry came from', () => {
    const week = weekFromHours(hours);
    week[0]!.ranges[1]!.close = ' 21:00 ';
    const { hours: sent, origin } = hoursFromWeek(week);
    expect(sent).toEqual([
      { weekday: 1, open: '08:00', close: '12:00' },
      { weekday: 1, open: '13:00', close: '21:00' },
      { weekday: 0, open: '09:00', close: '17:00' },
    ]);
    expect(origin).toEqual([{ row: 0, range: 0 }, { row: 0, range: 1 }, { row: 6, range: 0 }]);
  });

  it('round-trips, and summarises a week in one line', () => {
    expect(hoursFromWeek(weekFromHours(hours)).hours).toHaveLength(3);
    expect(hoursSummary(hours)).toBe('周一 08:00–12:00、13:00–20:00；周日 09:00–17:00');
    expect(hoursSummary([])).toBe('不开放');
  });
});
