import type { Types } from 'mongoose';
import { MealOrder, type MealMode } from '../../models/mealOrder.js';
import type { MealMenuDoc } from '../../models/mealMenu.js';
import type { FacilityDoc } from '../../models/facility.js';
import { AppError, MealAlreadyOrderedError, MealSoldOutError } from '../errors.js';
import { mealLabel, portionsLeft, type MealSettings } from './mealMenus.js';
import { deliveryEligibility, mealBreakdown, type Breakdown } from './mealOrders.js';
import { atShanghai } from '../../models/calendar.js';
import { ageOn, derivedTags, type PersonFields } from '../../models/person.js';
import { SubsidyRule } from '../../models/subsidyRule.js';

/**
 * The refusals of placeMealOrder that quoteMealOrder does not raise (one order per person and
 * meal; portions left), checked without claiming anything: the bot runs them when it shows
 * the summary, so a person is told before 确认, not after (issue 20). The claims in
 * placeMealOrder stay the rule; this is the same rule read early, and a race can still lose.
 */
export async function mealOrderBlocker(
  menu: MealMenuDoc,
  kitchen: FacilityDoc,
  personId: Types.ObjectId | string,
  quantity: number,
): Promise<AppError | undefined> {
  if (await MealOrder.exists({ menu: menu._id, bookedFor: personId, status: 'confirmed' })) return MealAlreadyOrderedError();
  if ((await portionsLeft(menu)) < quantity) return MealSoldOutError(`「${kitchen.name}」${mealLabel(menu)}`);
  return undefined;
}

/** Refusals the person can get round by choosing another way of eating (堂食 / 自取). */
export const MODE_REFUSALS: ReadonlySet<string> = new Set(['delivery_not_eligible', 'outside_delivery_area']);
/** Refusals the person can get round only with another day or meal. */
export const DAY_REFUSALS: ReadonlySet<string> = new Set(['meal_cutoff_passed', 'meal_sold_out', 'meal_already_ordered', 'meal_not_orderable']);

/**
 * What one meal costs this person (多少钱 / 有补贴吗), by the same breakdown an order records
 * (mealBreakdown: the first portion at the subsidy tier's price, delivery fee for 送餐上门),
 * whether or not ordering is still open: a price question is no order.
 */
export async function mealPriceFor(
  settings: MealSettings,
  menu: MealMenuDoc,
  kitchen: FacilityDoc,
  person: PersonFields,
  mode: MealMode,
  quantity = 1,
): Promise<{ breakdown: Breakdown; deliveryEligible: boolean }> {
  const rule = await SubsidyRule.findOne({ community: kitchen.community }).lean();
  const mealDay = atShanghai(menu.date, '12:00');
  const age = person.birthDate ? ageOn(person.birthDate, mealDay) : undefined;
  return {
    breakdown: mealBreakdown(rule, age, derivedTags(person, mealDay), menu.price, mode, quantity),
    deliveryEligible: deliveryEligibility(person, mealDay, settings).eligible,
  };
}
