import { trusted, type Types } from 'mongoose';
import { atShanghai, shanghaiDay } from '../../models/calendar.js';
import { Facility } from '../../models/facility.js';
import { MEAL_SERVED_FROM, type Meal } from '../../models/mealMenu.js';
import { MealOrder, type MealMode } from '../../models/mealOrder.js';
import { hhmm } from '../booking/time.js';
import { EVENING_AND_HOUR_BEFORE, enqueueReminders, withdrawNotifications } from '../outbox/reminders.js';

/** Meals starting within this much of now get their reminders enqueued. */
const HORIZON_MS = 36 * 3_600_000;

/** When a meal starts (is served from): the reminders' reference and their staleness. */
export const mealStart = (order: { date: string; meal: string }) => atShanghai(order.date, MEAL_SERVED_FROM[order.meal as Meal]);

/**
 * The reminders of an order are keyed by its mode (`meal-order:<id>:<mode>:reminder-…`): a
 * change of mode withdraws the old mode's and the next run makes the new ones.
 */
const keyBase = (order: { _id: Types.ObjectId; mode: string }) => `meal-order:${order._id}:${order.mode}`;

const PART_OF_DAY: Record<Meal, string> = { lunch: '中午', dinner: '傍晚' };

/** The text of a reminder: dine-in and pickup are asked to come on time, delivery to stay at home. */
export function mealReminderText(order: { mode: MealMode; meal: Meal; quantity: number }, kitchenName: string, start: Date, suffix: string): string {
  const when = suffix === 'reminder-eve' ? '明天' : '今天';
  const meal = order.meal === 'lunch' ? '午餐' : '晚餐';
  const portions = order.quantity > 1 ? ` ${order.quantity} 份` : '';
  if (order.mode === 'delivery') {
    return `提醒：${when}${PART_OF_DAY[order.meal]}送餐上门，请在家等候（${meal}${portions}，约 ${hhmm(start)} 起送达）。如临时外出，请提前告知助餐点。`;
  }
  const verb = order.mode === 'dine_in' ? '用餐' : '取餐';
  return `提醒：${when}${meal}${portions}，请按时到「${kitchenName}」${verb}（${hhmm(start)} 起供应）。`;
}

/**
 * Enqueues the reminders of confirmed meal orders whose meal starts within 36 hours: the
 * evening before and one hour before the serving time (MEAL_SERVED_FROM), to the resident,
 * each stale once the meal starts. Two reads (the orders of the days concerned, their
 * kitchens' names); repeated runs add nothing (unique keys).
 */
export async function enqueueMealReminders(rules: { eveningTime: string }, now: Date): Promise<{ orders: number; enqueued: number }> {
  const horizon = new Date(now.getTime() + HORIZON_MS);
  const candidates = await MealOrder.find({
    status: 'confirmed',
    date: trusted({ $gte: shanghaiDay(now), $lte: shanghaiDay(horizon) }),
  }, { kitchen: 1, bookedFor: 1, date: 1, meal: 1, mode: 1, quantity: 1, createdAt: 1 }).lean();
  const orders = candidates.filter((o) => {
    const start = mealStart(o);
    return start > now && start <= horizon;
  });
  if (!orders.length) return { orders: 0, enqueued: 0 };
  const kitchens = await Facility.find({ _id: trusted({ $in: [...new Set(orders.map((o) => String(o.kitchen)))] }) }, { name: 1 }).lean();
  const names = new Map(kitchens.map((k) => [String(k._id), k.name]));
  const { enqueued } = await enqueueReminders(orders.map((o) => {
    const start = mealStart(o);
    return {
      person: o.bookedFor,
      keyBase: keyBase(o),
      kind: 'meal_order_reminder',
      start,
      bookedAt: o.createdAt ?? now,
      text: (suffix: string) => mealReminderText(o, names.get(String(o.kitchen)) ?? '助餐点', start, suffix),
    };
  }), EVENING_AND_HOUR_BEFORE(rules.eveningTime), now);
  return { orders: orders.length, enqueued };
}

/** An order cancelled (or moved to another mode) is not reminded of as it was. */
export function withdrawMealReminders(order: { _id: Types.ObjectId; bookedFor: Types.ObjectId; mode: string }, now = new Date()): Promise<number> {
  return withdrawNotifications(order.bookedFor, `${keyBase(order)}:reminder-`, now);
}
