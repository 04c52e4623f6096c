import { Types, trusted } from 'mongoose';
import { dayjs, shanghaiDay } from '../../models/calendar.js';
import { Facility, type FacilityDoc } from '../../models/facility.js';
import { MealMenu } from '../../models/mealMenu.js';
import { MealOrder, type MealMode } from '../../models/mealOrder.js';
import { Person, type DietaryNeed, type PersonFields } from '../../models/person.js';
import {
  RecurringMealOrder, isSuspended, type RecurringMealOrderDoc,
} from '../../models/recurringMealOrder.js';
import type { Meal } from '../../models/mealMenu.js';
import { AppError, BookingRuleError, ConflictError, NotFoundError } from '../errors.js';
import { mealLabel, type MealSettings } from './mealMenus.js';
import type { MealLinesDeps } from './mealLines.js';
import { cancelMealOrder, deliveryEligibility, placeMealOrder, type MealActor } from './mealOrders.js';
import { notify } from './notify.js';

const addDays = (day: string, n: number) => dayjs.utc(day).add(n, 'day').format('YYYY-MM-DD');
const weekdayOf = (day: string) => dayjs.utc(day).day();

export async function findRecurringMealOrder(id: string): Promise<RecurringMealOrderDoc> {
  const r = Types.ObjectId.isValid(id) ? await RecurringMealOrder.findById(id) : null;
  if (!r) throw NotFoundError('没有找到这份固定订餐');
  return r;
}

export interface RecurringRequest {
  meal: Meal;
  weekdays: number[];
  mode: MealMode;
  quantity: number;
  dietaryNeeds?: DietaryNeed[];
  from: string;
  until: string;
}

/**
 * A standing order of a kitchen's meal on some weekdays from `from` until `until`; the
 * orders ahead of their cut-off are placed at once, the later ones by the materialise job.
 */
export async function createRecurringMealOrder(
  settings: MealSettings,
  actor: MealActor,
  kitchen: FacilityDoc,
  person: PersonFields,
  req: RecurringRequest,
  now = new Date(),
  lines?: MealLinesDeps,
): Promise<{ recurring: RecurringMealOrderDoc; placed: number }> {
  if (req.until < req.from) throw BookingRuleError(400, 'recurring_range_invalid', '结束日期不能早于开始日期');
  if (req.until < shanghaiDay(now)) throw BookingRuleError(400, 'recurring_range_invalid', '结束日期已经过去');
  if (String(person.community) !== String(kitchen.community)) {
    throw BookingRuleError(403, 'kitchen_other_community', `「${kitchen.name}」只为本社区居民供餐，请选择您所在社区的助餐点`);
  }
  if (req.quantity > settings.maxQuantity) throw BookingRuleError(400, 'meal_quantity_exceeded', `每份订单最多 ${settings.maxQuantity} 份`);
  if (req.mode === 'delivery' && !actor.staff && !deliveryEligibility(person, now, settings).eligible) {
    throw BookingRuleError(403, 'delivery_not_eligible',
      `送餐上门仅限 ${settings.deliveryMinAge} 岁及以上或失能、残疾、独居的老人，或经社区工作人员同意；您可以选择堂食或自取`);
  }
  const recurring = await RecurringMealOrder.create({
    kitchen: kitchen._id, community: kitchen.community, bookedFor: person._id, bookedBy: actor.id,
    meal: req.meal, weekdays: [...new Set(req.weekdays)].sort(), mode: req.mode, quantity: req.quantity,
    dietaryNeeds: req.dietaryNeeds, from: req.from, until: req.until,
  });
  const { placed } = await materialise(settings, [recurring], now, lines);
  return { recurring, placed };
}

/**
 * Suspends a standing order from `from` to the day before `resumeOn` (a hospital stay);
 * ordering resumes by itself on `resumeOn`. Orders already placed in the window are
 * cancelled where their cut-off has not passed; the others are returned for staff.
 */
export async function suspendRecurringMealOrder(
  actor: MealActor,
  recurring: RecurringMealOrderDoc,
  req: { from?: string; resumeOn: string; reason?: string },
  now = new Date(),
  lines?: MealLinesDeps,
): Promise<{ recurring: RecurringMealOrderDoc; cancelled: number; pastCutoff: string[] }> {
  if (recurring.status !== 'active') throw ConflictError('这份固定订餐已结束', 'recurring_ended');
  const from = req.from ?? shanghaiDay(now);
  if (req.resumeOn <= from) throw BookingRuleError(400, 'suspension_range_invalid', '恢复日期应晚于暂停开始日期');
  await RecurringMealOrder.updateOne({ _id: recurring._id }, {
    $push: { suspensions: { from, resumeOn: req.resumeOn, reason: req.reason, by: actor.id, at: now } },
  });
  const orders = await MealOrder.find({ recurring: recurring._id, status: 'confirmed' });
  const inWindow = orders.filter((o) => o.date >= from && o.date < req.resumeOn);
  const menus = new Map((await MealMenu.find({ _id: trusted({ $in: inWindow.map((o) => o.menu) }) })).map((m) => [String(m._id), m]));
  let cancelled = 0;
  const pastCutoff: string[] = [];
  for (const order of inWindow) {
    const menu = menus.get(String(order.menu));
    if (!menu) continue;
    if (now >= menu.cutoff) {
      pastCutoff.push(String(order._id));
      continue;
    }
    await cancelMealOrder({ id: actor.id, staff: false }, order, menu, req.reason ?? '固定订餐暂停', now, lines);
    cancelled += 1;
  }
  return { recurring: (await RecurringMealOrder.findById(recurring._id))!, cancelled, pastCutoff };
}

/** Ends a standing order (orders already placed stay; cancel them one by one if needed). */
export async function endRecurringMealOrder(recurring: RecurringMealOrderDoc): Promise<RecurringMealOrderDoc> {
  recurring.status = 'ended';
  await recurring.save();
  return recurring;
}

export const listRecurringMealOrders = (person: PersonFields) => RecurringMealOrder.find({ bookedFor: person._id }).sort({ createdAt: -1 });

/**
 * The job: places the orders of active standing orders for the menus of the next
 * `settings.recurringDaysAhead` days (today included) whose cut-off has not passed. A day
 * is skipped when suspended, when an order of this standing order already exists for the
 * menu (even cancelled: the resident cancelled that one), or when it was skipped before
 * (sold out, ordered by hand): so re-running places nothing twice. Reads: the standing
 * orders, their menus, their existing orders, persons and kitchens, one query each.
 */
export async function materialiseRecurringOrders(
  settings: MealSettings,
  now = new Date(),
  limit = 500,
  lines?: MealLinesDeps,
): Promise<{ placed: number; skipped: number }> {
  const today = shanghaiDay(now);
  await RecurringMealOrder.updateMany({ status: 'active', until: trusted({ $lt: today }) }, { $set: { status: 'ended' } });
  const recurring = await RecurringMealOrder.find({ status: 'active', until: trusted({ $gte: today }) }).sort({ _id: 1 }).limit(limit);
  return materialise(settings, recurring, now, lines);
}

async function materialise(
  settings: MealSettings,
  recurring: RecurringMealOrderDoc[],
  now: Date,
  lines?: MealLinesDeps,
): Promise<{ placed: number; skipped: number }> {
  const today = shanghaiDay(now);
  const days = Array.from({ length: settings.recurringDaysAhead + 1 }, (_, i) => addDays(today, i));
  const active = recurring.filter((r) => r.status === 'active' && r.from <= days.at(-1)! && r.until >= today);
  if (active.length === 0) return { placed: 0, skipped: 0 };
  const ids = (xs: Types.ObjectId[]) => [...new Map(xs.map((x) => [String(x), x])).values()];
  const [menus, existing, persons, kitchens] = await Promise.all([
    MealMenu.find({ kitchen: trusted({ $in: ids(active.map((r) => r.kitchen)) }), date: trusted({ $in: days }), published: true }),
    MealOrder.find({ recurring: trusted({ $in: active.map((r) => r._id) }), date: trusted({ $in: days }) }).select('recurring menu').lean(),
    Person.find({ _id: trusted({ $in: ids(active.map((r) => r.bookedFor)) }) }),
    Facility.find({ _id: trusted({ $in: ids(active.map((r) => r.kitchen)) }) }),
  ]);
  const done = new Set(existing.map((o) => `${o.recurring}:${o.menu}`));
  const personById = new Map(persons.map((p) => [String(p._id), p]));
  const kitchenById = new Map(kitchens.map((k) => [String(k._id), k]));
  let placed = 0;
  let skipped = 0;
  for (const r of active) {
    const person = personById.get(String(r.bookedFor));
    const kitchen = kitchenById.get(String(r.kitchen));
    if (!person || person.status !== 'active' || !kitchen) continue;
    const skippedMenus = new Set(r.skippedMenus.map((s) => String(s.menu)));
    const due = menus.filter((m) =>
      String(m.kitchen) === String(r.kitchen) && m.meal === r.meal
      && m.date >= r.from && m.date <= r.until && r.weekdays.includes(weekdayOf(m.date))
      && !isSuspended(r, m.date) && m.cutoff > now
      && !done.has(`${r._id}:${m._id}`) && !skippedMenus.has(String(m._id)));
    for (const menu of due) {
      try {
        await placeMealOrder(settings, { id: r.bookedBy, staff: false }, menu, kitchen, person, {
          mode: r.mode, quantity: r.quantity, dietaryNeeds: r.dietaryNeeds ?? undefined,
        }, now, { recurring: r._id, lines });
        placed += 1;
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500) throw err;
        skipped += 1;
        await RecurringMealOrder.updateOne({ _id: r._id }, { $push: { skippedMenus: { menu: menu._id, reason: err.code } } });
        if (err.code !== 'meal_already_ordered') {
          await notify(person._id, `meal-recurring:${r._id}:${menu._id}:skipped`, 'meal_recurring_skipped',
            `您的固定订餐${mealLabel(menu)}没能下单：${err.message}`, now);
        }
      }
    }
  }
  return { placed, skipped };
}
