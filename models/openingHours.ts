import { Schema } from 'mongoose';
import { TIME_OF_DAY_PATTERN, minutesOfDay } from './calendar.js';

/**
 * Opening hours shared by facilities and rooms: a list of {weekday, open, close} intervals.
 * weekday follows JavaScript and dayjs (0 = Sunday … 6 = Saturday) in Asia/Shanghai. A weekday
 * with no interval is closed; a weekday may have two intervals (a lunch break), which is why
 * this is a flat list and not one entry per weekday.
 */

/** The policy floor (开放时间每天不少于8小时) for open days; enforced where staff edit hours. */
export const MIN_OPEN_HOURS_PER_DAY = 8;

export interface OpeningInterval {
  weekday: number;
  open: string;
  close: string;
}

const openingIntervalSchema = new Schema(
  {
    weekday: { type: Number, required: true, min: 0, max: 6, validate: Number.isInteger },
    open: { type: String, required: true, match: TIME_OF_DAY_PATTERN },
    close: { type: String, required: true, match: TIME_OF_DAY_PATTERN },
  },
  { _id: false },
);

/**
 * True when every interval closes after it opens and no two intervals of one weekday
 * overlap. The 8-hour floor is not checked here: it is a rule (configuration), not a shape.
 */
export function validOpeningHours(hours: readonly OpeningInterval[]): boolean {
  const sorted = [...hours].sort((a, b) => a.weekday - b.weekday || a.open.localeCompare(b.open));
  for (let i = 0; i < sorted.length; i += 1) {
    const cur = sorted[i]!;
    if (!TIME_OF_DAY_PATTERN.test(cur.open) || !TIME_OF_DAY_PATTERN.test(cur.close)) return false;
    if (minutesOfDay(cur.close) <= minutesOfDay(cur.open)) return false;
    const prev = sorted[i - 1];
    if (prev && prev.weekday === cur.weekday && minutesOfDay(cur.open) < minutesOfDay(prev.close)) return false;
  }
  return true;
}

/** Minutes open on a weekday (0 = Sunday); 0 when closed. */
export function openMinutesOn(hours: readonly OpeningInterval[], weekday: number): number {
  return hours
    .filter((h) => h.weekday === weekday)
    .reduce((sum, h) => sum + minutesOfDay(h.close) - minutesOfDay(h.open), 0);
}

/** The schema path for opening hours; a fresh definition per schema that uses it. */
export function openingHoursPath() {
  return {
    type: [openingIntervalSchema],
    default: [],
    validate: {
      validator: (hours: OpeningInterval[]) => validOpeningHours(hours),
      message: 'opening hours: each interval must close after it opens, and intervals of a weekday must not overlap',
    },
  };
}
