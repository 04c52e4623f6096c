import { trusted, type Types } from 'mongoose';
import { dayjs, shanghaiDay } from '../../models/calendar.js';
import { Facility } from '../../models/facility.js';
import { type MealMode } from '../../models/mealOrder.js';
import { openMinutesOn } from '../../models/openingHours.js';
import { Room } from '../../models/room.js';
import { readDailyFigures } from './dailyFigures.js';
import { currentMonth, wellnessVisitReport } from './wellness.js';

/** The longest span a dashboard covers: two months of days keeps every read bounded. */
export const DASHBOARD_MAX_DAYS = 62;

export interface DashboardFigures {
  from: string;
  to: string;
  days: string[];
  rooms: {
    bookedHours: number;
    openHours: number;
    utilisation: number;
    byRoom: Array<{ room: string; name: string; bookedHours: number; openHours: number; utilisation: number }>;
    /** Booked hours per hour of the day (Shanghai), 0–23, summed over the span and the rooms. */
    byHour: Array<{ hour: number; bookedHours: number }>;
  };
  meals: { portions: number; byDay: Array<{ date: string } & Record<MealMode, number>> };
  childcare: { capacity: number; booked: number; fillRate: number; byDay: Array<{ date: string; capacity: number; booked: number; fillRate: number }> };
  volunteers: { hours: number; byDay: Array<{ date: string; hours: number }> };
  visits: { month: string; elders: number; visited: number; rate: number };
  ratings: { good: number; bad: number; byDay: Array<{ date: string; good: number; bad: number }> };
}

const hours = (ms: number) => Math.round((ms / 3_600_000) * 10) / 10;
const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 1000) / 1000 : 0);

/** Every Shanghai day from `from` to `to`, both included. */
export function daysBetween(from: string, to: string): string[] {
  const n = dayjs.utc(to).diff(dayjs.utc(from), 'day');
  return Array.from({ length: n + 1 }, (_, i) => dayjs.utc(from).add(i, 'day').format('YYYY-MM-DD'));
}

/** The default span: the 30 days ending today. */
export function lastThirtyDays(now: Date): { from: string; to: string } {
  const to = shanghaiDay(now);
  return { from: dayjs.utc(to).subtract(29, 'day').format('YYYY-MM-DD'), to };
}

/**
 * The figures behind the staff console's dashboard for a community and a span of days: room use
 * per room and hour, meal portions per day and mode, childcare fill rate per day, approved
 * volunteer hours per day, this month's visit rate and good / bad ratings per day. Read from
 * the per-day read model (readDailyFigures: two `_id` reads a day, a stale day recomputed with
 * equality reads), the rooms and this month's visits: bounded by the span, not by the
 * community's history. The browser never counts raw lists.
 */
export async function dashboardStatistics(community: Types.ObjectId, from: string, to: string, now = new Date()): Promise<DashboardFigures> {
  const days = daysBetween(from, to);
  const centres = await Facility.find({ community, kind: 'community_centre' }).select('_id').lean();
  const [figures, rooms, visits] = await Promise.all([
    readDailyFigures(community, days),
    centres.length ? Room.find({ facility: trusted({ $in: centres.map((c) => c._id) }) }).select('name openingHours').lean() : Promise.resolve([]),
    wellnessVisitReport(community, currentMonth(now)),
  ]);

  const weekdays = days.map((d) => dayjs.utc(d).day());
  const bookedByRoom = new Map<string, number>();
  const byHour = Array.from({ length: 24 }, () => 0);
  for (const f of figures) {
    for (const r of f.rooms) bookedByRoom.set(r.room, (bookedByRoom.get(r.room) ?? 0) + r.bookedMs);
    f.byHour.forEach((ms, hour) => { byHour[hour]! += ms; });
  }
  const byRoom = rooms.map((r) => {
    const openMs = weekdays.reduce<number>((sum, wd) => sum + openMinutesOn(r.openingHours, wd) * 60_000, 0);
    const bookedMs = bookedByRoom.get(String(r._id)) ?? 0;
    return { room: String(r._id), name: r.name, bookedMs, openMs };
  }).sort((a, b) => a.name.localeCompare(b.name, 'zh'));
  const bookedMs = byRoom.reduce((s, r) => s + r.bookedMs, 0);
  const openMs = byRoom.reduce((s, r) => s + r.openMs, 0);

  const mealDays = days.map((date, i) => ({ date, ...figures[i]!.meals }));
  const places = days.map((date, i) => {
    const { capacity, booked } = figures[i]!.childcare;
    return { date, capacity, booked, fillRate: ratio(booked, capacity) };
  });
  const capacity = places.reduce((s, p) => s + p.capacity, 0);
  const booked = places.reduce((s, p) => s + p.booked, 0);
  const volunteerMinutes = figures.map((f) => f.volunteerMinutes);
  const ratingDays = days.map((date, i) => ({ date, ...figures[i]!.ratings }));

  return {
    from,
    to,
    days,
    rooms: {
      bookedHours: hours(bookedMs),
      openHours: hours(openMs),
      utilisation: ratio(bookedMs, openMs),
      byRoom: byRoom.map((r) => ({ room: r.room, name: r.name, bookedHours: hours(r.bookedMs), openHours: hours(r.openMs), utilisation: ratio(r.bookedMs, r.openMs) })),
      byHour: byHour.map((ms, hour) => ({ hour, bookedHours: hours(ms) })),
    },
    meals: { portions: mealDays.reduce((s, d) => s + d.dine_in + d.pickup + d.delivery, 0), byDay: mealDays },
    childcare: { capacity, booked, fillRate: ratio(booked, capacity), byDay: places },
    volunteers: {
      hours: hours(volunteerMinutes.reduce((s, m) => s + m, 0) * 60_000),
      byDay: days.map((d, i) => ({ date: d, hours: hours(volunteerMinutes[i]! * 60_000) })),
    },
    visits: { month: visits.month, elders: visits.elders, visited: visits.visited, rate: visits.rate },
    ratings: { good: ratingDays.reduce((s, d) => s + d.good, 0), bad: ratingDays.reduce((s, d) => s + d.bad, 0), byDay: ratingDays },
  };
}
