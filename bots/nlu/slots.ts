import { DIETARY, type Dietary, type Meal, type Mode } from './types.js';

/**
 * The slots of a normalised message other than days and times. Each reader returns
 * undefined when the message does not say; index.ts decides which intents keep which slot.
 */

/** 早饭 / 早上 → breakfast, 午饭 / 中午 → lunch, 晚饭 / 晚上 / 今晚 → dinner; else from a clock hour. */
export function mealOf(text: string, startHour?: number): Meal | undefined {
  if (/早饭|早餐|早点(?!儿|来|去|送)|早上|早晨|清早|今早|明早|breakfast/.test(text)) return 'breakfast';
  if (/午饭|午餐|中饭|中餐|中午|晌午|lunch/.test(text)) return 'lunch';
  if (/晚饭|晚餐|晚上|今晚|明晚|傍晚|夜饭|dinner|supper/.test(text)) return 'dinner';
  if (startHour !== undefined) {
    if (startHour >= 6 && startHour < 10) return 'breakfast';
    if (startHour >= 10 && startHour < 15) return 'lunch';
    if (startHour >= 16 && startHour < 21) return 'dinner';
  }
  return undefined;
}

/** 送 / 送到家 / 送上门 → delivery, 去食堂吃 / 堂食 → dine_in, 自己来拿 / 自取 / 打包 → pickup. */
export function modeOf(text: string): Mode | undefined {
  if (/自取|自己(?:来|去|过来|过去)?(?:拿|取)|(?:来|去|过来|过去|到食堂|上门)(?:拿|取)|打包(?:带走)?|带走|拎回/.test(text)) return 'pickup';
  if (/堂食|(?:在|去|到|来)食堂(?:里)?(?:吃|用餐|就餐)|食堂吃|过去吃|过来吃|去吃|来吃|现场吃|到店/.test(text)) return 'dine_in';
  if (/送|配送|上门|外卖|到家|家里吃|在家吃/.test(text)) return 'delivery';
  return undefined;
}

/** Portions: 一份 → 1 (numerals are digits by now), 2份, 要2个 (from 俩), 2盒, 2人份, 我们2个人吃; the largest when several. */
export function quantityOf(text: string): number | undefined {
  const counts = [
    ...[...text.matchAll(/(\d{1,2})(?:人)?(?:份|盒|碗|套)/g)].map((m) => Number(m[1])),
    ...[...text.matchAll(/(?:要|来|订|定|点|送)(\d{1,2})个(?!人|小时|钟|孩|小孩|娃|宝)/g)].map((m) => Number(m[1])),
    ...[...text.matchAll(/(\d{1,2})个?人(?:的|吃|份|$|[,.!])/g)].map((m) => Number(m[1])),
    // 来份饭, 送份饭: one portion.
    ...[...text.matchAll(/(?:来|要|送|订|定|点)份/g)].map(() => 1),
  ].filter((n) => n > 0);
  // 来2个，1份素的: the order is for two; the one is what one of them is like.
  return counts.length > 0 ? Math.max(...counts) : undefined;
}

/**
 * Attendees or children: 10个人, 10人, 我们5个, 8位, 10来个人 / 10几个人 → 10 (the least
 * the words promise), 20-30人 → 30 (a room must hold the most), 2个孩子 / 2个娃 → 2.
 */
export function peopleOf(text: string): number | undefined {
  const range = /(\d{1,3})-(\d{1,3})(?:个|位|名)?(?:人|孩子|小孩|娃|宝宝|学生|老人)/.exec(text);
  if (range) return Number(range[2]);
  const m =
    /(\d{1,3})(?:来|几|多)?(?:个|位|名)?(?:人|孩子|小孩|小朋友|娃|宝宝|学生|老人|老年人|大人|儿童)/.exec(text) ??
    /(?:我们|咱们|一共|总共|共)(\d{1,3})(?:个|位)?(?![次周天份号点])/.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n > 0 ? n : undefined;
}

const DIETARY_WORDS: Record<Dietary, RegExp> = {
  halal: /清真|回民|回族|穆斯林|不吃猪肉|不要猪肉|不能吃猪肉/,
  low_fat: /少油|低脂|油少|少放油|少放点油|油小|不要太油|别太油|不油腻|不要油腻|清淡|血脂高|高血脂|胆固醇高|减肥/,
  low_salt: /少盐|低盐|盐少|少放盐|少放点盐|少放1点盐|少搁盐|淡一?点|淡些|口味淡|吃得淡|吃淡|不要太咸|别太咸|不咸|无盐|清淡|高血压|血压高/,
  low_sugar: /少糖|低糖|无糖|不要糖|不加糖|不放糖|别放糖|糖尿病|血糖高|高血糖|血糖|控糖|不能吃甜|不吃甜|别太甜|不要太甜/,
  soft: /牙口不好|牙不好|牙齿不好|没牙|假牙|嚼不动|咬不动|软一?点|软些|软乎|软和|软烂|软的|烂一?点|烂些|煮烂|炖烂|好嚼|流食|稀一?点/,
  vegetarian: /吃素|素食|素菜|全素|素的|不吃肉|不要肉|吃斋|吃长素|素餐/,
};

/** Dietary needs, in the stable order of DIETARY (alphabetical). 清淡 is both low_fat and low_salt. */
export function dietaryOf(text: string): Dietary[] | undefined {
  const found = DIETARY.filter((need) => DIETARY_WORDS[need].test(text));
  return found.length > 0 ? found : undefined;
}

/** Who a resident may book for: elders, spouses, relatives, neighbours, "him / her" — not children, not oneself. */
const OTHER_PERSON =
  '(?:我|俺)?(?:家|们家)?(?:的)?(?:老妈|妈妈|妈|老爸|爸爸|爸|母亲|父亲|老伴儿?|老头子?|老太婆|老太太|老爷子|老公|老婆|爱人|媳妇|丈夫|妻子|爷爷|奶奶|外公|外婆|姥姥|姥爷|公公|婆婆|岳父|岳母|丈母娘|老丈人|老人家?|家里老人|亲戚|邻居|隔壁|楼上|楼下|对门|朋友|同事|哥哥|姐姐|弟弟|妹妹|哥|姐|叔叔|阿姨|舅舅|舅妈|姑姑|大爷|大妈|大娘|他|她|别人|其他人|[王李张刘陈杨赵黄周吴徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁沈任姚卢傅钟姜崔谭陆范汪廖石金贾夏韦方邹熊白孟秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤][爷奶叔姨伯婶老阿大]\\S?)';

export function isForOther(text: string): boolean {
  if (new RegExp(`(?:帮|给|替|(?<![因作成认以])为|代)${OTHER_PERSON}`).test(text)) return true;
  // 我妈明天中午要一份饭: the relative is the one who eats.
  return new RegExp(`^(?:我|俺)(?:家)?(?:的)?(?:老妈|妈妈|妈|老爸|爸爸|爸|母亲|父亲|老伴儿?|老头子?|老太婆|老太太|老爷子|老人家?|爱人|老公|老婆|爷爷|奶奶|外公|外婆|姥姥|姥爷|公公|婆婆)(?!的)`).test(text);
}

/** A reply to a numbered menu: 2, 第2个, 选3, 选第3个, 2号, 就2吧, 要第1个. */
export function choiceOf(text: string): number | undefined {
  const t = text.replace(/[,.!?。!,、\s]/g, '');
  const m =
    /^(?:我?(?:选项|选|要|就|挑|订|是))?第?(\d{1,2})(?:个|号|项|条|种|位|吧|啦|了|个吧|号吧)?(?:吧)?$/.exec(t) ??
    /^(?:我?(?:选|要|挑))(?:第)?(\d{1,2})(?:个|号|项)?(?:吧)?$/.exec(t) ??
    /^第(\d{1,2})(?:个|号|项|条|种)?/.exec(t);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n >= 1 && n <= 99 ? n : undefined;
}
