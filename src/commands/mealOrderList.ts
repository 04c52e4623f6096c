import { dayjs, shanghaiDay } from '../../models/calendar.js';
import { MealOrder, type MealOrderDoc } from '../../models/mealOrder.js';
import type { PersonFields } from '../../models/person.js';
import { fillMissingMonths, monthBefore, MONTHS_WALKED } from './monthWalk.js';

const newestFirst = (a: MealOrderDoc, b: MealOrderDoc) => b.date.localeCompare(a.date) || a.meal.localeCompare(b.meal);

/**
 * A resident's orders (or an elder's, for a proxy), newest day first, `limit` of them, within
 * `from`–`to` (days) when given. Read a month at a time from the newest (`{bookedFor, month}`
 * equality, pushed down and indexed), so a busy resident's page costs a month or two of orders,
 * not a year of them; a range or a sort over `{bookedFor}` was decoded in full by FerretDB v1.
 * The newest month is next month or that of the person's furthest confirmed order, whichever is
 * later (menus are published ahead). Past twelve months the rest is one `{bookedFor}` read:
 * only a person with few orders gets that far.
 */
export async function listMealOrders(person: PersonFields, q: { from?: string; to?: string; limit?: number } = {}, now = new Date()): Promise<MealOrderDoc[]> {
  const limit = q.limit ?? 50;
  const inRange = (o: MealOrderDoc) => (!q.from || o.date >= q.from) && (!q.to || o.date <= q.to);
  const nextMonth = dayjs.utc(`${shanghaiDay(now).slice(0, 7)}-01`).add(1, 'month').format('YYYY-MM');
  let month = q.to ? q.to.slice(0, 7) : await newestMonth(person, nextMonth);
  const oldest = q.from?.slice(0, 7);
  const found: MealOrderDoc[] = [];
  for (let walked = 0; found.length < limit && (!oldest || month >= oldest); walked++) {
    if (walked === MONTHS_WALKED) {
      const before = month;
      const rest = await MealOrder.find({ bookedFor: person._id });
      found.push(...rest.filter((o) => (o.month ?? o.date.slice(0, 7)) <= before && inRange(o)).sort(newestFirst));
      break;
    }
    const orders = await MealOrder.find({ bookedFor: person._id, month });
    found.push(...orders.filter(inRange).sort(newestFirst));
    month = monthBefore(month);
  }
  return found.slice(0, limit);
}

/** The later of `atLeast` and the month of the person's furthest confirmed order (a short list: what is still to come). */
async function newestMonth(person: PersonFields, atLeast: string): Promise<string> {
  const open = await MealOrder.find({ bookedFor: person._id, status: 'confirmed' }).select({ date: 1 }).lean();
  return open.reduce((latest, o) => (o.date.slice(0, 7) > latest ? o.date.slice(0, 7) : latest), atLeast);
}

/** Gives orders written before the `month` field existed their month (see fillMissingMonths). */
export function backfillMealOrderMonths(): Promise<number> {
  return fillMissingMonths(MealOrder, 'date', (date: string) => date.slice(0, 7));
}
