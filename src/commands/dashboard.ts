import { trusted, type Types } from 'mongoose';
import { atShanghai, dayjs, shanghaiDay, shanghaiFields } from '../../models/calendar.js';
import { ChildcareBooking } from '../../models/childcareBooking.js';
import { ChildcareSession } from '../../models/childcareSession.js';
import { Facility } from '../../models/facility.js';
import { MealOrder, type MealMode } from '../../models/mealOrder.js';
import { MealRating } from '../../models/mealRating.js';
import { openMinutesOn } from '../../models/openingHours.js';
import { Room } from '../../models/room.js';
import { RoomBooking } from '../../models/roomBooking.js';
import { ServiceRating } from '../../models/serviceRating.js';
import { VolunteerAssignment } from '../../models/volunteerAssignment.js';
import { BOOKED_ROOM_STATUSES } from './monthlyReports.js';
import { currentMonth, wellnessVisitReport } from './wellness.js';

/** The longest span a dashboard covers: two months of days keeps every read bounded. */
export const DASHBOARD_MAX_DAYS = 62;

/** Childcare bookings that hold a place on the day (a no-show held it too). */
const PLACE_HOLDING_CHILDCARE = ['confirmed', 'dropped_off', 'picked_up', 'no_show'] as const;

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

/** Spreads a booking's time over the Shanghai hours it covers (ms per hour of the day). */
function addByHour(byHour: number[], start: Date, end: Date): void {
  for (let t = start.getTime(); t < end.getTime();) {
    const next = Math.min(end.getTime(), (Math.floor(t / 3_600_000) + 1) * 3_600_000);
    byHour[shanghaiFields(new Date(t)).hour]! += next - t;
    t = next;
  }
}

/**
 * The figures behind the staff console's dashboard for a community and a span of days: room use
 * per room and hour, meal portions per day and mode, childcare fill rate per day, approved
 * volunteer hours per day, this month's visit rate and good / bad ratings per day. A handful of
 * bounded reads (the span's records of each service, by community and day), summed in memory:
 * the browser never counts raw lists.
 */
export async function dashboardStatistics(community: Types.ObjectId, from: string, to: string, now = new Date()): Promise<DashboardFigures> {
  const days = daysBetween(from, to);
  const start = atShanghai(from, '00:00');
  const end = atShanghai(dayjs.utc(to).add(1, 'day').format('YYYY-MM-DD'), '00:00');
  const facilities = await Facility.find({ community }).select('kind').lean();
  const ofKind = (kind: string) => facilities.filter((f) => f.kind === kind).map((f) => f._id);
  const centres = ofKind('community_centre');
  const childcareCentres = ofKind('childcare_centre');
  const dayRange = trusted({ $gte: from, $lte: to });
  const [bookings, rooms, orders, sessions, childcare, assignments, mealRatings, roomRatings, visits] = await Promise.all([
    RoomBooking.find({ community, start: trusted({ $gte: start, $lt: end }), status: trusted({ $in: [...BOOKED_ROOM_STATUSES] }) }).select('room start end').lean(),
    centres.length ? Room.find({ facility: trusted({ $in: centres }) }).select('name openingHours').lean() : Promise.resolve([]),
    MealOrder.find({ community, date: dayRange }).select('date status mode quantity').lean(),
    childcareCentres.length ? ChildcareSession.find({ centre: trusted({ $in: childcareCentres }), date: dayRange }).select('date capacity').lean() : Promise.resolve([]),
    ChildcareBooking.find({ community, start: trusted({ $gte: start, $lt: end }), status: trusted({ $in: [...PLACE_HOLDING_CHILDCARE] }) }).select('start').lean(),
    VolunteerAssignment.find({ community, status: 'approved', start: trusted({ $gte: start, $lt: end }) }).select('start approvedMinutes').lean(),
    MealRating.find({ community, date: dayRange }).select('date good').lean(),
    ServiceRating.find({ community, day: dayRange }).select('day good').lean(),
    wellnessVisitReport(community, currentMonth(now)),
  ]);

  const weekdays = days.map((d) => dayjs.utc(d).day());
  const bookedByRoom = new Map<string, number>();
  const byHour = Array.from({ length: 24 }, () => 0);
  for (const b of bookings) {
    bookedByRoom.set(String(b.room), (bookedByRoom.get(String(b.room)) ?? 0) + (b.end.getTime() - b.start.getTime()));
    addByHour(byHour, b.start, b.end);
  }
  const byRoom = rooms.map((r) => {
    const openMs = weekdays.reduce<number>((sum, wd) => sum + openMinutesOn(r.openingHours, wd) * 60_000, 0);
    const bookedMs = bookedByRoom.get(String(r._id)) ?? 0;
    return { room: String(r._id), name: r.name, bookedMs, openMs };
  }).sort((a, b) => a.name.localeCompare(b.name, 'zh'));
  const bookedMs = byRoom.reduce((s, r) => s + r.bookedMs, 0);
  const openMs = byRoom.reduce((s, r) => s + r.openMs, 0);

  const meals = new Map(days.map((d) => [d, { date: d, dine_in: 0, pickup: 0, delivery: 0 }]));
  for (const o of orders) if (o.status !== 'cancelled') meals.get(o.date)![o.mode] += o.quantity;

  const places = new Map(days.map((d) => [d, { date: d, capacity: 0, booked: 0, fillRate: 0 }]));
  for (const s of sessions) places.get(s.date)!.capacity += s.capacity;
  for (const b of childcare) {
    const day = places.get(shanghaiDay(b.start));
    if (day) day.booked += 1;
  }
  for (const p of places.values()) p.fillRate = ratio(p.booked, p.capacity);
  const capacity = [...places.values()].reduce((s, p) => s + p.capacity, 0);
  const booked = [...places.values()].reduce((s, p) => s + p.booked, 0);

  const volunteerMinutes = new Map(days.map((d) => [d, 0]));
  for (const a of assignments) {
    const day = shanghaiDay(a.start);
    volunteerMinutes.set(day, (volunteerMinutes.get(day) ?? 0) + (a.approvedMinutes ?? 0));
  }

  const ratings = new Map(days.map((d) => [d, { date: d, good: 0, bad: 0 }]));
  for (const r of [...mealRatings.map((m) => ({ day: m.date, good: m.good })), ...roomRatings]) {
    const day = ratings.get(r.day);
    if (day) day[r.good ? 'good' : 'bad'] += 1;
  }
  const ratingDays = [...ratings.values()];
  const mealDays = [...meals.values()];

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
    childcare: { capacity, booked, fillRate: ratio(booked, capacity), byDay: [...places.values()] },
    volunteers: {
      hours: hours([...volunteerMinutes.values()].reduce((s, m) => s + m, 0) * 60_000),
      byDay: days.map((d) => ({ date: d, hours: hours((volunteerMinutes.get(d) ?? 0) * 60_000) })),
    },
    visits: { month: visits.month, elders: visits.elders, visited: visits.visited, rate: visits.rate },
    ratings: { good: ratingDays.reduce((s, d) => s + d.good, 0), bad: ratingDays.reduce((s, d) => s + d.bad, 0), byDay: ratingDays },
  };
}
