import type { Redis } from 'ioredis';
import { Types, trusted } from 'mongoose';
import { CapacityClaim } from '../../models/capacityClaim.js';
import { atShanghai } from '../../models/calendar.js';
import type { FacilityDoc } from '../../models/facility.js';
import { MEAL_SERVED_FROM, MealMenu, type MealMenuDoc } from '../../models/mealMenu.js';
import { MealOrder, MEAL_MODE_LABELS, type MealMode, type MealOrderDoc, type MealOrderStatus } from '../../models/mealOrder.js';
import { MealRating, type MealRatingDoc } from '../../models/mealRating.js';
import { Person, ageOn, derivedTags, type DietaryNeed, type PersonFields } from '../../models/person.js';
import { SubsidyRule, matchingTier, type SubsidyTier } from '../../models/subsidyRule.js';
import { actsFor, isAdmin, isStaffOver, type AuthUser } from '../auth/user.js';
import { releaseClaims, withClaims } from '../booking/claims.js';
import { failpoint } from '../runtime/failpoints.js';
import type { Transitions } from '../booking/stateMachine.js';
import { hhmm } from '../booking/time.js';
import {
  BookingRuleError, ConflictError, DeliveryNotEligibleError, MealAlreadyOrderedError, MealCutoffPassedError,
  MealNotOrderableError, MealSoldOutError, NotFoundError, OutsideDeliveryAreaError,
} from '../errors.js';
import { isDuplicateKey } from '../storage/mongo.js';
import { mealKey, mealLabel, mealPersonKey, type MealSettings } from './mealMenus.js';
import { forgetMealLines, writeMealLine, type MealLinesDeps, type MenuTouch } from './mealLines.js';
import { withdrawMealReminders } from './mealReminders.js';
import { markDaysChanged } from './dailyFigures.js';
import { notify } from './notify.js';
import { raiseWellnessAlert, recordMealVisit } from './wellness.js';

export const MEAL_TRANSITIONS: Transitions<MealOrderStatus> = {
  confirmed: ['cancelled', 'delivered', 'not_at_home', 'needs_attention'],
  // A second knock (or a neighbour's key) after "not at home".
  not_at_home: ['delivered', 'needs_attention'],
  cancelled: [],
  delivered: [],
  needs_attention: [],
};

/** Tags that make a resident eligible for 送餐上门 whatever their age. */
export const DELIVERY_TAGS = ['失能', '残疾', '独居'] as const;

/** `yuan(350)` → '3.5 元'. */
export const yuan = (fen: number) => `${Number((fen / 100).toFixed(2))} 元`;

export async function findMealOrder(id: string): Promise<MealOrderDoc> {
  const order = Types.ObjectId.isValid(id) ? await MealOrder.findById(id) : null;
  if (!order) throw NotFoundError('没有找到这份订餐');
  return order;
}

/* ---------------------------------------------------------------- rules */

/** Whether a resident may have meals delivered on `on`: age, a care tag, or staff approval. */
export function deliveryEligibility(person: PersonFields, on: Date, settings: MealSettings): { eligible: boolean; reason: string | null } {
  const age = person.birthDate ? ageOn(person.birthDate, on) : undefined;
  if (age !== undefined && age >= settings.deliveryMinAge) return { eligible: true, reason: `${settings.deliveryMinAge}岁及以上` };
  const tag = DELIVERY_TAGS.find((t) => person.tags.includes(t));
  if (tag) return { eligible: true, reason: tag };
  if (person.mealDeliveryApproval?.at) return { eligible: true, reason: '工作人员审核同意' };
  return { eligible: false, reason: null };
}

export interface Breakdown {
  unitPrice: number;
  quantity: number;
  tier: string | null;
  subsidisedPrice: number;
  subsidy: number;
  deliveryFee: number;
  toPay: number;
}

/**
 * The price of an order: the first portion at the tier's price (the subsidy is per person
 * and meal), further portions at the menu price, plus the delivery fee for 送餐上门. A
 * resident of no tier (or of unknown age) pays the menu price.
 */
export function mealBreakdown(
  rule: { tiers: readonly SubsidyTier[]; deliveryFee: number } | null,
  age: number | undefined,
  tags: readonly string[],
  price: number,
  mode: MealMode,
  quantity: number,
): Breakdown {
  const tier = rule && age !== undefined ? matchingTier(rule.tiers, age, tags) : undefined;
  const subsidisedPrice = tier ? Math.min(tier.pay, price) : price;
  const subsidy = price - subsidisedPrice;
  const deliveryFee = mode === 'delivery' ? rule?.deliveryFee ?? 0 : 0;
  return {
    unitPrice: price,
    quantity,
    tier: tier && subsidy > 0 ? tier.label : null,
    subsidisedPrice,
    subsidy,
    deliveryFee,
    toPay: price * quantity - subsidy + deliveryFee,
  };
}

export interface MealOrderRequest {
  mode: MealMode;
  quantity: number;
  /** Overrides the profile's dietary needs for this order ([] = none). */
  dietaryNeeds?: DietaryNeed[];
  note?: string;
}

/** Who is acting: the person recorded as bookedBy, and whether staff rules apply (after cut-off, delivery approval). */
export interface MealActor {
  id: Types.ObjectId | string;
  staff: boolean;
}

export const actorOf = (user: AuthUser, kitchen: FacilityDoc): MealActor => ({
  id: user.id,
  staff: isStaffOver(user, kitchen.community, kitchen._id) || isAdmin(user),
});

export interface MealQuote {
  menu: MealMenuDoc;
  kitchen: FacilityDoc;
  person: PersonFields;
  mode: MealMode;
  quantity: number;
  dietaryNeeds: DietaryNeed[];
  dietarySource: 'profile' | 'order';
  note?: string;
  breakdown: Breakdown;
  deliveryEligible: boolean;
}

/** The end of a meal's day: staff may still change orders until then. */
const endOfDay = (menu: MealMenuDoc) => atShanghai(menu.date, '24:00');

function assertBeforeCutoff(menu: MealMenuDoc, actor: MealActor, now: Date): void {
  if (now < menu.cutoff) return;
  if (actor.staff && now < endOfDay(menu)) return;
  throw MealCutoffPassedError(mealLabel(menu), `${hhmm(menu.cutoff)}`);
}

/**
 * Every rule of an order that needs no claim: the menu is published and ordering is open
 * (residents before the cut-off; staff until the end of the day), the kitchen serves the
 * resident's community, the quantity, delivery eligibility and area. Returns the price
 * breakdown the resident confirms. No side effects: this is the 报价 before 确认.
 */
export async function quoteMealOrder(
  settings: MealSettings,
  actor: MealActor,
  menu: MealMenuDoc,
  kitchen: FacilityDoc,
  person: PersonFields,
  req: MealOrderRequest,
  now = new Date(),
): Promise<MealQuote> {
  if (!menu.published) throw MealNotOrderableError(`${mealLabel(menu)}的菜单还没有发布，请稍后再订`);
  assertBeforeCutoff(menu, actor, now);
  if (String(person.community) !== String(kitchen.community)) {
    throw BookingRuleError(403, 'kitchen_other_community', `「${kitchen.name}」只为本社区居民供餐，请选择您所在社区的助餐点`);
  }
  if (req.quantity > settings.maxQuantity) {
    throw BookingRuleError(400, 'meal_quantity_exceeded', `每份订单最多 ${settings.maxQuantity} 份`);
  }
  const mealDay = atShanghai(menu.date, '12:00');
  const eligibility = deliveryEligibility(person, mealDay, settings);
  if (req.mode === 'delivery') {
    // Staff placing a delivery order is the staff approval.
    if (!eligibility.eligible && !actor.staff) throw DeliveryNotEligibleError(settings.deliveryMinAge);
    const area = kitchen.serviceArea;
    const grids = area?.grids ?? [];
    const buildings = area?.buildings ?? [];
    const covered = (grids.length === 0 && buildings.length === 0)
      || (!!person.grid && grids.includes(person.grid))
      || (!!person.address?.building && buildings.includes(person.address.building));
    if (!covered) throw OutsideDeliveryAreaError(kitchen.name);
  }
  const rule = await SubsidyRule.findOne({ community: kitchen.community }).lean();
  const age = person.birthDate ? ageOn(person.birthDate, mealDay) : undefined;
  const breakdown = mealBreakdown(rule, age, derivedTags(person, mealDay), menu.price, req.mode, req.quantity);
  const own = req.dietaryNeeds !== undefined;
  return {
    menu, kitchen, person,
    mode: req.mode,
    quantity: req.quantity,
    dietaryNeeds: own ? [...req.dietaryNeeds!] : [...person.dietaryNeeds],
    dietarySource: own ? 'order' : 'profile',
    note: req.note,
    breakdown,
    deliveryEligible: eligibility.eligible,
  };
}

/**
 * Places an order. The rules are checked (quoteMealOrder); then the one-per-person-and-meal
 * claim and `quantity` portion places under `meal:<menu>` are claimed (claimPlaces: of any
 * number of racing orders for the last portions, exactly as many as there are places win,
 * the others get 409 meal_sold_out); then the order is written with its breakdown. A failure
 * after a claim gives the claims back.
 */
export async function placeMealOrder(
  settings: MealSettings,
  actor: MealActor,
  menu: MealMenuDoc,
  kitchen: FacilityDoc,
  person: PersonFields,
  req: MealOrderRequest,
  now = new Date(),
  opts: { recurring?: Types.ObjectId; lines?: MealLinesDeps } = {},
): Promise<MealOrderDoc> {
  const quote = await quoteMealOrder(settings, actor, menu, kitchen, person, req, now);
  const id = new Types.ObjectId();
  const personKey = mealPersonKey(menu._id, person._id);
  const order = await withClaims(async (claims) => {
    const mine = await claims.claimAll(personKey, [0], id);
    if (!mine.ok) throw MealAlreadyOrderedError();
    failpoint('meals.place.afterPerson');
    const places = await claims.claimPlaces(mealKey(menu._id), menu.capacity, req.quantity, id);
    if (!places) throw MealSoldOutError(`「${kitchen.name}」${mealLabel(menu)}`);
    failpoint('meals.place.afterPlaces');
    const written = await MealOrder.create({
      _id: id,
      menu: menu._id,
      kitchen: kitchen._id,
      community: kitchen.community,
      date: menu.date,
      meal: menu.meal,
      bookedFor: person._id,
      bookedBy: actor.id,
      mode: quote.mode,
      quantity: quote.quantity,
      dietaryNeeds: quote.dietaryNeeds,
      dietarySource: quote.dietarySource,
      note: quote.note,
      building: person.address?.building,
      grid: person.grid,
      deliverTo: quote.mode === 'delivery' ? deliverTo(person) : undefined,
      breakdown: quote.breakdown,
      status: 'confirmed',
      recurring: opts.recurring,
      history: [{ from: null, to: 'confirmed', at: now, by: actor.id }],
    });
    claims.commit();
    return written;
  });
  await markDaysChanged(order.community, order.date);
  // Display only (FerretDB may lose a concurrent $inc); portionsLeft() counts the claims.
  await writeMealLine(opts.lines, menu._id, order, await touchMenu(menu._id, -req.quantity));
  if (String(actor.id) !== String(person._id) && !opts.recurring) {
    await notify(person._id, `meal-order:${id}:placed`, 'meal_order_placed',
      `已为您订好${mealLabel(menu)}（${kitchen.name}，${MEAL_MODE_LABELS[quote.mode]}）${quote.quantity} 份，需付 ${yuan(quote.breakdown.toPay)}。如需取消请在 ${hhmm(menu.cutoff)} 前操作。`);
  }
  return order;
}

const newStamp = () => String(new Types.ObjectId());

/**
 * After every write to a menu's orders: a new sheet stamp (so cached sheets are recomputed,
 * and the read model's `@stamp` moves on: see mealLines.ts) and the display counter of
 * portions left. Returns the stamp replaced and the one set.
 */
async function touchMenu(menuId: Types.ObjectId, remaining = 0): Promise<MenuTouch> {
  const stamp = newStamp();
  const before = await MealMenu.findOneAndUpdate(
    { _id: menuId },
    { $set: { sheetStamp: stamp }, ...(remaining ? { $inc: { remaining } } : {}) },
    { returnDocument: 'before' },
  );
  return { previous: before?.sheetStamp ?? 'none', stamp };
}

/** The delivery contact of an order: the profile's name, phone, unit and room now. */
const deliverTo = (person: PersonFields) => ({
  name: person.name ?? undefined,
  phone: person.phone ?? undefined,
  unit: person.address?.unit ?? undefined,
  room: person.address?.room ?? undefined,
});

/**
 * Erases the delivery contacts kept on a person's meal orders (the person asked to be
 * deleted): in MongoDB, then in the sheets' read model and cached sheets (with `redis`).
 */
export async function forgetMealContacts(personId: Types.ObjectId, redis?: Redis): Promise<void> {
  const menus = await MealOrder.find({ bookedFor: personId }).distinct('menu');
  await MealOrder.updateMany({ bookedFor: personId }, { $unset: { deliverTo: 1 } });
  await MealMenu.updateMany({ _id: trusted({ $in: menus }) }, { $set: { sheetStamp: newStamp() } });
  if (redis) await forgetMealLines(redis, personId);
}

async function releaseOrderPlaces(order: MealOrderDoc): Promise<MenuTouch> {
  await releaseClaims(order._id, mealKey(order.menu));
  await releaseClaims(order._id, mealPersonKey(order.menu, order.bookedFor));
  return touchMenu(order.menu, order.quantity);
}

/**
 * Cancels an order: the resident (or proxy) before the cut-off; staff also after it, with a
 * reason the resident is told. The portions go back at once.
 */
export async function cancelMealOrder(
  actor: MealActor,
  order: MealOrderDoc,
  menu: MealMenuDoc,
  reason: string | undefined,
  now = new Date(),
  lines?: MealLinesDeps,
): Promise<MealOrderDoc> {
  if (order.status !== 'confirmed') {
    throw ConflictError('这份订餐已送出或已取消，不能再取消', 'invalid_transition');
  }
  assertBeforeCutoff(menu, actor, now);
  const bySomeoneElse = actor.staff && String(actor.id) !== String(order.bookedFor) && String(actor.id) !== String(order.bookedBy);
  if (bySomeoneElse && !reason) throw BookingRuleError(400, 'reason_required', '工作人员取消订餐时需填写原因，系统会告知居民');
  // The order as written comes back from the write itself: each read of a meal order by `_id`
  // is a pass over the whole collection on FerretDB v1, which grows with the year's orders.
  const updated = await withClaims(async (claims) => {
    const update = await claims.transition(order, 'cancelled', MEAL_TRANSITIONS, actor.id, reason);
    failpoint('meals.cancel.afterStateClaim');
    const written = (await MealOrder.findOneAndUpdate({ _id: order._id }, update, { returnDocument: 'after' }))!;
    claims.commit();
    return written;
  });
  await markDaysChanged(order.community, order.date);
  const touch = await releaseOrderPlaces(order);
  await writeMealLine(lines, order.menu, updated, touch);
  await withdrawMealReminders(order, now);
  if (bySomeoneElse) {
    await notify(order.bookedFor, `meal-order:${order._id}:cancelled`, 'meal_order_cancelled',
      `您订的${mealLabel(menu)}已被助餐点工作人员取消，原因：${reason}。如有疑问请联系助餐点。`);
  }
  return updated;
}

export interface MealOrderChange {
  mode?: MealMode;
  quantity?: number;
  dietaryNeeds?: DietaryNeed[];
  note?: string;
}

/**
 * Changes the mode, quantity, dietary needs or note of an order: the resident before the
 * cut-off, staff also after it (with a reason the resident is told). More portions are
 * claimed before anything changes (409 meal_sold_out if there are not enough); fewer give
 * places back. The price is quoted again and stored.
 */
export async function changeMealOrder(
  settings: MealSettings,
  actor: MealActor,
  order: MealOrderDoc,
  menu: MealMenuDoc,
  kitchen: FacilityDoc,
  change: MealOrderChange,
  reason: string | undefined,
  now = new Date(),
  lines?: MealLinesDeps,
): Promise<MealOrderDoc> {
  if (order.status !== 'confirmed') throw ConflictError('这份订餐已送出或已取消，不能再修改', 'invalid_transition');
  assertBeforeCutoff(menu, actor, now);
  const bySomeoneElse = actor.staff && String(actor.id) !== String(order.bookedFor) && String(actor.id) !== String(order.bookedBy);
  if (bySomeoneElse && !reason) throw BookingRuleError(400, 'reason_required', '工作人员修改订餐时需填写原因，系统会告知居民');
  const person = await Person.findById(order.bookedFor);
  if (!person) throw NotFoundError('没有找到订餐的居民');
  const quote = await quoteMealOrder(settings, actor, menu, kitchen, person, {
    mode: change.mode ?? order.mode,
    quantity: change.quantity ?? order.quantity,
    dietaryNeeds: change.dietaryNeeds ?? (order.dietarySource === 'order' ? [...order.dietaryNeeds] : undefined),
    note: change.note ?? order.note ?? undefined,
  }, now);
  const key = mealKey(menu._id);
  const extra = quote.quantity - order.quantity;
  const hold = new Types.ObjectId();
  await withClaims(async (claims) => {
    const places = extra > 0 ? await claims.claimPlaces(key, menu.capacity, extra, hold) : [];
    if (!places) throw MealSoldOutError(`「${kitchen.name}」${mealLabel(menu)}`);
    failpoint('meals.change.afterPlaces');
    const update = await claims.transition(order, 'confirmed', { ...MEAL_TRANSITIONS, confirmed: ['confirmed'] }, actor.id, reason ?? 'changed');
    failpoint('meals.change.afterStateClaim');
    if (places.length) {
      await CapacityClaim.updateMany({ key, holder: hold }, { $set: { holder: order._id } });
      claims.record(key, order._id, places);
    }
    failpoint('meals.change.afterHandOver');
    await MealOrder.updateOne({ _id: order._id }, {
      ...update,
      $set: {
        ...update.$set,
        mode: quote.mode, quantity: quote.quantity, dietaryNeeds: quote.dietaryNeeds,
        building: person.address?.building, grid: person.grid, deliverTo: quote.mode === 'delivery' ? deliverTo(person) : {},
        dietarySource: quote.dietarySource, note: quote.note, breakdown: quote.breakdown,
      },
    });
    claims.commit();
  });
  await markDaysChanged(order.community, order.date);
  // Fewer portions: the surplus places go back once the order says so (never before: the
  // order would be short of places it still counts).
  if (extra < 0) {
    const surplus = await CapacityClaim.find({ key, holder: order._id }).sort({ slot: -1 }).limit(-extra).select('_id').lean();
    await CapacityClaim.deleteMany({ _id: trusted({ $in: surplus.map((c) => c._id) }) });
  }
  const touch = await touchMenu(menu._id, -extra);
  const updated = (await MealOrder.findById(order._id))!;
  await writeMealLine(lines, menu._id, updated, touch);
  // Reminders say "come to the kitchen" or "stay at home": the next reminder run makes the new mode's.
  if (quote.mode !== order.mode) await withdrawMealReminders(order, now);
  if (bySomeoneElse) {
    await notify(order.bookedFor, `meal-order:${order._id}:changed:${order.version + 1}`, 'meal_order_changed',
      `您订的${mealLabel(menu)}已由工作人员调整为${MEAL_MODE_LABELS[quote.mode]} ${quote.quantity} 份，需付 ${yuan(quote.breakdown.toPay)}，原因：${reason}。`);
  }
  return updated;
}

export { listMealOrders } from './mealOrderList.js';

/* ---------------------------------------------------------------- at the door */

export interface DeliveryOutcomeRequest {
  outcome: 'delivered' | 'not_at_home' | 'needs_attention';
  note?: string;
}

/**
 * Records what happened at the door of a 送餐上门 order. A meal is never left at the door:
 * "not at home" and "needs attention" raise a wellness alert to the elder's family contacts
 * and grid workers at once. A meal handed over (delivered, needs attention) counts as that
 * month's wellness visit.
 */
export async function recordDeliveryOutcome(
  user: AuthUser,
  order: MealOrderDoc,
  req: DeliveryOutcomeRequest,
  now = new Date(),
  lines?: MealLinesDeps,
): Promise<MealOrderDoc> {
  if (order.mode !== 'delivery') throw ConflictError('只有送餐上门的订单才记录送达情况', 'not_a_delivery');
  if (now < atShanghai(order.date, '00:00')) throw ConflictError('这份餐还没到送餐的日子，送达后再记录', 'meal_not_due');
  if (req.outcome === 'needs_attention' && !req.note) {
    throw BookingRuleError(400, 'note_required', '选择「需要关注」时请写明老人的情况，家属和网格员会收到');
  }
  await withClaims(async (claims) => {
    const update = await claims.transition(order, req.outcome, MEAL_TRANSITIONS, user.id, req.note);
    await MealOrder.updateOne({ _id: order._id }, {
      ...update,
      $set: { ...update.$set, outcome: { outcome: req.outcome, note: req.note, at: now, by: user.id } },
    });
    claims.commit();
  });
  const touch = await touchMenu(order.menu);
  const updated = (await MealOrder.findById(order._id))!;
  await writeMealLine(lines, order.menu, updated, touch);
  if (req.outcome === 'not_at_home' || req.outcome === 'needs_attention') {
    await raiseWellnessAlert(updated, req.outcome, req.note, user, now);
  }
  if (req.outcome !== 'not_at_home') await recordMealVisit(updated, user, now);
  return updated;
}

/* ---------------------------------------------------------------- 好差评 */

export interface MealRatingRequest {
  good: boolean;
  comment?: string;
  dishes?: Array<{ name: string; good: boolean }>;
}

/**
 * 好差评 after the meal, once per order: a delivered order, or a dine-in / pickup order once
 * the meal is being served. Dishes rated on their own must be on the menu.
 */
export async function rateMeal(
  user: AuthUser,
  order: MealOrderDoc,
  menu: MealMenuDoc,
  req: MealRatingRequest,
  now = new Date(),
): Promise<MealRatingDoc> {
  const served = order.mode === 'delivery'
    ? order.status === 'delivered' || order.status === 'needs_attention'
    : order.status === 'confirmed' && now >= atShanghai(order.date, MEAL_SERVED_FROM[order.meal]);
  if (!served) throw BookingRuleError(409, 'meal_not_rateable', '用餐之后才能评价；已取消或未送达的订餐不能评价');
  const names = new Set(menu.dishes.map((d) => d.name));
  const unknown = (req.dishes ?? []).find((d) => !names.has(d.name));
  if (unknown) throw BookingRuleError(400, 'unknown_dish', `「${unknown.name}」不在这一餐的菜单上`);
  try {
    const rating = await MealRating.create({
      order: order._id, menu: menu._id, kitchen: order.kitchen, community: order.community, date: order.date,
      person: order.bookedFor, by: user.id, good: req.good, comment: req.comment, dishes: req.dishes ?? [],
    });
    await markDaysChanged(order.community, order.date);
    return rating;
  } catch (err) {
    if (isDuplicateKey(err)) throw ConflictError('这一餐已经评价过了，谢谢您的反馈', 'already_rated');
    throw err;
  }
}

/** Whether the user acts for the order's resident (or booked it). */
export const actsForOrder = (user: AuthUser, order: MealOrderDoc) => actsFor(user, order.bookedFor) || user.id === String(order.bookedBy);
