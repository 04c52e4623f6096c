import { trusted, type Types } from 'mongoose';
import { dayjs } from '../../models/calendar.js';
import { Facility } from '../../models/facility.js';
import { MealMenu } from '../../models/mealMenu.js';
import { MealRating } from '../../models/mealRating.js';
import { NO_TIER, readDailyFigures } from './dailyFigures.js';

export { NO_TIER };

export interface SubsidyReport {
  month: string;
  tiers: Array<{ tier: string; orders: number; portions: number; subsidy: number; paid: number; deliveryFees: number }>;
  totals: { orders: number; portions: number; subsidy: number; paid: number; deliveryFees: number };
}

/**
 * Subsidy totals of a community's month per tier, in fen: every order not cancelled (a meal
 * cooked for an elder who was not at home was still cooked and subsidised). Summed from the
 * month's days of the per-day read model (readDailyFigures), not from the month's orders.
 */
export async function mealSubsidyReport(community: Types.ObjectId, month: string): Promise<SubsidyReport> {
  const first = `${month}-01`;
  const days = Array.from({ length: dayjs.utc(first).daysInMonth() }, (_, i) => dayjs.utc(first).add(i, 'day').format('YYYY-MM-DD'));
  const rows = new Map<string, SubsidyReport['tiers'][number]>();
  const totals = { orders: 0, portions: 0, subsidy: 0, paid: 0, deliveryFees: 0 };
  for (const day of await readDailyFigures(community, days)) {
    for (const t of day.subsidies) {
      const row = rows.get(t.tier) ?? { tier: t.tier, orders: 0, portions: 0, subsidy: 0, paid: 0, deliveryFees: 0 };
      for (const target of [row, totals]) {
        target.orders += t.orders;
        target.portions += t.portions;
        target.subsidy += t.subsidy;
        target.paid += t.paid;
        target.deliveryFees += t.deliveryFees;
      }
      rows.set(t.tier, row);
    }
  }
  return { month, tiers: [...rows.values()].sort((a, b) => b.subsidy - a.subsidy || a.tier.localeCompare(b.tier, 'zh')), totals };
}

export interface RatingReport {
  from: string;
  to: string;
  kitchens: Array<{
    kitchen: string;
    name: string;
    good: number;
    bad: number;
    dishes: Array<{ name: string; good: number; bad: number }>;
    /** The latest comments (at most 20), newest first. */
    comments: Array<{ date: string; good: boolean; comment: string }>;
  }>;
}

/**
 * 好差评 per kitchen and dish over a range of days. A dish the resident did not rate on its
 * own takes the meal's rating.
 */
export async function mealRatingReport(kitchens: Types.ObjectId[], from: string, to: string): Promise<RatingReport> {
  const [ratings, facilities] = await Promise.all([
    MealRating.find({ kitchen: trusted({ $in: kitchens }), date: trusted({ $gte: from, $lte: to }) }).sort({ createdAt: -1 }).lean(),
    Facility.find({ _id: trusted({ $in: kitchens }) }).select('name').lean(),
  ]);
  const menus = ratings.length
    ? await MealMenu.find({ _id: trusted({ $in: [...new Set(ratings.map((r) => String(r.menu)))] }) }).select('dishes').lean()
    : [];
  const dishesOf = new Map(menus.map((m) => [String(m._id), m.dishes.map((d) => d.name)]));
  return {
    from,
    to,
    kitchens: facilities.map((k) => {
      const mine = ratings.filter((r) => String(r.kitchen) === String(k._id));
      const dishes = new Map<string, { name: string; good: number; bad: number }>();
      for (const r of mine) {
        const own = new Map(r.dishes.map((d) => [d.name, d.good]));
        for (const name of dishesOf.get(String(r.menu)) ?? []) {
          const good = own.get(name) ?? r.good;
          const row = dishes.get(name) ?? { name, good: 0, bad: 0 };
          if (good) row.good += 1;
          else row.bad += 1;
          dishes.set(name, row);
        }
      }
      return {
        kitchen: String(k._id),
        name: k.name,
        good: mine.filter((r) => r.good).length,
        bad: mine.filter((r) => !r.good).length,
        dishes: [...dishes.values()].sort((a, b) => b.good + b.bad - (a.good + a.bad) || a.name.localeCompare(b.name, 'zh')),
        comments: mine.filter((r) => r.comment).slice(0, 20).map((r) => ({ date: r.date, good: r.good, comment: r.comment! })),
      };
    }),
  };
}
