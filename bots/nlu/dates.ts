import * as chrono from 'chrono-node';
import {
  daysInMonth,
  formatDay,
  mondayOf,
  nextDateOfMonth,
  partsOf,
  validDay,
  weekdayOf,
  type Day,
} from './days.js';

/**
 * The days a (normalised) message talks about, in Chinese usage, relative to `today` (a
 * Shanghai calendar day):
 * - 今天 / 明天 / 后天 / 大后天 (明儿个 etc. are already spelled 明天 by normalise), N天后;
 * - 周三 alone is the next Wednesday, today included (周三 said on a Monday: this week's;
 *   said on a Thursday: next week's); 这周三 / 本周三 is this calendar week's even if past;
 *   下周三 is the Wednesday of next calendar week (weeks start Monday), 下下周三 the one
 *   after; 周末 = Saturday and Sunday; 下周 alone = the seven days of next week, 这周 = today
 *   to Sunday; 周一三五 = three days;
 * - explicit days: 12月3号, 2026年12月3日, 2026-12-03 (chrono-node's zh parser), 12/3,
 *   下个月5号, 月底, and 3号 = the next 3rd (this month if not past, else the next month that
 *   has one); a day without a year that has passed this year is next year's;
 * - ranges "A到B" (下周一到周五: B takes A's week; 12月1号到5号: B takes A's month),
 *   "until" ranges (到周五为止, 截止到12月5号: from today), 从明天开始连续3天;
 * - series: 每周二…连续4周 / 共4次 → the first Tuesday and the three after it.
 * Every result is sorted and unique; a range is capped at 62 days.
 */

interface Atom {
  start: number;
  end: number;
  days: Day[];
  kind: 'relative' | 'weekday' | 'week' | 'explicit' | 'monthday' | 'range';
  /** Weekday atoms: whether the week was said (下周, 这周) and which; 每周 marks a series. */
  weekSaid?: boolean;
  weekdays?: number[];
  every?: boolean;
}

const MAX_RANGE_DAYS = 62;

const RELATIVE: Record<string, number> = {
  大前天: -3,
  前天: -2,
  昨天: -1,
  昨晚: -1,
  今天: 0,
  今早: 0,
  今晚: 0,
  今夜: 0,
  当天: 0,
  明天: 1,
  明早: 1,
  明晚: 1,
  后天: 2,
  大后天: 3,
};
const RELATIVE_PATTERN = /大后天|大前天|前天|昨天|昨晚|今天|今早|今晚|今夜|当天|明天|明早|明晚|后天/g;

const WEEKDAY_CHARS: Record<string, number> = { 一: 1, 二: 2, 三: 3, 四: 4, 五: 5, 六: 6, 日: 7 };

/** Which week a prefix names, counted from this week (0). */
function weekShift(prefix: string): number | undefined {
  const p = prefix.replace(/个|一个/g, '');
  if (p === '下下') return 2;
  if (p === '下') return 1;
  if (p === '上上') return -2;
  if (p === '上') return -1;
  if (p === '这' || p === '本' || p === '这一') return 0;
  return undefined;
}

/** The next `weekday` on or after today. */
function nextWeekday(today: Day, weekday: number): Day {
  return today + ((weekday - weekdayOf(today) + 7) % 7);
}

function overlaps(atoms: Atom[], start: number, end: number): boolean {
  return atoms.some((a) => start < a.end && end > a.start);
}

function span(from: Day, to: Day): Day[] {
  const days: Day[] = [];
  for (let d = from; d <= to && days.length < MAX_RANGE_DAYS; d += 1) days.push(d);
  return days;
}

/** A day without a year: this year's, or next year's when this year's has passed. */
function upcoming(today: Day, month: number, date: number): Day | undefined {
  const { year } = partsOf(today);
  const thisYear = validDay(year, month, date);
  if (thisYear !== undefined && thisYear >= today) return thisYear;
  return validDay(year + 1, month, date) ?? thisYear;
}

/** What a chrono result must contain to be used. */
const CHRONO_KEEPS = /月|\d{4}-\d{1,2}-\d{1,2}/;

/** 12月3号, 2026年12月3日, 2026-12-03, and their ranges, read by chrono-node's zh parser. */
function chronoAtoms(text: string, today: Day): Atom[] {
  // Only a result whose text says 月 or a full date is kept (below), and a result's text is part
  // of `text`: without either, chrono has nothing to give (most messages: 确认, 1, 我的预约).
  if (!CHRONO_KEEPS.test(text)) return [];
  const { year, month, date } = partsOf(today);
  // chrono reads the reference with the process's local clock: give it Shanghai's wall clock.
  const reference = new Date(year, month - 1, date, 12, 0, 0);
  const atoms: Atom[] = [];
  for (const result of chrono.zh.hans.parse(text, reference)) {
    if (!result.start.isCertain('day') || !result.start.isCertain('month')) continue;
    if (!CHRONO_KEEPS.test(result.text)) continue;
    const read = (c: chrono.ParsedComponents): Day | undefined => {
      const m = c.get('month')!;
      const d = c.get('day')!;
      return c.isCertain('year') ? validDay(c.get('year')!, m, d) : upcoming(today, m, d);
    };
    const first = read(result.start);
    if (first === undefined) continue;
    // A range of hours (12月10号下午3点到5点) is one day: chrono puts an end before the start
    // on the next day; only an end whose day is said makes a range of days.
    const endSaid = result.text.split(/到|至|~|—/).slice(1).join('');
    let last = result.end && (!endSaid || /[号日月]|\d-\d/.test(endSaid)) ? read(result.end) : undefined;
    if (last !== undefined && last < first && result.end && !result.end.isCertain('year')) {
      last = validDay(partsOf(last).year + 1, partsOf(last).month, partsOf(last).date);
    }
    const days = last !== undefined && last >= first ? span(first, last) : [first];
    atoms.push({
      start: result.index,
      end: result.index + result.text.length,
      days,
      kind: last !== undefined ? 'range' : 'explicit',
    });
  }
  return atoms;
}

function collectAtoms(text: string, today: Day): Atom[] {
  const atoms = chronoAtoms(text, today);
  const add = (atom: Atom) => {
    if (!overlaps(atoms, atom.start, atom.end) && atom.days.length > 0) atoms.push(atom);
  };
  const thisMonday = mondayOf(today);

  for (const m of text.matchAll(/(每个?|上上|下下|上个?|下一?个?|这一?个?|本)?周([一二三四五六日]+|末)(?:和|、|,)?((?:周[一二三四五六日](?:和|、|,)?)*)/g)) {
    const prefix = m[1] ?? '';
    const every = prefix.startsWith('每');
    const shift = every ? undefined : weekShift(prefix);
    const extra = [...(m[3] ?? '').matchAll(/周([一二三四五六日])/g)].map((x) => x[1]!).join('');
    const weekdays = m[2] === '末' ? [6, 7] : [...(m[2]! + extra)].map((c) => WEEKDAY_CHARS[c]!);
    let days: Day[];
    if (shift !== undefined) {
      days = weekdays.map((w) => thisMonday + shift * 7 + (w - 1));
    } else if (m[2] === '末') {
      // This weekend's days not yet past (on a Sunday: that Sunday).
      days = weekdays.map((w) => thisMonday + (w - 1)).filter((d) => d >= today);
    } else {
      days = weekdays.map((w) => nextWeekday(today, w));
    }
    add({ start: m.index, end: m.index + m[0].length, days, kind: 'weekday', weekSaid: shift !== undefined, weekdays, every });
  }

  // A whole week: 下周 (Monday to Sunday), 这周 / 本周 (today to Sunday); 下周工作日 = Monday to Friday.
  for (const m of text.matchAll(/(上上|下下|上个?|下一?个?|这一?个?|本)周(的?工作日)?(?![一二三四五六日末])/g)) {
    const shift = weekShift(m[1]!)!;
    const monday = thisMonday + shift * 7;
    const last = monday + (m[2] ? 4 : 6);
    add({ start: m.index, end: m.index + m[0].length, days: span(Math.max(monday, shift === 0 ? today : monday), last), kind: 'week', weekSaid: true });
  }

  for (const m of text.matchAll(RELATIVE_PATTERN)) {
    add({ start: m.index, end: m.index + m[0].length, days: [today + RELATIVE[m[0]]!], kind: 'relative' });
  }
  for (const m of text.matchAll(/(?:过)?(\d{1,3})天(?:以|之)?后/g)) {
    add({ start: m.index, end: m.index + m[0].length, days: [today + Number(m[1])], kind: 'relative' });
  }

  // 下个月5号, 这个月15号, 本月底, 月底.
  for (const m of text.matchAll(/(下个?|这个?|本)?月(?:(\d{1,2})[号日]|底)/g)) {
    if (text[m.index - 1] !== undefined && /\d/.test(text[m.index - 1]!)) continue;
    const { year, month } = partsOf(today);
    const shift = m[1]?.startsWith('下') ? 1 : 0;
    const y = year + Math.floor((month - 1 + shift) / 12);
    const mo = ((month - 1 + shift) % 12) + 1;
    const date = m[2] ? Number(m[2]) : daysInMonth(y, mo);
    const day = validDay(y, mo, date);
    if (day !== undefined) add({ start: m.index, end: m.index + m[0].length, days: [day], kind: 'explicit' });
  }

  // 2026/12/3, 12/3, 12.3 (not 1.5小时).
  for (const m of text.matchAll(/(?<![\d/.:])(?:(\d{4})[/.])?(\d{1,2})[/.](\d{1,2})(?![\d/.:]|小时|个|份|元|块|点)/g)) {
    const month = Number(m[2]);
    const date = Number(m[3]);
    const day = m[1] ? validDay(Number(m[1]), month, date) : upcoming(today, month, date);
    if (day !== undefined) add({ start: m.index, end: m.index + m[0].length, days: [day], kind: 'explicit' });
  }

  // 12-5中午: month-day with a dash, only before words of a day (not 3-4个人, not 10-12点).
  for (const m of text.matchAll(/(?<![\d\-:])(\d{1,2})-(\d{1,2})(?:号|日)?(?=中午|上午|下午|晚上|早上|的|借|订|托|送|要|用|[,.]|$)/g)) {
    const day = upcoming(today, Number(m[1]), Number(m[2]));
    if (day !== undefined) add({ start: m.index, end: m.index + m[0].length, days: [day], kind: 'explicit' });
  }

  // 3号 / 3日: the next 3rd. Not 3号楼, not 周日.
  for (const m of text.matchAll(/(?<![\d月])(\d{1,2})[号日](?![楼房室院])/g)) {
    const day = nextDateOfMonth(today, Number(m[1]));
    if (day !== undefined) add({ start: m.index, end: m.index + m[0].length, days: [day], kind: 'monthday' });
  }

  return atoms.sort((a, b) => a.start - b.start);
}

const RANGE_GAP = /^(?:的)?(?:开始|起)?(?:到|至|-|一直到|直到)$/;

/** B of "A到B" read in A's week or month, and moved forward when it would come before A. */
function rangeEnd(a: Atom, b: Atom): Day {
  const first = a.days[0]!;
  let last = b.days[b.days.length - 1]!;
  if (b.kind === 'weekday' && !b.weekSaid && (a.kind === 'weekday' || a.kind === 'week') && a.weekSaid) {
    last = mondayOf(first) + (b.weekdays![b.weekdays!.length - 1]! - 1);
    if (last < first) last += 7;
  } else if (b.kind === 'monthday' && (a.kind === 'explicit' || a.kind === 'range')) {
    const { year, month } = partsOf(first);
    const date = partsOf(last).date;
    last = validDay(year, month, date) ?? last;
    if (last < first) last = nextDateOfMonth(first, date) ?? last;
  } else if (b.kind === 'weekday' && last < first) {
    last += 7;
  }
  return last;
}

/** How many times a series repeats: 连续4周 / 共4周 / 4个周 / 共4次 (only after 每周, or with 连续 / 共). */
function seriesCount(text: string, every: boolean): { weeks?: number; times?: number } {
  const weeks = /(连续|一共|总共|共)?(\d{1,2})个?周/.exec(text);
  if (weeks && (every || weeks[1])) return { weeks: Number(weeks[2]) };
  const months = /(连续|一共|总共|共)?(\d)个月/.exec(text);
  if (months && (every || months[1])) return { weeks: 4 * Number(months[2]) };
  const times = /(?:连续|一共|总共|共)(\d{1,2})次/.exec(text);
  if (times) return { times: Number(times[1]) };
  return {};
}

export function extractDates(rawText: string, today: Day): string[] {
  // 周一到五: the second weekday without its 周.
  const text = rawText.replace(/(周[一二三四五六日])(到|至|-)([一二三四五六日])(?![\d点时个份号])/g, '$1$2周$3');
  const atoms = collectAtoms(text, today);
  const chosen = new Set<Day>();
  const used = new Set<Atom>();

  for (let i = 0; i < atoms.length; i += 1) {
    const a = atoms[i]!;
    if (used.has(a)) continue;
    const b = atoms[i + 1];
    if (b && RANGE_GAP.test(text.slice(a.end, b.start))) {
      for (const d of span(a.days[0]!, rangeEnd(a, b))) chosen.add(d);
      used.add(a).add(b);
      continue;
    }
    // "Until" ranges: 到周五为止, 截止到12月5号, 一直到月底 — from today.
    const before = text.slice(Math.max(0, a.start - 4), a.start);
    const after = text.slice(a.end, a.end + 3);
    const previous = atoms[i - 1];
    const openStart = !previous || !used.has(previous);
    if (openStart && /(?:到|至)$/.test(before) && (/(?:截止|截至|一直|直)到?$/.test(before) || /^(?:为止|止|结束|截止)/.test(after) || /每天/.test(text))) {
      for (const d of span(Math.min(today, a.days[0]!), a.days[a.days.length - 1]!)) chosen.add(d);
      used.add(a);
      continue;
    }
    // 下周开始每周三…: a whole week followed by 开始 / 起 only says when a series starts.
    if (a.kind === 'week' && /^(?:开始|起)/.test(after) && atoms.some((x) => x.every)) {
      used.add(a);
      continue;
    }
    // A series until a day: 每周一下午托管，到月底 / 到12月20号为止.
    const until = a.kind === 'weekday' && a.every ? atoms.find((x) => x.start > a.end && /(?:到|至|截止|截至)$/.test(text.slice(Math.max(0, x.start - 3), x.start))) : undefined;
    if (until) {
      const last = until.days[until.days.length - 1]!;
      for (const first of a.days) for (let d = first, k = 0; d <= last && k < 26; d += 7, k += 1) chosen.add(d);
      used.add(a).add(until);
      continue;
    }
    // A series: 每周二…连续4周.
    if (a.kind === 'weekday') {
      const count = seriesCount(text, Boolean(a.every));
      if (count.weeks !== undefined || count.times !== undefined) {
        const startWeek = atoms.find((x) => x.kind === 'week' && x.end <= a.start && /^(?:开始|起)/.test(text.slice(x.end, x.end + 2)));
        const firsts = startWeek
          ? a.weekdays!.map((w) => startWeek.days[0]! - (weekdayOf(startWeek.days[0]!) - 1) + (w - 1))
          : a.days;
        const series: Day[] = [];
        const weeks = count.weeks ?? Math.ceil(count.times! / firsts.length);
        for (let k = 0; k < Math.min(weeks, 26); k += 1) for (const f of firsts) series.push(f + 7 * k);
        series.sort((x, y) => x - y);
        for (const d of series.slice(0, count.times ?? series.length)) chosen.add(d);
        used.add(a);
        continue;
      }
    }
    // 从明天开始连续3天.
    const run = /连续(\d{1,2})天/.exec(text);
    if (run && atoms.length === 1) {
      for (const d of span(a.days[0]!, a.days[0]! + Number(run[1]) - 1)) chosen.add(d);
      used.add(a);
      continue;
    }
    for (const d of a.days) chosen.add(d);
    used.add(a);
  }

  if (atoms.length === 0) {
    const run = /(?:连续|接下来|未来|这)(\d{1,2})天/.exec(text);
    if (run) for (const d of span(today, today + Number(run[1]) - 1)) chosen.add(d);
  }
  return [...chosen].sort((x, y) => x - y).map(formatDay);
}

