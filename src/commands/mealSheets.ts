import type { Redis } from 'ioredis';
import { Types, trusted } from 'mongoose';
import { DeliveryRun, type DeliveryRunDoc } from '../../models/deliveryRun.js';
import { Facility, type FacilityDoc } from '../../models/facility.js';
import { atShanghai } from '../../models/calendar.js';
import { MEAL_DELIVERY_WINDOW, MealMenu, type MealMenuDoc } from '../../models/mealMenu.js';
import { VolunteerTask } from '../../models/volunteerTask.js';
import { MEAL_MODES, MealOrder, type MealMode } from '../../models/mealOrder.js';
import { DIETARY_NEEDS, type DietaryNeed } from '../../models/person.js';
import { hhmm } from '../booking/time.js';
import { ConflictError, NotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import { isDuplicateKey } from '../storage/mongo.js';
import { mealLines } from './mealLines.js';
import { MAX_PEOPLE_NEEDED, createVolunteerTask, taskIdForKey } from './volunteerTasks.js';
import { mealLabel } from './mealMenus.js';

/** What the sheets read of an order (a lean document). */
export interface SheetOrder {
  _id: Types.ObjectId | string;
  bookedFor: Types.ObjectId | string;
  mode: MealMode;
  quantity: number;
  dietaryNeeds: readonly string[];
  status: string;
  note?: string | null;
  building?: string | null;
  grid?: string | null;
  deliverTo?: { name?: string | null; phone?: string | null; unit?: string | null; room?: string | null } | null;
}

type ByMode = Record<MealMode, number>;
const zeroByMode = (): ByMode => ({ dine_in: 0, pickup: 0, delivery: 0 });

export interface KitchenSheet {
  menu: string;
  kitchen: string;
  date: string;
  meal: string;
  orders: number;
  portions: number;
  /** Orders and portions per mode (堂食 / 自取 / 送餐上门). */
  byMode: Record<MealMode, { orders: number; portions: number }>;
  /** Portions cooked for each dietary need, per mode; `none` = portions with no need. */
  byDietaryNeed: Array<{ need: DietaryNeed; portions: number; byMode: ByMode }>;
  none: { portions: number; byMode: ByMode };
  /**
   * Every dish is in every portion (a menu is one set meal): its portions per mode, and for
   * each dietary need the dish is not marked suitable for, how many portions need it adapted.
   */
  dishes: Array<{ name: string; allergens: string[]; portions: number; byMode: ByMode; adapt: Array<{ need: DietaryNeed; portions: number }> }>;
}

/** Orders that the kitchen cooks for: every one not cancelled. */
const cooked = (o: SheetOrder) => o.status !== 'cancelled';

/** The kitchen sheet of a menu from its orders, in memory (no reads). */
export function buildKitchenSheet(menu: MealMenuDoc, orders: readonly SheetOrder[]): KitchenSheet {
  const byMode = Object.fromEntries(MEAL_MODES.map((m) => [m, { orders: 0, portions: 0 }])) as KitchenSheet['byMode'];
  const needs = new Map<DietaryNeed, ByMode>(DIETARY_NEEDS.map((n) => [n, zeroByMode()]));
  const none = zeroByMode();
  let count = 0;
  let portions = 0;
  for (const o of orders) {
    if (!cooked(o)) continue;
    count += 1;
    portions += o.quantity;
    byMode[o.mode].orders += 1;
    byMode[o.mode].portions += o.quantity;
    if (o.dietaryNeeds.length === 0) none[o.mode] += o.quantity;
    for (const need of o.dietaryNeeds) {
      const row = needs.get(need as DietaryNeed);
      if (row) row[o.mode] += o.quantity;
    }
  }
  const sum = (m: ByMode) => m.dine_in + m.pickup + m.delivery;
  const portionsByMode = Object.fromEntries(MEAL_MODES.map((m) => [m, byMode[m].portions])) as ByMode;
  return {
    menu: String(menu._id),
    kitchen: String(menu.kitchen),
    date: menu.date,
    meal: menu.meal,
    orders: count,
    portions,
    byMode,
    byDietaryNeed: [...needs].filter(([, m]) => sum(m) > 0).map(([need, m]) => ({ need, portions: sum(m), byMode: m })),
    none: { portions: sum(none), byMode: none },
    dishes: menu.dishes.map((d) => ({
      name: d.name,
      allergens: [...d.allergens],
      portions,
      byMode: { ...portionsByMode },
      adapt: [...needs]
        .filter(([need, m]) => sum(m) > 0 && !d.suitableFor.includes(need))
        .map(([need, m]) => ({ need, portions: sum(m) })),
    })),
  };
}

export interface DeliveryStop {
  order: string;
  person: string;
  name: string | null;
  phone: string | null;
  building: string | null;
  unit: string | null;
  room: string | null;
  floor: number | null;
  quantity: number;
  dietaryNeeds: string[];
  note: string | null;
  status: string;
}

export interface DeliverySheet {
  grid: string;
  buildings: string[];
  portions: number;
  stops: DeliveryStop[];
}

export const NO_GRID = '未分网格';
const collator = new Intl.Collator('zh-Hans-CN', { numeric: true });
const DIGITS: Record<string, number> = { 零: 0, 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };

/** Chinese numerals up to 99 as digits, so 第二网格 sorts before 第十网格 (and 一 before 二). */
export function withArabicNumerals(text: string): string {
  return text.replace(/[零一二两三四五六七八九十]+/g, (run) => {
    if (!run.includes('十')) return [...run].map((c) => DIGITS[c]).join('');
    const [tens, ones] = run.split('十') as [string, string];
    if (run.indexOf('十') !== run.lastIndexOf('十')) return run;
    return String((tens ? DIGITS[tens] ?? 1 : 1) * 10 + (ones ? DIGITS[ones] ?? 0 : 0));
  });
}
const cmp = (a: string | null, b: string | null) => collator.compare(withArabicNumerals(a ?? ''), withArabicNumerals(b ?? ''));

/** The floor of a room number: '1102' → 11, '302' → 3, '12' → 0 (ground), not a number → null. */
export function floorOf(room: string | null | undefined): number | null {
  const digits = /^\D*(\d+)/.exec(room ?? '')?.[1];
  if (!digits) return null;
  return digits.length >= 3 ? Math.floor(Number(digits) / 100) : 0;
}

/**
 * Walking order within a grid: building by building (natural order: 2栋 before 10栋, 三栋 before 十栋), in a
 * building stairwell by stairwell (unit), going up floor by floor, and door by door.
 */
export function walkingOrder(a: DeliveryStop, b: DeliveryStop): number {
  return cmp(a.building, b.building) || cmp(a.unit, b.unit) || (a.floor ?? -1) - (b.floor ?? -1) || cmp(a.room, b.room) || cmp(a.order, b.order);
}

/**
 * The delivery sheets of a menu: its 送餐上门 orders grouped by the elder's grid, each in
 * walking order. In memory, from the orders alone: a delivery order carries its address and
 * contact (deliverTo), so no person is read.
 */
export function buildDeliverySheets(orders: readonly SheetOrder[]): DeliverySheet[] {
  const grids = new Map<string, DeliveryStop[]>();
  for (const o of orders) {
    if (o.mode !== 'delivery' || !cooked(o)) continue;
    const grid = o.grid || NO_GRID;
    const room = o.deliverTo?.room ?? null;
    const stop: DeliveryStop = {
      order: String(o._id),
      person: String(o.bookedFor),
      name: o.deliverTo?.name ?? null,
      phone: o.deliverTo?.phone ?? null,
      building: o.building ?? null,
      unit: o.deliverTo?.unit ?? null,
      room,
      floor: floorOf(room),
      quantity: o.quantity,
      dietaryNeeds: [...o.dietaryNeeds],
      note: o.note ?? null,
      status: o.status,
    };
    const list = grids.get(grid) ?? [];
    list.push(stop);
    grids.set(grid, list);
  }
  return [...grids]
    .sort(([a], [b]) => (a === NO_GRID ? 1 : b === NO_GRID ? -1 : cmp(a, b)))
    .map(([grid, stops]) => {
      stops.sort(walkingOrder);
      return {
        grid,
        buildings: [...new Set(stops.map((s) => s.building ?? ''))].filter(Boolean),
        portions: stops.reduce((n, s) => n + s.quantity, 0),
        stops,
      };
    });
}

/**
 * The orders of one menu from MongoDB: one lean query, whatever their number (FerretDB
 * decodes the whole collection for it: 1.1–1.7 s for 5,000 orders). The sheets read the
 * read model instead (mealLines.ts); this is its rebuild and the path without Redis.
 */
export function loadSheetOrders(menu: MealMenuDoc): Promise<SheetOrder[]> {
  return MealOrder.find({ menu: menu._id })
    .select('bookedFor mode quantity dietaryNeeds status note building grid deliverTo')
    .lean<SheetOrder[]>();
}

/** Both sheets of a menu from its orders, in memory. */
export const sheetsOf = (menu: MealMenuDoc, orders: readonly SheetOrder[]): MealSheets =>
  ({ kitchen: buildKitchenSheet(menu, orders), delivery: buildDeliverySheets(orders) });

export interface MealSheets {
  kitchen: KitchenSheet;
  delivery: DeliverySheet[];
}

const SHEET_CACHE_SECONDS = 2 * 24 * 3600;
const sheetCacheKey = (menu: Types.ObjectId) => `meal-sheets:${menu}`;

/**
 * Both sheets of a menu. With `cache` (Redis), generated from the menu's read model
 * (mealLines(): HVALS of its order lines, rebuilt from MongoDB when it cannot vouch for
 * itself), and the finished pair kept under the menu's `sheetStamp` and reused while the
 * stamp is unchanged (`finished: false` skips that cache: the benchmark's generation path).
 * Every order write sets a new random stamp after writing the order, and `menu` (with its
 * stamp) is read before anything else, so sheets are never older than the last completed
 * write. Without Redis, or when Redis fails, computed from one MongoDB read of the orders.
 * Personal data in the finished pair: as in the lines (2 days, deleted on erasure).
 */
export async function mealSheets(
  menu: MealMenuDoc,
  cache?: Redis,
  opts: { finished?: boolean; log?: Logger } = {},
): Promise<MealSheets> {
  const stamp = menu.sheetStamp ?? 'none';
  const useFinished = cache && opts.finished !== false;
  if (useFinished) {
    const hit = await cache.get(sheetCacheKey(menu._id)).catch(() => null);
    if (hit) {
      const stored = JSON.parse(hit) as { stamp: string; sheets: MealSheets };
      if (stored.stamp === stamp) return stored.sheets;
    }
  }
  let orders: SheetOrder[] | undefined;
  if (cache) {
    orders = await mealLines({ redis: cache, log: opts.log }, menu).then(
      (lines) => lines.orders,
      (err: Error) => {
        opts.log?.warn({ err: { message: err.message }, menu: String(menu._id) }, 'meal lines unreadable: sheets from MongoDB');
        return undefined;
      },
    );
  }
  const sheets = sheetsOf(menu, orders ?? (await loadSheetOrders(menu)));
  if (useFinished) await cache.set(sheetCacheKey(menu._id), JSON.stringify({ stamp, sheets }), 'EX', SHEET_CACHE_SECONDS).catch(() => undefined);
  return sheets;
}

/** One volunteer per this many doors of a run (at least one). */
export const STOPS_PER_VOLUNTEER = 15;
/** The skill volunteers record for meal delivery (see the volunteer profiles and the demo seed). */
export const DELIVERY_SKILL = '送餐';

/** The idempotency key of a run's volunteer task. */
export const deliveryTaskKey = (menu: Types.ObjectId | string, grid: string) => `meal-run:${menu}:${grid}`;

/**
 * The volunteer task (meal_delivery) of a delivery run, made once: its `_id` comes from the
 * key `meal-run:<menu>:<grid>` (createVolunteerTask), so re-runs and racing instances find
 * the same task. Title, place and description name the kitchen, grid and buildings, never a
 * resident (the stops are on the run, for the staff and the volunteers on it). None once the
 * delivery window has begun (too late to ask for volunteers): the run stays a plain record.
 */
async function deliveryTask(menu: MealMenuDoc, kitchen: FacilityDoc, sheet: DeliverySheet, now: Date): Promise<Types.ObjectId | undefined> {
  const key = deliveryTaskKey(menu._id, sheet.grid);
  const window = MEAL_DELIVERY_WINDOW[menu.meal];
  const start = atShanghai(menu.date, window.from);
  if (start <= now) return (await VolunteerTask.exists({ _id: taskIdForKey(key) }))?._id ?? undefined;
  const doors = sheet.stops.length;
  const { task } = await createVolunteerTask({
    community: kitchen.community,
    facility: kitchen._id,
    type: 'meal_delivery',
    title: `${mealLabel(menu)}送餐 ${sheet.grid}`,
    description: `在「${kitchen.name}」取餐后送到老人家中（${sheet.buildings.join('、') || sheet.grid}，${doors} 户 ${sheet.portions} 份），`
      + '当面交付，不放门口；不在家或情况异常请立即在小程序上报。',
    place: `${kitchen.name}（取餐点）`,
    start,
    end: atShanghai(menu.date, window.to),
    peopleNeeded: Math.min(MAX_PEOPLE_NEEDED, Math.max(1, Math.ceil(doors / STOPS_PER_VOLUNTEER))),
    skillsRequired: [DELIVERY_SKILL],
    source: 'meals',
    key,
  }, now);
  return task._id;
}

/**
 * Makes (or brings up to date) the delivery run of one grid of a menu, and its volunteer task
 * (meal_delivery, made once; see deliveryTask). Keyed by (menu, grid), so it is safe to call
 * again: a re-run updates the stops and never makes a second run or task.
 */
export async function createDeliveryRun(
  menu: MealMenuDoc,
  kitchen: FacilityDoc,
  sheet: DeliverySheet,
  now = new Date(),
): Promise<{ run: DeliveryRunDoc; created: boolean }> {
  const fields = {
    kitchen: kitchen._id,
    community: kitchen.community,
    date: menu.date,
    meal: menu.meal,
    portions: sheet.portions,
    stops: sheet.stops.map((s) => ({
      order: new Types.ObjectId(s.order), person: new Types.ObjectId(s.person), building: s.building ?? undefined,
      unit: s.unit ?? undefined, room: s.room ?? undefined, quantity: s.quantity, dietaryNeeds: s.dietaryNeeds,
    })),
  };
  const existing = await DeliveryRun.findOne({ menu: menu._id, grid: sheet.grid });
  const task = existing?.volunteerTask ?? (await deliveryTask(menu, kitchen, sheet, now));
  const withTask = task ? { ...fields, volunteerTask: task } : fields;
  if (existing) {
    existing.set(withTask);
    await existing.save();
    return { run: existing, created: false };
  }
  try {
    return { run: await DeliveryRun.create({ menu: menu._id, grid: sheet.grid, ...withTask }), created: true };
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    // Another instance made it a moment ago: bring it up to date instead.
    const run = (await DeliveryRun.findOne({ menu: menu._id, grid: sheet.grid }))!;
    run.set(withTask);
    await run.save();
    return { run, created: false };
  }
}

export interface CutoffResult {
  menu: string;
  kitchenSheet: KitchenSheet;
  runs: DeliveryRunDoc[];
  /** Runs made by this call (0 on a re-run). */
  created: number;
}

/**
 * At a menu's cut-off: the kitchen sheet, and a delivery run per grid with 送餐上门 orders.
 * Idempotent: re-running updates the runs (staff may have changed orders since), removes a
 * grid's run whose orders are all gone, and never duplicates one. Refused before the cut-off.
 */
export async function processMealCutoff(menuId: Types.ObjectId | string, now = new Date(), cache?: Redis): Promise<CutoffResult> {
  const menu = Types.ObjectId.isValid(String(menuId)) ? await MealMenu.findById(menuId) : null;
  const kitchen = menu ? await Facility.findById(menu.kitchen) : null;
  if (!menu || !kitchen) throw NotFoundError('没有找到这份菜单');
  if (now < menu.cutoff) {
    throw ConflictError(`${mealLabel(menu)}的订餐 ${hhmm(menu.cutoff)} 才截止，截止后才能生成送餐单`, 'cutoff_not_reached');
  }
  const { kitchen: kitchenSheet, delivery } = await mealSheets(menu, cache);
  const runs: DeliveryRunDoc[] = [];
  let created = 0;
  for (const sheet of delivery) {
    const made = await createDeliveryRun(menu, kitchen, sheet, now);
    runs.push(made.run);
    if (made.created) created += 1;
  }
  await DeliveryRun.deleteMany({ menu: menu._id, grid: trusted({ $nin: delivery.map((s) => s.grid) }) });
  await MealMenu.updateOne({ _id: menu._id }, { $set: { cutoffProcessedAt: now } });
  return { menu: String(menu._id), kitchenSheet, runs, created };
}

/** The job's batch: menus past their cut-off not processed yet (a bounded number). */
export async function processDueMealCutoffs(now = new Date(), limit = 50, cache?: Redis): Promise<{ processed: number; runs: number }> {
  const due = await MealMenu.find({
    published: true,
    cutoff: trusted({ $lte: now }),
    cutoffProcessedAt: trusted({ $exists: false }),
  }).sort({ cutoff: 1 }).limit(limit).select('_id');
  let runs = 0;
  for (const m of due) runs += (await processMealCutoff(m._id, now, cache)).created;
  return { processed: due.length, runs };
}

export const listDeliveryRuns = (menu: MealMenuDoc) => DeliveryRun.find({ menu: menu._id }).sort({ grid: 1 });
