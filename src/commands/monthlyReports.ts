import { trusted, type Types } from 'mongoose';
import { atShanghai, dayjs } from '../../models/calendar.js';
import { ChildcareBooking } from '../../models/childcareBooking.js';
import { Community } from '../../models/community.js';
import { Facility } from '../../models/facility.js';
import { MealOrder, type MealMode } from '../../models/mealOrder.js';
import { MonthlyReport, type MonthlyReportDoc } from '../../models/monthlyReport.js';
import { openMinutesOn } from '../../models/openingHours.js';
import { Person } from '../../models/person.js';
import { Room } from '../../models/room.js';
import { RoomBooking } from '../../models/roomBooking.js';
import { VolunteerAssignment } from '../../models/volunteerAssignment.js';
import { isDuplicateKey } from '../storage/mongo.js';
import { BOOKED_ROOM_STATUSES } from './dailyFigures.js';
import { mealRatingReport, mealSubsidyReport, type SubsidyReport } from './mealReports.js';
import { notifyMany, type NotificationRequest } from './notify.js';
import { currentMonth } from './wellness.js';

export { BOOKED_ROOM_STATUSES };
/** Childcare bookings the child came to. */
export const ATTENDED_CHILDCARE_STATUSES = ['dropped_off', 'picked_up'] as const;

export interface MonthlyFigures {
  month: string;
  meals: {
    /** Orders and portions not cancelled. */
    orders: number;
    portions: number;
    /** Portions handed over: every dine-in and pickup portion, and deliveries not marked "not at home". */
    served: number;
    byMode: Record<MealMode, number>;
    notAtHome: number;
  };
  /** Fen, as mealSubsidyReport. */
  subsidies: SubsidyReport['totals'] & { tiers: SubsidyReport['tiers'] };
  childcare: { attendances: number; children: number; hours: number };
  rooms: {
    bookings: number;
    bookedHours: number;
    openHours: number;
    /** bookedHours ÷ openHours, 0–1 (3 decimals; 0 with no open hours). */
    utilisation: number;
    byRoom: Array<{ room: string; name: string; bookedHours: number; openHours: number; utilisation: number }>;
  };
  volunteers: { assignments: number; volunteers: number; hours: number };
  ratings: { good: number; bad: number; byKitchen: Array<{ kitchen: string; name: string; good: number; bad: number }> };
}

/** The month's first and last Shanghai day, and its bounds as instants [start, end). */
export function monthBounds(month: string) {
  const first = `${month}-01`;
  const next = dayjs.utc(first).add(1, 'month').format('YYYY-MM-DD');
  return {
    first,
    last: dayjs.utc(next).subtract(1, 'day').format('YYYY-MM-DD'),
    days: dayjs.utc(next).diff(dayjs.utc(first), 'day'),
    start: atShanghai(first, '00:00'),
    end: atShanghai(next, '00:00'),
  };
}

export const previousMonth = (now: Date) => dayjs.utc(`${currentMonth(now)}-01`).subtract(1, 'month').format('YYYY-MM');

const hours = (ms: number) => Math.round((ms / 3_600_000) * 10) / 10;
const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 1000) / 1000 : 0);

/**
 * The month's figures of a community, from the records as they stand (a month not over counts
 * what is booked so far). A few bounded reads — the month's meal orders (twice: the subsidy
 * report is reused), ratings, childcare bookings, room bookings, rooms and approved volunteer
 * hours — summed in memory (no $lookup or $group on FerretDB v1).
 */
export async function monthlyStatistics(community: Types.ObjectId, month: string): Promise<MonthlyFigures> {
  const { first, last, days, start, end } = monthBounds(month);
  const facilities = await Facility.find({ community }).select('kind name').lean();
  const kitchens = facilities.filter((f) => f.kind === 'kitchen').map((f) => f._id);
  const centres = facilities.filter((f) => f.kind === 'community_centre').map((f) => f._id);
  const [orders, subsidies, ratings, childcare, bookings, rooms, assignments] = await Promise.all([
    MealOrder.find({ community, date: trusted({ $gte: first, $lte: last }) }).select('status mode quantity').lean(),
    mealSubsidyReport(community, month),
    kitchens.length ? mealRatingReport(kitchens, first, last) : Promise.resolve({ kitchens: [] }),
    ChildcareBooking.find({ community, month, status: trusted({ $in: [...ATTENDED_CHILDCARE_STATUSES] }) }).select('child start end').lean(),
    RoomBooking.find({ community, start: trusted({ $gte: start, $lt: end }), status: trusted({ $in: [...BOOKED_ROOM_STATUSES] }) })
      .select('room start end').lean(),
    centres.length ? Room.find({ facility: trusted({ $in: centres }) }).select('name openingHours').lean() : Promise.resolve([]),
    VolunteerAssignment.find({ community, status: 'approved', start: trusted({ $gte: start, $lt: end }) }).select('volunteer approvedMinutes').lean(),
  ]);

  const meals: MonthlyFigures['meals'] = { orders: 0, portions: 0, served: 0, byMode: { dine_in: 0, pickup: 0, delivery: 0 }, notAtHome: 0 };
  for (const o of orders) {
    if (o.status === 'cancelled') continue;
    meals.orders += 1;
    meals.portions += o.quantity;
    meals.byMode[o.mode] += o.quantity;
    if (o.status === 'not_at_home') meals.notAtHome += o.quantity;
    else meals.served += o.quantity;
  }

  // Open hours of each room over the month's days (weekday by weekday, Shanghai).
  const weekdays = Array.from({ length: days }, (_, i) => dayjs.utc(first).add(i, 'day').day());
  const booked = new Map<string, number>();
  for (const b of bookings) booked.set(String(b.room), (booked.get(String(b.room)) ?? 0) + (b.end.getTime() - b.start.getTime()));
  const byRoom = rooms.map((r) => {
    const openMs = weekdays.reduce<number>((sum, wd) => sum + openMinutesOn(r.openingHours, wd) * 60_000, 0);
    const bookedMs = booked.get(String(r._id)) ?? 0;
    return { room: String(r._id), name: r.name, bookedHours: hours(bookedMs), openHours: hours(openMs), utilisation: ratio(bookedMs, openMs), bookedMs, openMs };
  }).sort((a, b) => a.name.localeCompare(b.name, 'zh'));
  const bookedMs = byRoom.reduce((s, r) => s + r.bookedMs, 0);
  const openMs = byRoom.reduce((s, r) => s + r.openMs, 0);

  return {
    month,
    meals,
    subsidies: { ...subsidies.totals, tiers: subsidies.tiers },
    childcare: {
      attendances: childcare.length,
      children: new Set(childcare.map((b) => String(b.child))).size,
      hours: hours(childcare.reduce((s, b) => s + (b.end.getTime() - b.start.getTime()), 0)),
    },
    rooms: {
      bookings: bookings.length,
      bookedHours: hours(bookedMs),
      openHours: hours(openMs),
      utilisation: ratio(bookedMs, openMs),
      byRoom: byRoom.map(({ bookedMs: _b, openMs: _o, ...r }) => r),
    },
    volunteers: {
      assignments: assignments.length,
      volunteers: new Set(assignments.map((a) => String(a.volunteer))).size,
      hours: hours(assignments.reduce((s, a) => s + (a.approvedMinutes ?? 0), 0) * 60_000),
    },
    ratings: {
      good: ratings.kitchens.reduce((s, k) => s + k.good, 0),
      bad: ratings.kitchens.reduce((s, k) => s + k.bad, 0),
      byKitchen: ratings.kitchens.map((k) => ({ kitchen: k.kitchen, name: k.name, good: k.good, bad: k.bad })),
    },
  };
}

export function findMonthlyReport(community: Types.ObjectId, month: string): Promise<MonthlyReportDoc | null> {
  return MonthlyReport.findOne({ community, month });
}

/**
 * Computes and stores the report of a community's month. A month over is stored final once:
 * the unique (community, month) insert decides, and a report generated earlier while the
 * month was running is replaced by the final one. A month not over (on demand) is stored
 * `partial` and replaced at every request. Returns the report and whether it is new or updated.
 */
export async function generateMonthlyReport(community: Types.ObjectId, month: string, now = new Date()): Promise<{ report: MonthlyReportDoc; written: boolean }> {
  const existing = await findMonthlyReport(community, month);
  if (existing && !existing.partial) return { report: existing, written: false };
  const partial = now < monthBounds(month).end;
  const figures = await monthlyStatistics(community, month);
  const fields = { partial, generatedAt: now, figures };
  if (existing) {
    // Only over a partial one: a final report is never overwritten.
    const { modifiedCount } = await MonthlyReport.updateOne({ _id: existing._id, partial: true }, { $set: fields });
    return { report: (await findMonthlyReport(community, month))!, written: modifiedCount > 0 };
  }
  try {
    return { report: await MonthlyReport.create({ community, month, ...fields }), written: true };
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    // Generated at the same moment elsewhere: that one stands.
    return { report: (await findMonthlyReport(community, month))!, written: false };
  }
}

const yuan = (fen: number) => `${Number((fen / 100).toFixed(2))} 元`;

/** The staff message that a month's report is ready, with the headline figures. */
export function reportReadyText(f: MonthlyFigures): string {
  return `【月度统计】${f.month} 的服务统计已生成：助餐 ${f.meals.served} 份（补贴 ${yuan(f.subsidies.subsidy)}），`
    + `托育 ${f.childcare.hours} 小时，活动室使用率 ${Math.round(f.rooms.utilisation * 1000) / 10}%，`
    + `志愿服务 ${f.volunteers.hours} 小时，助餐好评 ${f.ratings.good} / 差评 ${f.ratings.bad}。详见工作台「月度统计」。`;
}

/**
 * The monthly job: the previous month's final report of every community that has none yet,
 * at most `limit` a run (the job runs again until all are done), and a message to each
 * community's staff that it is ready (`monthly-report:<community>:<month>:<person>`, once).
 */
export async function generateMonthlyReports(now: Date, limit = 50): Promise<{ month: number; generated: number; notified: number }> {
  const month = previousMonth(now);
  const [communities, done] = await Promise.all([
    Community.find().select('_id').sort({ _id: 1 }).lean(),
    MonthlyReport.find({ month, partial: false }).select('community').lean(),
  ]);
  const finished = new Set(done.map((r) => String(r.community)));
  const todo = communities.filter((c) => !finished.has(String(c._id))).slice(0, limit);
  if (!todo.length) return { month: Number(month.replace('-', '')), generated: 0, notified: 0 };
  const staff = await Person.find({
    roles: 'staff', status: 'active', 'staffScope.community': trusted({ $in: todo.map((c) => c._id) }),
  }).select('staffScope').lean();
  let generated = 0;
  const requests: NotificationRequest[] = [];
  for (const c of todo) {
    const { report, written } = await generateMonthlyReport(c._id, month, now);
    if (written) generated += 1;
    const text = reportReadyText(report.figures as MonthlyFigures);
    for (const p of staff.filter((s) => String(s.staffScope?.community) === String(c._id))) {
      requests.push({ person: p._id, key: `monthly-report:${c._id}:${month}:${p._id}`, kind: 'monthly_report_ready', text, dueAt: now });
    }
  }
  const notified = await notifyMany(requests, now);
  return { month: Number(month.replace('-', '')), generated, notified };
}
