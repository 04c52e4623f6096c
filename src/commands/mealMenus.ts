import { Types, trusted } from 'mongoose';
import { CapacityClaim } from '../../models/capacityClaim.js';
import { dayjs, shanghaiDay } from '../../models/calendar.js';
import { Facility, type FacilityDoc } from '../../models/facility.js';
import { MEAL_LABELS, MealMenu, mealCutoff, type Meal, type MealMenuDoc } from '../../models/mealMenu.js';
import type { DietaryNeed } from '../../models/person.js';
import { SubsidyRule, type SubsidyRuleDoc, type SubsidyTier } from '../../models/subsidyRule.js';
import type { AuthUser } from '../auth/user.js';
import { hhmm } from '../booking/time.js';
import type { Config } from '../config.js';
import { BookingRuleError, NotFoundError } from '../errors.js';
import { isDuplicateKey } from '../storage/mongo.js';

/** The meal rules from configuration (cut-offs, quantities, delivery age, recurring horizon). */
export type MealSettings = Config['meals'];

/** The CapacityClaim key of a menu's portions (slot = place number 0 … capacity-1). */
export const mealKey = (menuId: Types.ObjectId | string) => `meal:${menuId}`;
/** One order per person and meal: slot 0 under this key. */
export const mealPersonKey = (menuId: Types.ObjectId | string, personId: Types.ObjectId | string) => `meal-person:${menuId}:${personId}`;

/** '3月5日午餐' for messages. */
export const mealLabel = (menu: { date: string; meal: string }) =>
  `${dayjs.utc(menu.date).format('M月D日')}${MEAL_LABELS[menu.meal as Meal] ?? menu.meal}`;

export async function findKitchen(id: string): Promise<FacilityDoc> {
  const kitchen = Types.ObjectId.isValid(id) ? await Facility.findById(id) : null;
  if (!kitchen || kitchen.kind !== 'kitchen') throw NotFoundError('没有找到这个助餐点');
  return kitchen;
}

/** A menu with its kitchen (two `_id` reads); 404 when either is missing. */
export async function findMenu(id: string): Promise<{ menu: MealMenuDoc; kitchen: FacilityDoc }> {
  const menu = Types.ObjectId.isValid(id) ? await MealMenu.findById(id) : null;
  const kitchen = menu ? await Facility.findById(menu.kitchen) : null;
  if (!menu || !kitchen) throw NotFoundError('没有找到这份菜单');
  return { menu, kitchen };
}

/** The kitchens of a community (for residents choosing where to eat). */
export function listKitchens(community: Types.ObjectId | string): Promise<FacilityDoc[]> {
  return Facility.find({ community, kind: 'kitchen' }).sort({ name: 1 });
}

export interface KitchenMealSettings {
  serviceArea?: { grids?: string[]; buildings?: string[] };
  mealCutoffs?: { lunch?: string | null; dinner?: string | null };
}

/** Staff set the grids and buildings a kitchen delivers to, and its own cut-offs. */
export async function updateKitchenMealSettings(kitchen: FacilityDoc, settings: KitchenMealSettings): Promise<FacilityDoc> {
  if (settings.serviceArea) {
    if (settings.serviceArea.grids) kitchen.set('serviceArea.grids', settings.serviceArea.grids);
    if (settings.serviceArea.buildings) kitchen.set('serviceArea.buildings', settings.serviceArea.buildings);
  }
  for (const meal of ['lunch', 'dinner'] as const) {
    const value = settings.mealCutoffs?.[meal];
    if (value !== undefined) kitchen.set(`mealCutoffs.${meal}`, value ?? undefined);
  }
  await kitchen.save();
  return kitchen;
}

/** The cut-off time of day of a kitchen's meal: its own, or the configured default. */
export function cutoffTime(kitchen: FacilityDoc, meal: Meal, settings: MealSettings): string {
  return kitchen.mealCutoffs?.[meal] || settings.cutoffs[meal];
}

export interface MenuRequest {
  date: string;
  meal: Meal;
  dishes: Array<{ name: string; allergens?: string[]; suitableFor?: DietaryNeed[] }>;
  /** Fen. */
  price: number;
  capacity: number;
}

/**
 * Publishes (or republishes) a kitchen's menu for a day and meal, before its cut-off. Orders
 * already placed keep their price. Capacity may go up at any time; it may go down to the
 * portions already ordered but not below (see reduceCapacity).
 */
export async function publishMenu(
  settings: MealSettings,
  kitchen: FacilityDoc,
  req: MenuRequest,
  now = new Date(),
): Promise<{ menu: MealMenuDoc; created: boolean }> {
  const cutoff = mealCutoff(req.date, req.meal, { ...settings.cutoffs, [req.meal]: cutoffTime(kitchen, req.meal, settings) });
  if (cutoff <= now) {
    throw BookingRuleError(400, 'menu_cutoff_passed', `${mealLabel(req)}的订餐截止时间（${hhmm(cutoff)}）已过，不能再发布或修改菜单`);
  }
  const dishes = req.dishes.map((d) => ({ name: d.name, allergens: d.allergens ?? [], suitableFor: d.suitableFor ?? [] }));
  const existing = await MealMenu.findOne({ kitchen: kitchen._id, date: req.date, meal: req.meal });
  if (!existing) {
    try {
      const menu = await MealMenu.create({
        kitchen: kitchen._id, date: req.date, meal: req.meal, dishes, price: req.price,
        capacity: req.capacity, remaining: req.capacity, cutoff, published: true,
      });
      return { menu, created: true };
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err;
      // Two staff published at once: the other one's menu is updated below.
    }
  }
  const menu = existing ?? (await MealMenu.findOne({ kitchen: kitchen._id, date: req.date, meal: req.meal }))!;
  const key = mealKey(menu._id);
  if (req.capacity < menu.capacity) await reduceCapacity(menu, req.capacity);
  else if (req.capacity > menu.capacity) {
    // Places the menu had blocked when it was reduced become free again.
    await CapacityClaim.deleteMany({ key, holder: menu._id, slot: trusted({ $lt: req.capacity }) });
  }
  const delta = req.capacity - menu.capacity;
  menu.set({ dishes, price: req.price, capacity: req.capacity, cutoff, published: true, sheetStamp: String(new Types.ObjectId()), remaining: Math.max(0, Math.min(req.capacity, menu.remaining + delta)) });
  await menu.save();
  return { menu, created: false };
}

/**
 * Lowers a menu's capacity without transactions. Every free place in [new, old) is first
 * blocked by a claim of the menu itself, so no racing order can take it; then each order
 * holding a place up there takes a free place below (a plain claim insert) and hands its old
 * claim over to the menu (a one-document update nobody else writes). 409 when the orders
 * do not fit: the blocks this call made are removed and nothing else is lost.
 */
async function reduceCapacity(menu: MealMenuDoc, capacity: number): Promise<void> {
  const key = mealKey(menu._id);
  const refuse = () => BookingRuleError(409, 'capacity_below_orders', `已订出的份数超过 ${capacity} 份，不能减少到这个数；请先处理这些订单`);
  const ordered = await CapacityClaim.countDocuments({ key, holder: trusted({ $ne: menu._id }) });
  if (ordered > capacity) throw refuse();
  const blocked: number[] = [];
  for (let slot = capacity; slot < menu.capacity; slot += 1) {
    try {
      await CapacityClaim.create({ key, slot, holder: menu._id });
      blocked.push(slot);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }
  const above = await CapacityClaim.find({
    key, slot: trusted({ $gte: capacity, $lt: menu.capacity }), holder: trusted({ $ne: menu._id }),
  });
  for (const claim of above) {
    let moved = false;
    for (let slot = 0; slot < capacity && !moved; slot += 1) {
      try {
        await CapacityClaim.create({ key, slot, holder: claim.holder });
        moved = true;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
    }
    if (!moved) {
      await CapacityClaim.deleteMany({ key, holder: menu._id, slot: trusted({ $in: blocked }) });
      throw refuse();
    }
    await CapacityClaim.updateOne({ _id: claim._id }, { $set: { holder: menu._id } });
  }
}

/** Exact portions left: capacity minus the live places claimed under the menu's key. */
export async function portionsLeft(menu: MealMenuDoc): Promise<number> {
  const taken = await CapacityClaim.countDocuments({ key: mealKey(menu._id), slot: trusted({ $lt: menu.capacity }) });
  return Math.max(0, menu.capacity - taken);
}

export interface MenuListQuery {
  kitchen?: string;
  from?: string;
  to?: string;
}

/** Published menus of the caller's community's kitchens (or one kitchen) for a range of days (default: today + 6). */
export async function listMenus(user: AuthUser, q: MenuListQuery, now = new Date()): Promise<Array<{ menu: MealMenuDoc; kitchen: FacilityDoc }>> {
  const from = q.from ?? shanghaiDay(now);
  const to = q.to ?? dayjs.utc(from).add(6, 'day').format('YYYY-MM-DD');
  const community = user.person.community ?? user.person.staffScope?.community;
  const kitchens = q.kitchen
    ? [await findKitchen(q.kitchen)]
    : community ? await listKitchens(community) : [];
  if (kitchens.length === 0) return [];
  const byId = new Map(kitchens.map((k) => [String(k._id), k]));
  // Equality on (kitchen, date) per day instead of `$in` + a date range: FerretDB v1 pushes
  // equality down but filters ranges and `$in` in Go over every menu ever published, so the
  // list grew with history. A range longer than a month keeps the one ranged read.
  const days: string[] = [];
  for (let d = dayjs.utc(from); !d.isAfter(dayjs.utc(to)) && days.length <= 31; d = d.add(1, 'day')) days.push(d.format('YYYY-MM-DD'));
  const menus = days.length > 31
    ? await MealMenu.find({ kitchen: trusted({ $in: kitchens.map((k) => k._id) }), date: trusted({ $gte: from, $lte: to }), published: true })
    : (await Promise.all(kitchens.flatMap((k) => days.map((date) => MealMenu.find({ kitchen: k._id, date, published: true }))))).flat();
  menus.sort((a, b) => a.date.localeCompare(b.date) || b.meal.localeCompare(a.meal));
  return menus.map((menu) => ({ menu, kitchen: byId.get(String(menu.kitchen))! }));
}

/* ---------------------------------------------------------------- subsidy rules */

export const findSubsidyRule = (community: Types.ObjectId | string) => SubsidyRule.findOne({ community });

/** The admin sets a community's subsidy tiers and delivery fee (one rule per community). */
export async function setSubsidyRule(
  community: Types.ObjectId,
  req: { tiers: SubsidyTier[]; deliveryFee: number },
): Promise<SubsidyRuleDoc> {
  const rule = (await SubsidyRule.findOne({ community })) ?? new SubsidyRule({ community });
  rule.set({ tiers: req.tiers, deliveryFee: req.deliveryFee });
  await rule.save();
  return rule;
}
