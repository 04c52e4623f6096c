import { describe, expect, it } from 'vitest';
import { layoutBlackouts, layoutGrid, type Blackout, type Schedule } from '../src/lib/grid';
import { atShanghai } from '../src/lib/time';

const rooms = [{ id: 'r1', name: '书画室', capacity: 16 }, { id: 'r2', name: '会议室', capacity: 12 }, { id: 'r3', name: '舞蹈室', capacity: 30 }];
const empty: Schedule = { from: '', to: '', rooms, bookings: [] };
const blackout = (id: string, room: string | null, from: [string, number], to: [string, number], reason = '消防检查'): Blackout => ({
  id, facility: 'f1', room, start: atShanghai(from[0], from[1]).toISOString(), end: atShanghai(to[0], to[1]).toISOString(), reason,
});

describe('layoutBlackouts', () => {
  const day = layoutGrid(empty, '2030-03-04', 1); // 07:00–22:00, 30 units

  it('puts a room\'s blackout over that room\'s row only, from its start for its length', () => {
    const bands = layoutBlackouts([blackout('b1', 'r2', ['2030-03-04', 13 * 60 + 30], ['2030-03-04', 16 * 60])], day);
    expect(bands).toEqual([expect.objectContaining({ row: 1, rows: 1, left: 13, span: 5 })]);
    expect(bands[0]!.blackout.reason).toBe('消防检查');
  });

  it('covers every row for a whole-facility blackout', () => {
    const bands = layoutBlackouts([blackout('b1', null, ['2030-03-04', 9 * 60], ['2030-03-04', 10 * 60])], day);
    expect(bands).toEqual([expect.objectContaining({ row: 0, rows: 3, left: 4, span: 2 })]);
  });

  it('clips to the visible hours and splits a multi-day blackout into one band per day of the week', () => {
    const week = layoutGrid(empty, '2030-03-04', 7);
    const bands = layoutBlackouts([blackout('b1', 'r3', ['2030-03-05', 20 * 60], ['2030-03-07', 8 * 60])], week);
    expect(bands.map((b) => [b.left, b.span])).toEqual([
      [30 + 26, 4], // Tuesday 20:00–22:00
      [60, 30], // all of Wednesday's visible hours
      [90, 2], // Thursday 07:00–08:00
    ]);
    expect(bands.every((b) => b.row === 2 && b.rows === 1)).toBe(true);
  });

  it('keeps a blackout off a unit boundary where it is (fractional units)', () => {
    const bands = layoutBlackouts([blackout('b1', 'r1', ['2030-03-04', 9 * 60 + 15], ['2030-03-04', 9 * 60 + 45])], day);
    expect(bands[0]).toMatchObject({ left: 4.5, span: 1 });
  });

  it('leaves out blackouts of rooms not on the grid, of other days and of hidden hours', () => {
    const bands = layoutBlackouts([
      blackout('b1', 'rX', ['2030-03-04', 600], ['2030-03-04', 660]),
      blackout('b2', 'r1', ['2030-03-05', 600], ['2030-03-05', 660]),
      blackout('b3', null, ['2030-03-04', 22 * 60], ['2030-03-04', 23 * 60]),
      blackout('b4', 'r1', ['2030-03-03', 600], ['2030-03-03', 660]),
    ], day);
    expect(bands).toEqual([]);
  });

  it('gives no band when the facility has no rooms', () => {
    const none = layoutGrid({ ...empty, rooms: [] }, '2030-03-04', 1);
    expect(layoutBlackouts([blackout('b1', null, ['2030-03-04', 600], ['2030-03-04', 660])], none)).toEqual([]);
  });
});
