import { trusted, type Types } from 'mongoose';
import { dayjs } from '../../models/calendar.js';
import { Facility } from '../../models/facility.js';
import { MealMenu } from '../../models/mealMenu.js';
import { MealOrder } from '../../models/mealOrder.js';
import { MealRating } from '../../models/mealRating.js';

export const NO_TIER = '无补贴（全价）';

export interface SubsidyReport {
  month: string;
  tiers: Array<{ tier: string; orders: number; portions: number; subsidy: number; paid: number; deliveryFees: number }>;
  totals: { orders: number; portions: number; subsidy: number; paid: number; deliveryFees: number };
}

/**
 * Subsidy totals of a community's month per tier, in fen: every order not cancelled (a meal
 * cooked for an elder who was not at home was still cooked and subsidised).
 */
export async function mealSubsidyReport(community: Types.ObjectId, month: string): Promise<SubsidyReport> {
  const first = `${month}-01`;
  const last = dayjs.utc(first).endOf('month').format('YYYY-MM-DD');
  const orders = await MealOrder.find({ community, date: trusted({ $gte: first, $lte: last }) })
    .select('status quantity breakdown').lean();
  const rows = new Map<string, SubsidyReport['tiers'][number]>();
  const totals = { orders: 0, portions: 0, subsidy: 0, paid: 0, deliveryFees: 0 };
  for (const o of orders) {
    if (o.status === 'cancelled') continue;
    const tier = o.breakdown.tier ?? NO_TIER;
    const row = rows.get(tier) ?? { tier, orders: 0, portions: 0, subsidy: 0, paid: 0, deliveryFees: 0 };
    for (const target of [row, totals]) {
      target.orders += 1;
      target.portions += o.quantity;
      target.subsidy += o.breakdown.subsidy;
      target.paid += o.breakdown.toPay;
      target.deliveryFees += o.breakdown.deliveryFee;
    }
    rows.set(tier, row);
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
