/**
 * The elderly-meals part of the demo: the kitchen's delivery area, the grid worker's grids,
 * a few orders of tomorrow's lunch (dine-in, pickup, delivery, one booked by the grid worker
 * for the 特困 elder) and a standing weekday lunch the son set up for his mother.
 *
 * Idempotent like the rest of the seed: a field is set only when unset, an order is placed
 * through the same command as the API (its one-order-per-person-and-meal claim refuses a
 * second one), the standing order is made once per elder and kitchen.
 */
import type { Types } from 'mongoose';
import { trusted } from 'mongoose';
import { dayjs, shanghaiDay } from '../../models/calendar.js';
import { Facility } from '../../models/facility.js';
import { MealMenu } from '../../models/mealMenu.js';
import { Person, type PersonDoc } from '../../models/person.js';
import { RecurringMealOrder } from '../../models/recurringMealOrder.js';
import type { Logger } from '../logger.js';
import { DEFAULT_MEAL_CUTOFFS } from '../../models/mealMenu.js';
import { placeMealOrder, type MealOrderRequest } from '../commands/mealOrders.js';
import { createRecurringMealOrder } from '../commands/mealRecurring.js';
import type { MealSettings } from '../commands/mealMenus.js';
import { AppError } from '../errors.js';

const DEMO_MEAL_SETTINGS: MealSettings = { cutoffs: DEFAULT_MEAL_CUTOFFS, maxQuantity: 3, deliveryMinAge: 80, recurringDaysAhead: 2 };

export interface MealSeedSummary {
  orders: number;
  recurring: number;
}

export async function seedMeals(log: Logger, { community, kitchen, now }: { community: Types.ObjectId; kitchen: Types.ObjectId; now: Date }): Promise<MealSeedSummary> {
  const summary: MealSeedSummary = { orders: 0, recurring: 0 };
  await Facility.updateOne(
    { _id: kitchen, 'serviceArea.grids': trusted({ $exists: false }) },
    { $set: { 'serviceArea.grids': ['第一网格', '第二网格', '第三网格'] } },
  );
  await Person.updateOne(
    { community, phone: '13800000006', roles: 'grid_worker', workGrids: trusted({ $exists: false }) },
    { $set: { workGrids: ['第一网格'] } },
  );

  const byPhone = async (phone: string) => Person.findOne({ community, phone });
  const [alone, lowIncome, hardship, disabled, son, gridWorker, kitchenDoc] = await Promise.all([
    byPhone('13800000001'), byPhone('13800000002'), byPhone('13800000003'), byPhone('13800000004'),
    byPhone('13800000005'), byPhone('13800000006'), Facility.findById(kitchen),
  ]);
  if (!alone || !lowIncome || !hardship || !disabled || !son || !gridWorker || !kitchenDoc) return summary;

  const tomorrow = dayjs.utc(shanghaiDay(now)).add(1, 'day').format('YYYY-MM-DD');
  const lunch = await MealMenu.findOne({ kitchen, date: tomorrow, meal: 'lunch' });
  if (lunch && lunch.cutoff > now) {
    const orders: Array<[PersonDoc, PersonDoc, MealOrderRequest]> = [
      [lowIncome, lowIncome, { mode: 'dine_in', quantity: 1 }],
      [disabled, disabled, { mode: 'delivery', quantity: 1 }],
      [hardship, gridWorker, { mode: 'pickup', quantity: 1, note: '网格员代取' }],
    ];
    for (const [person, by, req] of orders) {
      try {
        await placeMealOrder(DEMO_MEAL_SETTINGS, { id: by._id, staff: false }, lunch, kitchenDoc, person, req, now);
        summary.orders += 1;
      } catch (err) {
        if (!(err instanceof AppError)) throw err; // already ordered on an earlier run, or sold out
      }
    }
  }

  if (!(await RecurringMealOrder.exists({ bookedFor: alone._id, kitchen }))) {
    const until = dayjs.utc(shanghaiDay(now)).add(27, 'day').format('YYYY-MM-DD');
    const { placed } = await createRecurringMealOrder(DEMO_MEAL_SETTINGS, { id: son._id, staff: false }, kitchenDoc, alone, {
      meal: 'lunch', weekdays: [1, 2, 3, 4, 5], mode: 'delivery', quantity: 1, from: shanghaiDay(now), until,
    }, now);
    summary.recurring += 1;
    summary.orders += placed;
  }
  log.info({ created: summary }, 'demo seed: meals');
  return summary;
}
