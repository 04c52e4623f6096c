import { normalise } from './normalise.js';

/**
 * Words for options: a reply that names one of the numbered options instead of its number
 * (通过, 同意, 驳回, 上午的那个, 健康 / 没发烧, 书画室), read as that option's number (1-based).
 * Undefined when no option, or more than one, fits: the dialogue then asks again.
 */

/** Words that mean an option whose label holds the key. */
const SYNONYMS: Array<[RegExp, RegExp]> = [
  [/通过|同意|批准/, /^(?:通过|同意|批准|准了|可以|行|没问题|通过吧|同意吧)$/],
  [/拒绝|驳回/, /^(?:拒绝|驳回|不同意|不通过|不批|不行|拒了|不准)$/],
  [/健康|没有/, /健康|没(?:有)?(?:发烧|咳嗽|腹泻|不适|不舒服|事)|都没有|^没有$|挺好|很好|好着/],
  [/有不适/, /^(?:有|有点|有些)(?:不适|不舒服|发烧|咳嗽|腹泻)|^(?:发烧|咳嗽|腹泻|拉肚子)(?:了)?$/],
];

const PART_OF_DAY: Array<[RegExp, (hour: number) => boolean]> = [
  [/上午|早上/, (h) => h < 12],
  [/中午/, (h) => h >= 11 && h < 14],
  [/下午/, (h) => h >= 12 && h < 18],
  [/晚上/, (h) => h >= 18],
];

const only = (indexes: number[]) => (indexes.length === 1 ? indexes[0]! + 1 : undefined);

/** The option a reply names, as its number, or undefined. */
export function choiceByWords(text: string, labels: readonly string[]): number | undefined {
  const said = normalise(text).replace(/[,.!?。，！？\s]/g, '').replace(/^(?:选|要|就|我选|我要)/, '').replace(/(?:的那个|那个|这个|的|吧|呢|啊)+$/, '');
  if (!said) return undefined;
  for (const [label, words] of SYNONYMS) {
    if (!words.test(said)) continue;
    const hit = only(labels.map((l, i) => (label.test(l) ? i : -1)).filter((i) => i >= 0));
    if (hit) return hit;
  }
  const named = only(labels.map((l, i) => (normalise(l).includes(said) && said.length >= 2 ? i : -1)).filter((i) => i >= 0));
  if (named) return named;
  for (const [words, fits] of PART_OF_DAY) {
    if (!words.test(said)) continue;
    const hit = only(labels.map((l, i) => {
      const hour = /(\d{1,2}):\d{2}/.exec(l)?.[1];
      return hour !== undefined && fits(Number(hour)) ? i : -1;
    }).filter((i) => i >= 0));
    if (hit) return hit;
  }
  return undefined;
}
