import { MEAL_LABELS, type Meal } from '../../models/mealMenu.js';
import { MEAL_MODE_LABELS, type MealMode } from '../../models/mealOrder.js';
import { dayjs, shanghaiDay } from '../../models/calendar.js';
import { beneficiary } from '../../src/commands/actingFor.js';
import { mealOrderBlocker, mealPriceFor } from '../../src/commands/mealChecks.js';
import { findMenu, listMenus, mealLabel } from '../../src/commands/mealMenus.js';
import {
  actorOf, cancelMealOrder, findMealOrder, placeMealOrder, quoteMealOrder, yuan,
} from '../../src/commands/mealOrders.js';
import { AppError, MealCutoffPassedError } from '../../src/errors.js';
import { hhmm } from '../../src/booking/time.js';
import { readSlots } from '../nlu/index.js';
import { mealOf } from '../nlu/slots.js';
import { normalise } from '../nlu/normalise.js';
import { absorbFields, type Flow, type Turn } from '../dialogue/flow.js';
import { askForWhom, dayWithWeekday } from './common.js';
import { upcomingOrders } from './meals.js';

const MOVE_TO = /改到|换到|挪到|调到|改成|换成|改为|推迟到|提前到/;
const settings = (turn: Turn) => turn.deps.config.meals;
const sheetLines = (turn: Turn) => ({ redis: turn.deps.redis, log: turn.deps.log });

/** The menu of the day and meal asked, in the old order's kitchen when it serves one. */
async function targetMenu(turn: Turn, day: string, meal: Meal, kitchenId: string) {
  const menus = (await listMenus(turn.user, { from: day, to: day }, turn.now)).filter(({ menu }) => menu.meal === meal);
  return menus.find(({ kitchen }) => String(kitchen._id) === kitchenId) ?? menus[0];
}

/**
 * 把明天的饭改到后天 (meal.reschedule): the order is moved by booking the new day first and
 * cancelling the old one only once that succeeded, so the person is never left without a meal
 * (issue 20: the old bot cancelled and never booked). Every rule of the new order (cut-off,
 * duplicates, portions, delivery) is checked at the summary; the old one must still be
 * cancellable (before its cut-off).
 */
export const rescheduleMeal: Flow = {
  intent: 'meal.reschedule',
  changeable: [{ slot: 'dates', label: '改到哪天' }, { slot: 'meal', label: '午饭还是晚饭' }],
  absorb(slots, u, turn) {
    if (u.intent === 'meal.reschedule') {
      // The day and meal moved from are said before 改到 (the contract's dates are the new day).
      const text = normalise(turn.text);
      const move = MOVE_TO.exec(text);
      const before = move ? text.slice(0, move.index) : text;
      const from = readSlots(before, turn.now);
      if (from.dates) slots.fromDates = from.dates;
      const fromMeal = mealOf(before);
      if (fromMeal) slots.fromMeal = fromMeal;
    }
    return absorbFields(slots, u, ['dates', 'meal']);
  },
  async next(turn, slots) {
    if (!slots.orderId) {
      const orders = (await upcomingOrders(turn, { dates: slots.fromDates, meal: slots.fromMeal }))
        .filter((o) => String(o.bookedFor) === turn.user.id || turn.user.elders.has(String(o.bookedFor)));
      if (!orders.length) return { kind: 'done', text: '没有找到可以改的订餐。想订新的请说，例如：后天中午要一份饭' };
      const choices = orders.slice(0, 8).map((o) => ({ label: `${mealLabel(o)} ${o.quantity}份（${MEAL_MODE_LABELS[o.mode]}）`, value: String(o._id) }));
      if (choices.length > 1) return { kind: 'ask', slot: 'orderId', text: '要改哪一餐？', choices };
      slots.orderId = choices[0]!.value;
    }
    const old = await findMealOrder(slots.orderId as string);
    const { menu: oldMenu } = await findMenu(String(old.menu));
    // The old order goes only if it can still be cancelled: say so now, not after 确认.
    if (turn.now >= oldMenu.cutoff) throw MealCutoffPassedError(mealLabel(oldMenu), hhmm(oldMenu.cutoff));
    if (!slots.dates && !slots.meal) return { kind: 'ask', slot: 'dates', text: `${mealLabel(old)}改到哪天？例如：后天、周五` };
    const day = (slots.dates as string[] | undefined)?.[0] ?? old.date;
    const meal = (slots.meal as Meal | undefined) ?? (old.meal as Meal);
    if (day === old.date && meal === old.meal) {
      delete slots.dates;
      return { kind: 'ask', slot: 'dates', text: `这就是原来的${mealLabel(old)}。改到哪天？` };
    }
    const target = await targetMenu(turn, day, meal, String(old.kitchen));
    const refusal = target ? await newOrderRefusal(turn, old, target) : undefined;
    if (!target || refusal) {
      delete slots.dates;
      const days = await nearestDays(turn, old, meal);
      const why = refusal?.message ?? `${dayWithWeekday(day)}的${MEAL_LABELS[meal]}还没有可订的菜单`;
      return days.length
        ? { kind: 'ask', slot: 'dates', text: `${why}。\n最近还能改到的日子：`, choices: days.map((d) => ({ label: dayWithWeekday(d), value: [d] })), alternatives: true }
        : { kind: 'ask', slot: 'dates', text: `${why}。换一天吗？` };
    }
    slots.menuId = String(target.menu._id);
    const quote = await quoteOf(turn, old, target);
    return {
      kind: 'confirm',
      text: `把${mealLabel(old)}改到${mealLabel(target.menu)}（${target.kitchen.name}，${MEAL_MODE_LABELS[old.mode]}，${old.quantity}份，应付 ${yuan(quote.breakdown.toPay)}）？\n确认后先订新的，订上了再取消原来的。回复“确认”修改，“取消”不改。`,
    };
  },
  async execute(turn, slots) {
    const old = await findMealOrder(slots.orderId as string);
    const { menu, kitchen } = await findMenu(slots.menuId as string);
    const quote = await quoteOf(turn, old, { menu, kitchen });
    // The new one first: if it is refused, the old order stays as it was.
    try {
      await placeMealOrder(settings(turn), actorOf(turn.user, kitchen), menu, kitchen, quote.person, {
        mode: quote.mode, quantity: quote.quantity, ...(quote.dietarySource === 'order' ? { dietaryNeeds: quote.dietaryNeeds } : {}),
      }, turn.now, { lines: sheetLines(turn) });
    } catch (err) {
      if (err instanceof AppError) return `没改成：${err.message}。原来的${mealLabel(old)}还在。`;
      throw err;
    }
    const { menu: oldMenu, kitchen: oldKitchen } = await findMenu(String(old.menu));
    await cancelMealOrder(actorOf(turn.user, oldKitchen), old, oldMenu, undefined, turn.now, sheetLines(turn));
    return `改好了：${mealLabel(menu)}已订好，原来的${mealLabel(old)}已取消。`;
  },
};

type OldOrder = Awaited<ReturnType<typeof findMealOrder>>;
type Target = { menu: Awaited<ReturnType<typeof findMenu>>['menu']; kitchen: Awaited<ReturnType<typeof findMenu>>['kitchen'] };

async function quoteOf(turn: Turn, old: OldOrder, target: Target) {
  const person = await beneficiary(turn.user, String(old.bookedFor));
  return quoteMealOrder(settings(turn), actorOf(turn.user, target.kitchen), target.menu, target.kitchen, person, {
    mode: old.mode, quantity: old.quantity, ...(old.dietarySource === 'order' ? { dietaryNeeds: [...old.dietaryNeeds] } : {}),
  }, turn.now);
}

/** What placing the moved order would refuse, before anything is claimed. */
async function newOrderRefusal(turn: Turn, old: OldOrder, target: Target): Promise<AppError | undefined> {
  try {
    await quoteOf(turn, old, target);
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  return mealOrderBlocker(target.menu, target.kitchen, old.bookedFor, old.quantity);
}

/** Up to three days in the next two weeks the order could be moved to. */
async function nearestDays(turn: Turn, old: OldOrder, meal: Meal): Promise<string[]> {
  const today = shanghaiDay(turn.now);
  const menus = await listMenus(turn.user, { from: today, to: dayjs.utc(today).add(13, 'day').format('YYYY-MM-DD') }, turn.now);
  const days: string[] = [];
  for (const target of menus.sort((a, b) => a.menu.date.localeCompare(b.menu.date))) {
    if (days.length >= 3) break;
    if (target.menu.meal !== meal || target.menu.date === old.date || days.includes(target.menu.date)) continue;
    if (!(await newOrderRefusal(turn, old, target))) days.push(target.menu.date);
  }
  return days;
}

/**
 * 多少钱 / 有补贴吗 (meal.price): what a meal costs this person, with their subsidy tier and
 * the delivery fee, by the same breakdown an order records. The day asked, else the next day
 * with a menu; both ways of eating when the person may have meals delivered.
 */
export const mealPrice: Flow = {
  intent: 'meal.price',
  absorb: (slots, u) => absorbFields(slots, u, ['dates', 'meal', 'mode', 'quantity', 'forOther']),
  async next(turn, slots) {
    const forWhomStep = await askForWhom(turn, slots);
    if (forWhomStep) return forWhomStep;
    const person = await beneficiary(turn.user, slots.forPerson as string | undefined);
    const today = shanghaiDay(turn.now);
    const asked = slots.dates as string[] | undefined;
    const menus = (await listMenus(turn.user, { from: asked?.[0] ?? today, to: asked?.[0] ?? dayjs.utc(today).add(6, 'day').format('YYYY-MM-DD') }, turn.now))
      .filter(({ menu }) => !slots.meal || menu.meal === slots.meal)
      .sort((a, b) => a.menu.date.localeCompare(b.menu.date) || a.menu.meal.localeCompare(b.menu.meal) * -1);
    if (!menus.length) {
      return { kind: 'done', text: `${asked ? dayWithWeekday(asked[0]!) : '最近几天'}还没有发布菜单，价格要等菜单出来才知道。补贴按年龄和身份算，可以发“人工”问工作人员。` };
    }
    const day = menus[0]!.menu.date;
    const lines: string[] = [];
    for (const { menu, kitchen } of menus.filter(({ menu }) => menu.date === day).slice(0, 4)) {
      lines.push(await priceLine(turn, menu, kitchen, person, slots));
    }
    const who = String(person._id) === turn.user.id ? '您' : (person.name ?? '老人');
    return {
      kind: 'done',
      text: `${dayWithWeekday(day)}${who}的饭价：\n${lines.join('\n')}\n想订请说，例如：${dayWithWeekday(day).slice(0, -4)}中午要一份`,
    };
  },
};

async function priceLine(turn: Turn, menu: Target['menu'], kitchen: Target['kitchen'], person: Parameters<typeof mealPriceFor>[3], slots: Record<string, unknown>): Promise<string> {
  const quantity = (slots.quantity as number | undefined) ?? 1;
  const here = await mealPriceFor(settings(turn), menu, kitchen, person, 'dine_in', quantity);
  const b = here.breakdown;
  const subsidy = b.subsidy ? `补贴 −${yuan(b.subsidy)}（${b.tier}）` : '没有补贴（补贴按年龄和身份，有疑问可发“人工”）';
  const parts = [`${MEAL_LABELS[menu.meal as Meal]}（${kitchen.name}）：原价 ${yuan(b.unitPrice)}${quantity > 1 ? ` × ${quantity} 份` : ''}，${subsidy}，堂食或自取应付 ${yuan(b.toPay)}`];
  const mode = slots.mode as MealMode | undefined;
  if (mode === 'delivery' || here.deliveryEligible) {
    const sent = await mealPriceFor(settings(turn), menu, kitchen, person, 'delivery', quantity);
    parts.push(here.deliveryEligible
      ? `送餐上门加送餐费 ${yuan(sent.breakdown.deliveryFee)}，应付 ${yuan(sent.breakdown.toPay)}`
      : `送餐上门需满 ${settings(turn).deliveryMinAge} 岁或经社区审核`);
  }
  if (quantity === 1 && b.subsidy) parts.push('补贴每人每餐一份，多订的按原价');
  return parts.join('；');
}

export const mealMoveFlows: Flow[] = [rescheduleMeal, mealPrice];
