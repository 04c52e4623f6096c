/**
 * What a room is booked for (用途), read out of the request rather than the whole message
 * stored (issue 20): 「周六借舞蹈室跳广场舞」 → 跳广场舞. Not part of the NLU contract; the
 * dialogue uses it for the booking's purpose. Undefined when nothing says what for.
 */

/** 用来开会 / 搞个生日会 / 办讲座 / 为了排练: the words after a "for" verb, up to punctuation. */
const AFTER_VERB = /(?:用来|用于|为了|准备|打算|我们要|要|想|(?=搞|办|开|举办|组织))(?:搞|办|开|举办|组织|进行)?(?:个|一个|一场|一次)?([\u4e00-\u9fff]{2,12}?)(?=[,.!?。，！？、\s]|$|从|大概|大约|约|\d|人)/;
/** Activities residents name on their own. */
const ACTIVITY = /(?:跳)?广场舞|跳舞|舞蹈排练|排练(?:节目)?|练歌|唱歌|合唱(?:团)?(?:排练)?|书法(?:练习|课)?|画画|绘画|下棋|打牌|棋牌|读书会|生日会|生日聚会|聚会|座谈会?|讲座|培训|上课|开会|会议(?!室)|党建活动|党日活动|志愿者培训|兴趣班|太极(?:拳)?|瑜伽|健身|乒乓球|台球|看电影|观影|茶话会|联欢会?|手工|编织|亲子活动|课外辅导|学习|读书|开展?活动/;

/** Words that are the request itself, not its purpose. */
const NOT_PURPOSE = /^(?:借|订|约|用|预约|预订|房间|场地|地方|活动室|会议室|一下|用一下)+$/;

export function purposeOf(text: string): string | undefined {
  const after = AFTER_VERB.exec(text);
  const said = after?.[1]?.replace(/(?:借|订|约|用|的|了|吧|呢|啊)+$/, '');
  if (said && said.length >= 2 && !NOT_PURPOSE.test(said) && !/[室厅房间场地]|借|订/.test(said)) return said;
  return ACTIVITY.exec(text)?.[0];
}
