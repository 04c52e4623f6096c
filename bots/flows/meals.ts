import { Types, trusted } from 'mongoose';
import { shanghaiDay } from '../../models/calendar.js';
import { MEAL_LABELS, type Meal } from '../../models/mealMenu.js';
import { MEAL_MODE_LABELS, MealOrder, type MealMode } from '../../models/mealOrder.js';
import type { DietaryNeed } from '../../models/person.js';
import { beneficiary } from '../../src/commands/actingFor.js';
import { findMenu, listMenus, mealLabel } from '../../src/commands/mealMenus.js';
import {
  actorOf, cancelMealOrder, findMealOrder, placeMealOrder, quoteMealOrder, rateMeal, yuan, type MealQuote,
} from '../../src/commands/mealOrders.js';
import { dayjs } from '../../models/calendar.js';
import type { MealMenuDoc } from '../../models/mealMenu.js';
import { AppError } from '../../src/errors.js';
import { MODE_REFUSALS, mealOrderBlocker } from '../../src/commands/mealChecks.js';
import { absorbFields, type Choice, type Flow, type Step, type Turn } from '../dialogue/flow.js';
import { askForWhom, dayWithWeekday } from './common.js';

/** The contract's dietary codes, in the profile's words. */
const DIETARY: Record<string, DietaryNeed> = {
  low_salt: '低盐', low_sugar: '低糖', low_fat: '低脂', soft: '软食', vegetarian: '素食', halal: '清真',
};

const settings = (turn: Turn) => turn.deps.config.meals;
/** The sheets' read model is kept by every order write (src/commands/mealLines.ts). */
const sheetLines = (turn: Turn) => ({ redis: turn.deps.redis, log: turn.deps.log });

/** The person a meal is for: the elder named (代订) or the person talking. */
const forWhom = (turn: Turn, slots: Record<string, unknown>) => beneficiary(turn.user, slots.forPerson as string | undefined);

/** The published menus of the days and meal asked, one per day (the kitchen chosen, when several serve). */
async function menusFor(turn: Turn, slots: Record<string, unknown>) {
  const dates = slots.dates as string[];
  const all = (await listMenus(turn.user, { from: dates[0], to: dates[dates.length - 1] }, turn.now))
    .filter(({ menu }) => dates.includes(menu.date) && menu.meal === slots.meal && (!slots.kitchenId || String(menu.kitchen) === slots.kitchenId));
  return all;
}

/** The quotes (price breakdown) of the order on each day; a rule's refusal is thrown as the answer. */
async function quotes(turn: Turn, slots: Record<string, unknown>): Promise<MealQuote[]> {
  const person = await forWhom(turn, slots);
  const req = {
    mode: slots.mode as MealMode,
    quantity: (slots.quantity as number | undefined) ?? 1,
    ...(slots.dietary ? { dietaryNeeds: (slots.dietary as string[]).map((d) => DIETARY[d]!).filter(Boolean) } : {}),
  };
  const out: MealQuote[] = [];
  for (const { menu, kitchen } of await menusFor(turn, slots)) {
    out.push(await quoteMealOrder(settings(turn), actorOf(turn.user, kitchen), menu, kitchen, person, req, turn.now));
  }
  return out;
}

/** Each day's quote, or the refusal that day would get (quote rules, then duplicates and portions left). */
async function checkedQuotes(turn: Turn, slots: Record<string, unknown>) {
  const person = await forWhom(turn, slots);
  const req = {
    mode: slots.mode as MealMode,
    quantity: (slots.quantity as number | undefined) ?? 1,
    ...(slots.dietary ? { dietaryNeeds: (slots.dietary as string[]).map((d) => DIETARY[d]!).filter(Boolean) } : {}),
  };
  const out: Array<{ menu: MealMenuDoc; quote?: MealQuote; refusal?: AppError }> = [];
  for (const { menu, kitchen } of await menusFor(turn, slots)) {
    try {
      const quote = await quoteMealOrder(settings(turn), actorOf(turn.user, kitchen), menu, kitchen, person, req, turn.now);
      const blocker = await mealOrderBlocker(menu, kitchen, person._id, req.quantity);
      out.push(blocker ? { menu, refusal: blocker } : { menu, quote });
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      out.push({ menu, refusal: err });
    }
  }
  return out;
}

/**
 * A refusal, and a way on: another way of eating when delivery is what is refused; else the
 * nearest days this meal can still be ordered (确认 takes the first). What is known is kept.
 */
async function alternativesFor(turn: Turn, slots: Record<string, unknown>, refusal: AppError): Promise<Step> {
  if (MODE_REFUSALS.has(refusal.code)) {
    delete slots.mode;
    const choices = (['dine_in', 'pickup'] as MealMode[]).map((m) => ({ label: MEAL_MODE_LABELS[m], value: m }));
    return { kind: 'ask', slot: 'mode', text: `${refusal.message}\n可以改成堂食或自取：`, choices, alternatives: true };
  }
  const refusedDays = (slots.dates as string[]) ?? [];
  const days = await nearestMealDays(turn, slots, refusedDays);
  delete slots.dates;
  if (!days.length) return { kind: 'ask', slot: 'dates', text: `${refusal.message}\n最近几天也没有可订的${MEAL_LABELS[slots.meal as Meal]}。换一天或换午饭/晚饭吗？` };
  return {
    kind: 'ask', slot: 'dates', text: `${refusal.message}\n最近还能订${MEAL_LABELS[slots.meal as Meal]}的日子：`,
    choices: days.map((d) => ({ label: dayWithWeekday(d), value: [d] })), alternatives: true,
  };
}

/** Up to three days (from today, two weeks ahead) whose menu of this meal this person can still order. */
async function nearestMealDays(turn: Turn, slots: Record<string, unknown>, skip: string[]): Promise<string[]> {
  const person = await forWhom(turn, slots);
  const today = shanghaiDay(turn.now);
  const menus = await listMenus(turn.user, { from: today, to: dayjs.utc(today).add(13, 'day').format('YYYY-MM-DD') }, turn.now);
  const days: string[] = [];
  for (const { menu, kitchen } of menus.sort((a, b) => a.menu.date.localeCompare(b.menu.date))) {
    if (days.length >= 3) break;
    if (menu.meal !== slots.meal || skip.includes(menu.date) || days.includes(menu.date) || menu.cutoff <= turn.now) continue;
    if (slots.kitchenId && String(kitchen._id) !== slots.kitchenId) continue;
    if (!(await mealOrderBlocker(menu, kitchen, person._id, (slots.quantity as number | undefined) ?? 1))) days.push(menu.date);
  }
  return days;
}

/** 订饭: days, meal, kitchen (if several), how (堂食 / 自取 / 送餐上门), the price breakdown, 确认. */
export const bookMeal: Flow = {
  intent: 'meal.book',
  changeable: [
    { slot: 'dates', label: '日期' },
    { slot: 'meal', label: '午饭还是晚饭' },
    { slot: 'mode', label: '堂食、自取或送餐' },
    { slot: 'quantity', label: '份数' },
  ],
  absorb(slots, u) {
    const set = absorbFields(slots, u, ['dates', 'meal', 'mode', 'quantity', 'dietary', 'forOther']);
    if (set.includes('dates') || set.includes('meal')) delete slots.kitchenId;
    return set;
  },
  async next(turn, slots) {
    const forWhomStep = await askForWhom(turn, slots);
    if (forWhomStep) return forWhomStep;
    if (!slots.dates) return { kind: 'ask', slot: 'dates', text: '订哪天的饭？例如：明天、下周一到周五' };
    if (slots.meal === 'breakfast') delete slots.meal;
    if (!slots.meal) {
      return { kind: 'ask', slot: 'meal', text: '订午饭还是晚饭？（助餐点只供午餐和晚餐）', choices: (['lunch', 'dinner'] as Meal[]).map((m) => ({ label: MEAL_LABELS[m], value: m })) };
    }
    const menus = await menusFor(turn, slots);
    if (!menus.length) {
      const asked = (slots.dates as string[]).map(dayWithWeekday).join('、');
      delete slots.dates;
      return { kind: 'ask', slot: 'dates', text: `${asked}的${MEAL_LABELS[slots.meal as Meal]}还没有可订的菜单。换一天吗？` };
    }
    const kitchens = [...new Map(menus.map(({ kitchen }) => [String(kitchen._id), kitchen])).values()];
    if (!slots.kitchenId && kitchens.length > 1) {
      return { kind: 'ask', slot: 'kitchenId', text: '在哪个助餐点订？', choices: kitchens.map((k) => ({ label: k.name, value: String(k._id) })) };
    }
    if (!slots.mode) {
      const choices: Choice[] = (['dine_in', 'pickup', 'delivery'] as MealMode[]).map((m) => ({ label: MEAL_MODE_LABELS[m], value: m }));
      return { kind: 'ask', slot: 'mode', text: '怎么用餐？', choices };
    }
    // Every rule placing the order would refuse, checked now (issue 20): a day that cannot be
    // ordered is dropped with its reason; when none is left, the nearest alternatives.
    const checked = await checkedQuotes(turn, slots);
    const quoted = checked.flatMap((c) => (c.quote ? [c.quote] : []));
    const refused = checked.filter((c) => c.refusal);
    if (!quoted.length) return alternativesFor(turn, slots, refused[0]!.refusal!);
    if (refused.length) slots.dates = quoted.map((q) => q.menu.date);
    const notes = refused.map((c) => `${mealLabel(c.menu)}：${c.refusal!.message}，这天不订。\n`).join('');
    const first = quoted[0]!;
    const b = first.breakdown;
    const days = quoted.map((q) => dayWithWeekday(q.menu.date)).join('、');
    const price = [
      `单价 ${yuan(b.unitPrice)} × ${b.quantity} 份`,
      ...(b.subsidy ? [`补贴 −${yuan(b.subsidy)}（${b.tier}）`] : []),
      ...(b.deliveryFee ? [`送餐费 ${yuan(b.deliveryFee)}`] : []),
      `每餐应付 ${yuan(b.toPay)}${quoted.length > 1 ? `，${quoted.length} 餐共 ${yuan(quoted.reduce((s, q) => s + q.breakdown.toPay, 0))}` : ''}`,
    ].join('，');
    const who = String(first.person._id) === turn.user.id ? '' : `\n为：${first.person.name ?? '代订的老人'}`;
    const diet = first.dietaryNeeds.length ? `\n饮食要求：${first.dietaryNeeds.join('、')}` : '';
    return {
      kind: 'confirm',
      text: `${notes}请确认订餐：\n${days} ${MEAL_LABELS[first.menu.meal as Meal]}，${first.kitchen.name}\n方式：${MEAL_MODE_LABELS[first.mode]}${who}${diet}\n费用：${price}\n回复“确认”下单，“改”修改，“取消”放弃。`,
    };
  },
  async execute(turn, slots) {
    const lines: string[] = [];
    for (const q of await quotes(turn, slots)) {
      try {
        await placeMealOrder(settings(turn), actorOf(turn.user, q.kitchen), q.menu, q.kitchen, q.person, {
          mode: q.mode, quantity: q.quantity, ...(q.dietarySource === 'order' ? { dietaryNeeds: q.dietaryNeeds } : {}),
        }, turn.now, { lines: sheetLines(turn) });
        lines.push(`${mealLabel(q.menu)}：已订好`);
      } catch (err) {
        lines.push(`${mealLabel(q.menu)}：没订上（${(err as Error).message}）`);
      }
    }
    return lines.length === 1 && lines[0]!.endsWith('已订好')
      ? `订好了！${lines[0]!.replace('：已订好', '')}。取消请在截止时间前说“取消…的饭”。`
      : lines.join('\n');
  },
};

/** The person's (and their elders') meal orders still to come (on the days and meal asked). */
export async function upcomingOrders(turn: Turn, slots: Record<string, unknown>) {
  const people = [turn.user.id, ...turn.user.elders].map((id) => new Types.ObjectId(id));
  const orders = await MealOrder.find({ bookedFor: trusted({ $in: people }), status: 'confirmed', date: trusted({ $gte: shanghaiDay(turn.now) }) })
    .sort({ date: 1, meal: 1 }).limit(20).lean();
  const dates = slots.dates as string[] | undefined;
  return orders.filter((o) => (!dates?.length || dates.includes(o.date)) && (!slots.meal || o.meal === slots.meal));
}

/** 取消订餐: which order (by number when several), then 确认. */
export const cancelMeal: Flow = {
  intent: 'meal.cancel',
  absorb: (slots, u) => absorbFields(slots, u, ['dates', 'meal']),
  async next(turn, slots) {
    if (!slots.orderId) {
      const orders = await upcomingOrders(turn, slots);
      if (!orders.length) return { kind: 'done', text: '没有找到可以取消的订餐。' };
      const choices = orders.slice(0, 8).map((o) => ({ label: `${mealLabel(o)} ${o.quantity}份（${MEAL_MODE_LABELS[o.mode]}）`, value: String(o._id) }));
      if (choices.length > 1) return { kind: 'ask', slot: 'orderId', text: '要取消哪一餐？', choices };
      slots.orderId = choices[0]!.value;
    }
    const order = await findMealOrder(slots.orderId as string);
    return { kind: 'confirm', text: `确定取消${mealLabel(order)}的订餐吗？回复“确认”取消。` };
  },
  async execute(turn, slots) {
    const order = await findMealOrder(slots.orderId as string);
    const { menu, kitchen } = await findMenu(String(order.menu));
    await cancelMealOrder(actorOf(turn.user, kitchen), order, menu, undefined, turn.now, sheetLines(turn));
    return `已取消${mealLabel(order)}的订餐。`;
  },
};

/** 我订的饭: the meal orders to come. */
export const listMeals: Flow = {
  intent: 'meal.list',
  absorb: (slots, u) => absorbFields(slots, u, ['dates', 'meal']),
  async next(turn, slots) {
    const lines = await mealOrderLines(turn, slots);
    return { kind: 'done', text: lines.length ? `您订的饭：\n${lines.join('\n')}` : '您还没有订饭。想订请说，例如：明天中午送一份饭到家' };
  },
};

/** 吃什么: the menus of the day (today by default) and meal asked. */
export const menuFlow: Flow = {
  intent: 'meal.menu',
  absorb: (slots, u) => absorbFields(slots, u, ['dates', 'meal']),
  async next(turn, slots) {
    const day = (slots.dates as string[] | undefined)?.[0] ?? shanghaiDay(turn.now);
    const menus = (await listMenus(turn.user, { from: day, to: day }, turn.now)).filter(({ menu }) => !slots.meal || menu.meal === slots.meal);
    if (!menus.length) return { kind: 'done', text: `${dayWithWeekday(day)}还没有发布菜单。` };
    const lines = menus.map(({ menu, kitchen }) =>
      `${MEAL_LABELS[menu.meal as Meal]}（${kitchen.name}，${yuan(menu.price)}）：${menu.dishes.map((d) => d.name).join('、')}`);
    return { kind: 'done', text: `${dayWithWeekday(day)}的菜单：\n${lines.join('\n')}\n想订请说，例如：${dayWithWeekday(day).slice(0, -4)}中午要一份` };
  },
};

/** The meal part of 我的预约 (and of 我订的饭). */
export async function mealOrderLines(turn: Turn, slots: Record<string, unknown> = {}): Promise<string[]> {
  return (await upcomingOrders(turn, slots)).map((o) => `订餐 ${mealLabel(o)} ${o.quantity}份（${MEAL_MODE_LABELS[o.mode]}）`);
}

/** 评价: the person's last served meal not yet rated, 好 or 差 by number, a comment optional. */
export const rateMealFlow: Flow = {
  intent: 'meal.rate',
  absorb: () => [],
  async next(turn, slots) {
    if (!slots.orderId) {
      const recent = await MealOrder.find({ bookedFor: turn.person._id, date: trusted({ $lte: shanghaiDay(turn.now) }), status: trusted({ $in: ['confirmed', 'delivered'] }) })
        .sort({ date: -1, meal: -1 }).limit(1).lean();
      if (!recent.length) return { kind: 'done', text: '没有找到可以评价的用餐。' };
      slots.orderId = String(recent[0]!._id);
    }
    const order = await findMealOrder(slots.orderId as string);
    if (slots.good === undefined) {
      return { kind: 'ask', slot: 'good', text: `${mealLabel(order)}吃得怎么样？`, choices: [{ label: '好评', value: true }, { label: '差评', value: false }] };
    }
    const { menu } = await findMenu(String(order.menu));
    await rateMeal(turn.user, order, menu, { good: slots.good as boolean }, turn.now);
    return { kind: 'done', text: slots.good ? '谢谢您的好评，我们会转告厨房！' : '抱歉这顿饭没让您满意，我们会转告厨房改进。具体问题也可以发“人工”告诉工作人员。' };
  },
};

export const mealFlows: Flow[] = [bookMeal, cancelMeal, listMeals, menuFlow, rateMealFlow];

