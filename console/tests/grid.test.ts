import { describe, expect, it } from 'vitest';
import { bookingRows, dropTarget, layoutGrid, toneOf, unitToInstant, type Schedule, type ScheduleBooking } from '../src/lib/grid';
import { addDays, atShanghai } from '../src/lib/time';

const booking = (id: string, room: string, day: string, from: number, to: number, extra: Partial<ScheduleBooking> = {}): ScheduleBooking => ({
  id, room, start: atShanghai(day, from).toISOString(), end: atShanghai(day, to).toISOString(), status: 'confirmed', purpose: '活动',
  attendees: 5, series: null, booker: { name: '王建国', phone: '138****0005' }, flag: null, ...extra,
});
const rooms = [{ id: 'r1', name: '书画室', capacity: 16 }, { id: 'r2', name: '会议室', capacity: 12 }];

describe('layoutGrid', () => {
  it('puts a booking in its room\'s row, at its 30-minute unit, spanning its length', () => {
    const s: Schedule = { from: '', to: '', rooms, bookings: [booking('b1', 'r2', '2030-03-04', 9 * 60, 10 * 60 + 30)] };
    const l = layoutGrid(s, '2030-03-04', 1);
    expect(l.dayStart).toBe(7 * 60);
    expect(l.unitsPerDay).toBe(30);
    expect(l.blocks).toEqual([expect.objectContaining({ row: 1, left: 4, span: 3, tone: 'confirmed' })]);
  });

  it('places the days of a week side by side', () => {
    const s: Schedule = { from: '', to: '', rooms, bookings: [booking('b1', 'r1', '2030-03-06', 7 * 60, 8 * 60)] };
    const l = layoutGrid(s, '2030-03-04', 7);
    expect(l.days).toHaveLength(7);
    expect(l.totalUnits).toBe(7 * 30);
    expect(l.blocks[0]).toMatchObject({ left: 2 * 30, span: 2 });
  });

  it('widens the hours to whole units around an early or late booking', () => {
    const s: Schedule = { from: '', to: '', rooms, bookings: [booking('b1', 'r1', '2030-03-04', 6 * 60 + 45, 8 * 60), booking('b2', 'r1', '2030-03-04', 21 * 60, 22 * 60 + 10)] };
    const l = layoutGrid(s, '2030-03-04', 1);
    expect(l.dayStart).toBe(6 * 60 + 30);
    expect(l.dayEnd).toBe(22 * 60 + 30);
    expect(l.blocks[0]!.left).toBe(0.5);
  });

  it('leaves out bookings of unknown rooms or other days', () => {
    const s: Schedule = { from: '', to: '', rooms, bookings: [booking('b1', 'rX', '2030-03-04', 600, 660), booking('b2', 'r1', '2030-03-05', 600, 660)] };
    expect(layoutGrid(s, '2030-03-04', 1).blocks).toEqual([]);
  });

  it('colours a flagged booking as flagged whatever its status', () => {
    expect(toneOf({ status: 'confirmed', flag: { reason: '消防检查', at: null } })).toBe('flagged');
    expect(toneOf({ status: 'pending', flag: null })).toBe('pending');
    expect(toneOf({ status: 'checked_in', flag: null })).toBe('checked_in');
    expect(toneOf({ status: 'completed', flag: null })).toBe('done');
  });

  it('lays out 2,000 bookings of 30 rooms over a week', () => {
    const many: Schedule = { from: '', to: '', rooms: Array.from({ length: 30 }, (_, i) => ({ id: `r${i}`, name: `活动室${i}`, capacity: 10 })), bookings: [] };
    for (let i = 0; i < 2000; i++) many.bookings.push(booking(`b${i}`, `r${i % 30}`, addDays('2030-03-04', i % 7), 8 * 60 + (i % 24) * 30, 8 * 60 + (i % 24) * 30 + 30));
    const l = layoutGrid(many, '2030-03-04', 7);
    expect(l.blocks).toHaveLength(2000);
  });
});

describe('drag and drop', () => {
  const l = layoutGrid({ from: '', to: '', rooms, bookings: [] }, '2030-03-04', 7);

  it('turns a unit into its instant, day by day', () => {
    expect(unitToInstant(l, 0).toISOString()).toBe(atShanghai('2030-03-04', 7 * 60).toISOString());
    expect(unitToInstant(l, 31).toISOString()).toBe(atShanghai('2030-03-05', 7 * 60 + 30).toISOString());
  });

  it('keeps the booking\'s length where it is dropped', () => {
    const b = booking('b', 'r1', '2030-03-04', 9 * 60, 10 * 60 + 30);
    const { start, end } = dropTarget(l, b, 8 * 4 + 3, 8); // unit 4 of the first day: 09:00
    expect(start.toISOString()).toBe(atShanghai('2030-03-04', 9 * 60).toISOString());
    expect(end.getTime() - start.getTime()).toBe(90 * 60_000);
  });
});

describe('bookingRows (the grid\'s .xlsx export)', () => {
  it('lists the shown bookings by start then room, with room names, statuses in words and a blackout\'s flag', () => {
    const s: Schedule = {
      from: '', to: '', rooms, bookings: [
        booking('b1', 'r1', '2030-03-04', 10 * 60, 11 * 60, { status: 'pending' }),
        booking('b2', 'r2', '2030-03-04', 9 * 60, 10 * 60, { flag: { reason: '消防检查', at: null } }),
        booking('b3', 'r1', '2030-03-04', 9 * 60, 10 * 60, { status: 'checked_in', booker: { name: null, phone: null } }),
      ],
    };
    const rows = bookingRows(layoutGrid(s, '2030-03-04', 1), (iso) => iso.slice(11, 16));
    expect(rows.map((r) => [r.room, r.start, r.status, r.booker, r.flag])).toEqual([
      ['会议室', '01:00', '已确认', '王建国', '受停用影响：消防检查'],
      ['书画室', '01:00', '已签到', '', ''],
      ['书画室', '02:00', '待审核', '王建国', ''],
    ]);
  });
});
