/**
 * Clock times in a normalised message (numerals are already digits: 三点半 → 3点半).
 * - 15:00, 3点, 3点钟, 3时, 3点半 (:30), 3点1刻 (:15), 3点3刻 (:45), 3点15分, 3点15;
 * - the part of the day said before the time (here or earlier in the message) decides:
 *   上午 / 早上 keep the hour, 中午 makes 1–5 the afternoon, 下午 / 晚上 add 12;
 *   with no part of the day, 1–7 is the afternoon (the centre is closed at night) and 8–12
 *   stay as they are;
 * - ranges: 3点到5点, 10点-12点, 10-12点, 9:00-11:30; the end takes the start's part of the
 *   day (上午10点到12点) and moves to the afternoon when it would come first (上午10点到2点);
 * - 从3点开始 / 3点以后 give a start, 5点前 alone an end, and a duration (2个小时,
 *   1个半小时, 半小时) after a start gives the end.
 * Only a day part (下午) gives no time: the caller keeps it for the meal, not as a clock time.
 */

export interface Times {
  start?: string;
  end?: string;
}

type Part = 'am' | 'noon' | 'pm';

const PART_WORDS: Array<[RegExp, Part]> = [
  [/中午|午间|晌午/, 'noon'],
  [/下午|午后|傍晚|晚上|夜里|夜间|今晚|明晚|晚/, 'pm'],
  [/凌晨|早上|上午|早晨|清早|一早|今早|明早|早/, 'am'],
];
const PART_PATTERN = /中午|午间|晌午|下午|午后|傍晚|晚上|夜里|夜间|今晚|明晚|凌晨|早上|上午|早晨|清早|一早|今早|明早|晚|早/g;

const CLOCK = /(\d{1,2})(?::(\d{2})|(?:点|时)钟?(?:(半)|(\d)刻|(\d{1,2})分?)?)/g;

interface Token {
  index: number;
  end: number;
  hour: number;
  minute: number;
  part?: Part;
}

function partOf(word: string): Part | undefined {
  return PART_WORDS.find(([pattern]) => pattern.test(word))?.[1];
}

/** The nearest part-of-day word before `index`. */
function partBefore(text: string, index: number): Part | undefined {
  let found: Part | undefined;
  for (const m of text.matchAll(PART_PATTERN)) {
    if (m.index >= index) break;
    found = partOf(m[0]);
  }
  return found;
}

/** The part word right before the clock (下午3点), if any. */
function ownPart(text: string, index: number): Part | undefined {
  const before = text.slice(Math.max(0, index - 3), index).replace(/的$/, '');
  const m = /(中午|午间|晌午|下午|午后|傍晚|晚上|夜里|夜间|今晚|明晚|凌晨|早上|上午|早晨|清早|一早|今早|明早|晚|早)$/.exec(before);
  return m ? partOf(m[1]!) : undefined;
}

function to24(hour: number, part: Part | undefined): number {
  if (part === 'pm') return hour < 12 ? hour + 12 : hour;
  if (part === 'noon') return hour >= 1 && hour <= 5 ? hour + 12 : hour;
  if (part === 'am') return hour;
  return hour >= 1 && hour <= 7 ? hour + 12 : hour;
}

function format(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}

function tokens(text: string): Token[] {
  const found: Token[] = [];
  for (const m of text.matchAll(CLOCK)) {
    const hour = Number(m[1]);
    const minute = m[2] !== undefined ? Number(m[2]) : m[3] ? 30 : m[4] ? Number(m[4]) * 15 : m[5] ? Number(m[5]) : 0;
    if (hour > 24 || minute > 59) continue;
    // 3号, 12月 are dates; a bare number with neither 点 nor ':' never reaches here.
    found.push({ index: m.index, end: m.index + m[0].length, hour, minute, part: ownPart(text, m.index) });
  }
  return found;
}

function durationMinutes(text: string): number | undefined {
  if (/(?<!\d)半(?:个)?(?:小时|钟头)/.test(text) && !/\d个?半(?:个)?(?:小时|钟头)/.test(text)) return 30;
  const m = /(\d+(?:\.\d+)?)个?(半)?(?:个)?(?:小时|钟头)/.exec(text);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * 60) + (m[2] ? 30 : 0);
}

export function extractTimes(rawText: string): Times {
  // 10-12点 → 10点-12点, so both ends are clocks.
  const text = rawText.replace(/(?<![\d:])(\d{1,2})(到|至|-)(\d{1,2})(点|时)/g, '$1$4$2$3$4');
  const found = tokens(text);
  if (found.length === 0) return {};

  const first = found[0]!;
  const firstPart = first.part ?? partBefore(text, first.index);
  const start = to24(first.hour, firstPart) * 60 + first.minute;

  const second = found[1];
  if (second) {
    const secondPart = second.part ?? firstPart;
    let end = to24(second.hour, secondPart) * 60 + second.minute;
    if (end <= start && end + 12 * 60 <= 24 * 60) end += 12 * 60;
    if (end > start && end <= 24 * 60) return { start: format(start), end: format(end) };
    return { start: format(start) };
  }

  const after = text.slice(first.end, first.end + 3);
  if (/^(?:之|以)?前/.test(after) && !/(?:开始|以后|之后|起)/.test(text)) return { end: format(start) };
  const minutes = durationMinutes(text.replace(CLOCK, ' '));
  if (minutes !== undefined && start + minutes <= 24 * 60) return { start: format(start), end: format(start + minutes) };
  return { start: format(start) };
}
