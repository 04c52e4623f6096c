import * as OpenCC from 'opencc-js';

/**
 * One canonical spelling of a message, so the rules after it see one form only:
 * full-width → half-width (NFKC: ２ → 2, ， → ",", ① → 1), emoji and WeChat stickers ([微笑])
 * removed, traditional → simplified (OpenCC's Taiwan table, which also knows 週 → 周,
 * 喫 → 吃), lower-case ASCII, spaces removed except between two ASCII words, dialect day
 * words (明儿个 → 明天), one spelling of the week (星期 / 礼拜 / 週 → 周, 周天 → 周日), and
 * Chinese numerals that count or tell the time written as digits (三点半 → 3点半,
 * 两份 → 2份, 第二个 → 第2个). Weekday names stay in words (周三), and so does "a bit"
 * (少放一点盐 is not one o'clock).
 */

const toSimplified = OpenCC.Converter({ from: 'tw', to: 'cn' });

const EMOJI = /[\p{Extended_Pictographic}\u{FE0E}\u{FE0F}\u{200D}\u{20E3}\u{1F3FB}-\u{1F3FF}\u{1F1E6}-\u{1F1FF}]/gu;
/** WeChat's own stickers arrive as text: [微笑], [捂脸], [OK]. */
const WECHAT_STICKER = /\[[\u4e00-\u9fffa-z]{1,4}\]/gi;

const DIGITS: Record<string, number> = { 零: 0, 〇: 0, 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };
const NUMERAL = '[零〇一二两三四五六七八九十百]';
const SMALL = '[一二两三四五六七八九]';

/**
 * What a number can count or measure. A numeral before one of these is a number;
 * elsewhere (一下, 一起, 统一) it is a word.
 */
const UNIT = '(?:点|时|份|个|位|号|日|月|年|人|周|次|天|分|刻|岁|星|盒|碗|名|钟|楼|块|元|斤|间|场|节|口)';

/** The value of a Chinese numeral: 十二 → 12, 二十三 → 23, 一百零五 → 105, 二〇二六 → 2026. */
export function chineseNumber(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  if (!new RegExp(`^${NUMERAL}+$`).test(text)) return undefined;
  if (!/[十百]/.test(text)) {
    // Read digit by digit: 二〇二六 → 2026; a single digit is itself.
    return Number([...text].map((c) => DIGITS[c]).join(''));
  }
  let total = 0;
  let current = 0;
  for (const c of text) {
    if (c === '十') {
      total += (current || 1) * 10;
      current = 0;
    } else if (c === '百') {
      total += (current || 1) * 100;
      current = 0;
    } else {
      current = DIGITS[c] ?? 0;
    }
  }
  return total + current;
}

function numeralsToDigits(text: string): string {
  const digit = (c: string) => String(DIGITS[c]);
  let out = text
    // Approximate counts become ranges: 二三十 → 20-30, 十五六 → 15-16, 三四个 → 3-4个.
    .replace(new RegExp(`(${SMALL})(${SMALL})十(?!${SMALL})`, 'g'), (_m, a: string, b: string) => `${digit(a)}0-${digit(b)}0`)
    .replace(new RegExp(`([二三四五六七八九]?)十(${SMALL})(${SMALL})(?=来?${UNIT})`, 'g'), (_m, t: string, a: string, b: string) => {
      const tens = t ? digit(t) : '1';
      return `${tens}${digit(a)}-${tens}${digit(b)}`;
    })
    .replace(new RegExp(`(?<![周${NUMERAL}])(${SMALL})(${SMALL})(?=来?${UNIT})`, 'g'), (m, a: string, b: string) =>
      Number(digit(b)) === Number(digit(a)) + 1 ? `${digit(a)}-${digit(b)}` : m,
    );
  // A numeral before a unit (not a weekday: 周一 stays), after 第 / 选, or on its own.
  out = out.replace(
    new RegExp(`(?<!周)(${NUMERAL}+)(?=(?:来|几|多)?${UNIT})`, 'g'),
    (m: string, run: string, offset: number, whole: string) => {
      if (run === '一' && whole[offset + 1] === '点' && isABit(whole, offset)) return m;
      return String(chineseNumber(run) ?? m);
    },
  );
  out = out.replace(new RegExp(`(?<=[第选])(${NUMERAL}+)`, 'g'), (m: string) => String(chineseNumber(m) ?? m));
  // Minutes after an hour: 3点十五 → 3点15.
  out = out.replace(new RegExp(`(?<=\\d[点:])(${NUMERAL}+)`, 'g'), (m: string) => String(chineseNumber(m) ?? m));
  // A message that is only a numeral (a reply to a numbered menu): 二 → 2.
  const alone = new RegExp(`^(${NUMERAL}+)([号个吧。.!]*)$`).exec(out);
  if (alone) out = `${chineseNumber(alone[1]!)}${alone[2]}`;
  return out;
}

/** 一点 meaning "a little": 少放一点, 软一点, 一点点, 一点儿. */
function isABit(whole: string, offset: number): boolean {
  const before = whole[offset - 1] ?? '';
  const after = whole[offset + 2] ?? '';
  return /[少多软烂快慢早晚好大小淡咸稀甜有清轻再差些吃放要加给来便宜贵近远]/.test(before) || /[点儿]/.test(after);
}

/** Spaces only matter between two ASCII words ("ok thanks"); elsewhere they are noise. */
function removeStraySpaces(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .replace(/ (?![a-z0-9])|(?<![a-z0-9]) /g, '')
    .trim();
}

/** A thumbs-up alone says yes; a cross alone says no. */
const YES_ALONE = /^(?:[\u{1F44D}\u{1F44C}\u{2705}\u{2714}\u{1F646}\u{1F197}\u{FE0F}\u{1F3FB}-\u{1F3FF}\s]|\[(?:强|ok|好的|嗯嗯|耶|胜利)\])+$/iu;
const NO_ALONE = /^(?:[\u{274C}\u{274E}\u{1F645}\u{1F6AB}\u{FE0F}\u{1F3FB}-\u{1F3FF}\s]|\[(?:弱|no)\])+$/iu;

export function normalise(text: string): string {
  if (YES_ALONE.test(text.trim()) && text.trim() !== '') return '好';
  if (NO_ALONE.test(text.trim()) && text.trim() !== '') return '不';
  let out = text.normalize('NFKC').replace(EMOJI, '').replace(WECHAT_STICKER, '');
  out = toSimplified(out).toLowerCase();
  out = removeStraySpaces(out)
    .replace(/[—–－~〜～]/g, '-')
    .replace(/甚么/g, '什么')
    // Dialect day words.
    .replace(/大后儿个|大后儿/g, '大后天')
    .replace(/明儿个|明儿|明个/g, '明天')
    .replace(/后儿个|后儿/g, '后天')
    .replace(/今儿个|今儿/g, '今天')
    .replace(/([今明后])日/g, '$1天')
    // One spelling of the week: 星期 = 礼拜 = 周; Sunday is 周日.
    .replace(/星期|礼拜/g, '周')
    .replace(/周天|周7/g, '周日')
    .replace(/周([1-6])(?!\d)/g, (_m, d: string) => `周${'一二三四五六'[Number(d) - 1]}`)
    // 俩 = two of them, 仨 = three.
    .replace(/俩个?/g, '2个')
    .replace(/仨个?/g, '3个');
  return numeralsToDigits(out);
}
