import { extractDates } from './dates.js';
import { shanghaiToday } from './days.js';
import { intentOf } from './intents.js';
import { normalise } from './normalise.js';
import { choiceOf, dietaryOf, isForOther, mealOf, modeOf, peopleOf, quantityOf } from './slots.js';
import { extractTimes } from './times.js';
import type { Intent, Understanding } from './types.js';

export type { Dietary, Intent, Meal, Mode, Understanding } from './types.js';
export { INTENTS, DIETARY } from './types.js';
export { normalise } from './normalise.js';
export { urgentKindOf, type UrgentKind } from './urgent.js';

type Slot = Exclude<keyof Understanding, 'intent'>;

/**
 * Which slots each intent keeps. A slot another intent would use is noise here: 送餐 in a
 * volunteer's message is a task, not a delivery; a reschedule names two days (from, to), which
 * one `dates` list cannot tell apart, so it keeps none and the dialogue asks.
 */
const SLOTS: Record<Intent, Slot[]> = {
  urgent: [],
  'meal.book': ['dates', 'meal', 'mode', 'quantity', 'dietary', 'forOther'],
  'meal.cancel': ['dates', 'meal', 'quantity', 'forOther'],
  // The day and meal moved to (the day moved from is read by the dialogue: flows/mealMoves.ts).
  'meal.reschedule': ['dates', 'meal', 'forOther'],
  'meal.price': ['dates', 'meal', 'mode', 'quantity', 'forOther'],
  'meal.list': ['dates', 'meal', 'forOther'],
  'meal.menu': ['dates', 'meal', 'dietary'],
  'childcare.book': ['dates', 'start', 'end', 'people', 'forOther'],
  'childcare.cancel': ['dates', 'start', 'end', 'forOther'],
  'childcare.availability': ['dates', 'start', 'end', 'people'],
  'room.book': ['dates', 'start', 'end', 'people', 'forOther'],
  'room.cancel': ['dates', 'start', 'end', 'forOther'],
  'room.availability': ['dates', 'start', 'end', 'people'],
  'room.reschedule': ['forOther'],
  'volunteer.tasks': ['dates'],
  'volunteer.claim': ['dates', 'start', 'end'],
  'volunteer.unclaim': ['dates'],
  'volunteer.register': [],
  'volunteer.checkin': [],
  'volunteer.checkout': [],
  'volunteer.hours': [],
  'booking.list': ['dates', 'forOther'],
  help: [],
  human: [],
  confirm: [],
  deny: [],
  choice: ['choice'],
  unknown: [],
};

const MOVE_TO = /改到|换到|挪到|调到|改成|换成|改为|推迟到|提前到/;

const WHEN_WORDS =
  /大后天|后天|明天|今天|今晚|明晚|明早|(?:上上|下下|上|下|这|本|每)?(?:个)?周[一二三四五六日末]*|\d{4}年|\d{1,2}月(?:\d{1,2}[号日])?|\d{1,2}[号日]|\d{1,2}[/.]\d{1,2}|(?:早上|上午|中午|下午|晚上|傍晚)|\d{1,2}(?::\d{2}|点(?:钟)?(?:半|\d刻|\d{1,2}分?)?)|到|至|-|的|和|或者?|每天|那天|吧|呢|啊|行|可以|就|[,.!?、。\s]/g;

/** Whether nothing but days and times is said (明天, 下周三下午3点到5点, 12月3号吧). */
function onlySaysWhen(normal: string): boolean {
  return normal !== '' && /\d|[天周月号日午晚早]/.test(normal) && normal.replace(WHEN_WORDS, '') === '';
}

/**
 * What one chat message asks for, relative to `now` (the moment it was received; days are
 * read in Asia/Shanghai whatever the process's TZ). Pure: no I/O, no clock of its own.
 * Fields not found are left out; see `../shared/nlu/CONTRACT.md`.
 */
export function understand(text: string, now: Date): Understanding {
  const normal = normalise(text);
  const today = shanghaiToday(now);
  let dates = extractDates(normal, today);
  const intent = intentOf(normal, dates.length > 0);
  // 把周三的饭改到周四: a meal moves to the day after 改到 (dates); childcare cannot be moved, so
  // the bot cancels the first day's.
  const move = MOVE_TO.exec(normal);
  if (move && intent === 'childcare.cancel') dates = extractDates(normal.slice(0, move.index), today);
  // Without 改到 (明天的饭改天吧) the day said is the old one: the dialogue asks for the new.
  if (intent === 'meal.reschedule') dates = move ? extractDates(normal.slice(move.index), today) : [];
  // A message that only says when (明天, 周三下午3点) answers the dialogue's "哪天？": keep the when.
  const keep = new Set<Slot>(intent === 'unknown' && onlySaysWhen(normal) ? ['dates', 'start', 'end'] : SLOTS[intent]);
  const result: Understanding = { intent };
  if (keep.size === 0) return result;

  if (keep.has('dates') && dates.length > 0) result.dates = dates;
  const times = extractTimes(normal);
  if (keep.has('start') && times.start) result.start = times.start;
  if (keep.has('end') && times.end) result.end = times.end;
  // A meal moved to another meal (午饭改成晚饭) is the one after 改成; else the one named.
  const movedTo = move && intent === 'meal.reschedule' ? mealOf(normal.slice(move.index)) : undefined;
  const meal = keep.has('meal') ? movedTo ?? mealOf(normal, times.start ? Number(times.start.slice(0, 2)) : undefined) : undefined;
  if (meal) result.meal = meal;
  const mode = keep.has('mode') ? modeOf(normal) : undefined;
  if (mode) result.mode = mode;
  const quantity = keep.has('quantity') ? quantityOf(normal) : undefined;
  if (quantity !== undefined) result.quantity = quantity;
  const people = keep.has('people') ? peopleOf(normal) : undefined;
  if (people !== undefined) result.people = people;
  const dietary = keep.has('dietary') ? dietaryOf(normal) : undefined;
  if (dietary) result.dietary = dietary;
  if (keep.has('forOther') && isForOther(normal)) result.forOther = true;
  const choice = keep.has('choice') ? choiceOf(normal) : undefined;
  if (choice !== undefined) result.choice = choice;
  return result;
}

/**
 * Every slot a message gives, whatever its intent: what the dialogue reads from an answer to
 * its own question (8个人, 到5点, 两份, 送到家), where `understand` keeps, as the contract
 * says, only the slots of the message's intent.
 */
export function readSlots(text: string, now: Date): Omit<Understanding, 'intent'> {
  const normal = normalise(text);
  const found: Omit<Understanding, 'intent'> = {};
  const dates = extractDates(normal, shanghaiToday(now));
  if (dates.length) found.dates = dates;
  const times = extractTimes(normal);
  if (times.start) found.start = times.start;
  if (times.end) found.end = times.end;
  const meal = mealOf(normal, times.start ? Number(times.start.slice(0, 2)) : undefined);
  if (meal) found.meal = meal;
  const mode = modeOf(normal);
  if (mode) found.mode = mode;
  const quantity = quantityOf(normal);
  if (quantity !== undefined) found.quantity = quantity;
  const people = peopleOf(normal);
  if (people !== undefined) found.people = people;
  const dietary = dietaryOf(normal);
  if (dietary) found.dietary = dietary;
  if (isForOther(normal)) found.forOther = true;
  return found;
}
