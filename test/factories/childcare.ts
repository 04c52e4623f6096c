import {
  Child,
  ChildcareSession,
  type ChildDoc,
  type ChildFields,
  type ChildcareSessionDoc,
  type ChildcareSessionFields,
  type FacilityDoc,
  type PersonDoc,
} from '../../models/index.js';
import { atShanghai, dayjs, shanghaiDay } from '../../models/calendar.js';
import { makeChildcareCentre } from './community.js';
import { nextSeq } from './sequence.js';

/**
 * The first Monday-to-Friday Shanghai day from the day after tomorrow: open for booking at any
 * hour, since childcare booking closes the day before, at 17:00 Shanghai.
 */
export function bookableWeekday(now = new Date()): string {
  let day = dayjs.utc(shanghaiDay(now)).add(2, 'day');
  while (day.day() === 0 || day.day() === 6) day = day.add(1, 'day');
  return day.format('YYYY-MM-DD');
}

/**
 * A morning (08:30–12:00) 托小班 session with 2 carers at `centre` (a new centre when omitted)
 * on `date` (default: bookableWeekday()). Capacity follows sessionCapacity() unless overridden.
 */
export async function makeSession(
  centre?: FacilityDoc,
  overrides: Partial<ChildcareSessionFields> & { date?: string; from?: string; to?: string } = {},
): Promise<ChildcareSessionDoc> {
  const owner = centre ?? (await makeChildcareCentre());
  const { date = bookableWeekday(), from = '08:30', to = '12:00', ...rest } = overrides;
  return ChildcareSession.create({
    centre: owner._id,
    date,
    start: atShanghai(date, from),
    end: atShanghai(date, to),
    classType: '托小班',
    carersOnShift: 2,
    ...rest,
  });
}

/** A child of `parent`, `months` months old today (default 20: 托小班 age). */
export function makeChild(parent: PersonDoc, overrides: Partial<ChildFields> & { months?: number } = {}): Promise<ChildDoc> {
  const { months = 20, ...rest } = overrides;
  const born = dayjs.utc(shanghaiDay(new Date())).subtract(months, 'month').subtract(5, 'day').format('YYYY-MM-DD');
  return Child.create({
    parents: [parent._id],
    name: `测试宝宝${nextSeq()}`,
    birthDate: atShanghai(born, '00:00'),
    allergies: [],
    guardians: [],
    ...rest,
  });
}

/** The Shanghai day `days` from today, YYYY-MM-DD. */
export function shanghaiDayFromNow(days: number, now = new Date()): string {
  return dayjs.utc(shanghaiDay(now)).add(days, 'day').format('YYYY-MM-DD');
}

/** A child born on the Shanghai day `born` (YYYY-MM-DD). */
export function makeChildBornOn(parent: PersonDoc, born: string, overrides: Partial<ChildFields> = {}): Promise<ChildDoc> {
  return makeChild(parent, { birthDate: atShanghai(born, '00:00'), ...overrides });
}

/**
 * A session running now: started about `minutesAgo` minutes ago (a few seconds apart per call,
 * so sessions of one centre never collide), ending 3 hours later. For drop-off and pick-up tests.
 */
const sessionStartsUsed = new Set<number>();

export function makeSessionNow(centre: FacilityDoc, overrides: Partial<ChildcareSessionFields> = {}, minutesAgo = 10): Promise<ChildcareSessionDoc> {
  // Whole seconds, and never the same start twice in a run: (centre, start, classType) is
  // unique, and two calls a second apart must not meet on a loaded machine.
  let at = Math.floor((Date.now() - minutesAgo * 60_000) / 1000) * 1000;
  while (sessionStartsUsed.has(at)) at -= 1000;
  sessionStartsUsed.add(at);
  const start = new Date(at);
  return ChildcareSession.create({
    centre: centre._id,
    date: shanghaiDay(start),
    start,
    end: new Date(start.getTime() + 3 * 3_600_000),
    classType: '托小班',
    carersOnShift: 2,
    ...overrides,
  });
}

/** A health declaration as a parent gives it when booking. */
export const HEALTHY = { healthy: true } as const;
