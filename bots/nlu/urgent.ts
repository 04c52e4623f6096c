/**
 * 紧急求助: whether a normalised message says the writer (or someone with them) is in danger
 * now: fell, is in pain, feels unwell, is trapped, there is a fire or gas, or just 救命. Read
 * before anything else, whatever the conversation is doing. It errs towards alerting: a
 * false alarm costs a phone call, a missed fall costs far more. Negated words (没发烧, 不疼,
 * 没摔) do not count, so a parent's 孩子很健康没发烧 stays an answer.
 */

export type UrgentKind = 'fire' | 'trapped' | 'medical' | 'danger';

const NEGATED = /(?:没有?|不|未|别|无)(?:什么|啥|有)?$/;

const PATTERNS: Array<[UrgentKind, RegExp]> = [
  ['fire', /着火|著火|失火|火灾|起火|烧起来|冒(?:黑)?烟|煤气(?:泄漏|漏了|味)|燃气(?:泄漏|漏了|味)|漏气|天然气(?:漏|味)/],
  ['trapped', /被困|困在|困住|关在[^,.!?]{0,6}出不|锁在[^,.!?]{0,6}(?:里|出不)|出不去了?|出不来了?|卡在电梯|电梯(?:里|坏了|停了|关人)[^,.!?]{0,6}(?:出不|困|关)|开不了门[^,.!?]{0,4}(?:出不|困)/],
  ['medical', new RegExp([
    '摔(?:倒|到|了|伤|跤|下|一跤|1跤|在地)', '跌(?:倒|到|了一?跤|伤|在地)', '滑倒', '绊倒', '栽倒', '倒在地', '晕倒', '昏倒', '昏过去', '晕过去', '晕了',
    '起不来', '爬不起来', '站不起来', '动不了', '不能动',
    '(?:心口|胸口|心脏|胸|头|肚子|腹|胃|腰|腿|背|脖子|全身|浑身)(?:很|好|太|特别|有点|有些|突然|一直|)(?:疼|痛|闷)',
    '疼(?:得|死|的受不了|得厉害)', '痛(?:得|死|的受不了)', '好疼', '好痛', '太疼', '太痛', '受不了了',
    '不舒服', '难受', '头(?:很|好|有点|特别|突然)?晕', '晕得', '头昏', '眼前发黑', '喘不(?:上|过)气', '呼吸困难', '透不过气', '胸闷', '心慌', '心跳(?:很|好|特别)?快',
    '出血', '流血', '大出血', '吐血', '抽搐', '抽筋', '中风', '偏瘫', '说不出话', '没知觉', '没意识', '不省人事', '没气了', '没反应了',
    '发高烧', '烧到(?:39|4\\d)', '高烧', '呕吐', '吐了',
  ].join('|'))],
  ['danger', /救命|救救|就命|求救|救我|快来人|来人啊|来人呀|帮帮我|help|sos|急救|(?<!\d)(?:120|110|119)(?![\d人份元个位块号室栋])|报警|有人闯|小偷|抢劫|打人|陌生人[^,.!?]{0,4}(?:敲门|在门口|进来|跟着|不走)|撬门|撬锁/],
];

/** The kind of urgency a normalised message says, or undefined when it says none. */
export function urgentKindOf(normal: string): UrgentKind | undefined {
  for (const [kind, pattern] of PATTERNS) {
    const global = new RegExp(pattern.source, 'g');
    for (const m of normal.matchAll(global)) {
      if (!NEGATED.test(normal.slice(Math.max(0, m.index - 3), m.index))) return kind;
    }
  }
  return undefined;
}
