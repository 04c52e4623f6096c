import { choiceOf, dietaryOf } from './slots.js';
import type { Intent } from './types.js';
import { urgentKindOf } from './urgent.js';

/**
 * The intent of a normalised message, in this order:
 * 0. distress (摔倒, 心口疼, 被困, 着火, 救命: see urgent.ts) → urgent, before anything else;
 * 1. not a request at all (code, JSON, a link, an empty line) → unknown;
 * 2. a reply to a numbered menu (2, 第2个, 选3, 2号) → choice;
 * 3. asking for a person (人工, 客服, 叫个人, 打电话) → human, whatever else is said;
 * 4. a whole-message yes (确认, 好的, 可以, 嗯, ok) → confirm, or no (不要了, 不用, 算了,
 *    不对, and a bare 取消 / 返回 / 改) → deny. A bare 取消 is deny because at a prompt it
 *    means "stop"; with a service or a day (取消明天的午饭) it is that service's cancel;
 * 5. the volunteer's own words (注册志愿者, 时长 / 积分 / 几星, 签退 / 做完了, 签到 / 我到了);
 * 6. the service the words point to most (each service has strong words such as 托管,
 *    会议室, 午饭, 志愿, worth 3, and weak ones such as 孩子, 借, 份, 活动, worth 1; ties go
 *    volunteer → childcare → room → meal), then the action within it: reschedule, cancel,
 *    list, availability or menu, else book (or, for volunteers, tasks); a meal's price
 *    (多少钱, 补贴) is meal.price, moving a meal (改到后天, 改成晚饭) meal.reschedule;
 * 7. no service: 我订的 / 我约过的 → booking.list, a greeting or 怎么用 / 帮助 / 菜单 → help,
 *    我去 / 我报名 → volunteer.claim, 去不了 → volunteer.unclaim, 有空吗 / 名额 →
 *    room.availability, 多少钱 / 补贴 → meal.price, 改到 → room.reschedule, 取消 + something → booking.list (the bot
 *    shows what can be cancelled); anything else → unknown.
 */

const CODE = /[{}<>]|=>|==|\b(?:function|return|select|insert|delete|update|drop|const|let|var|import|print|console|def|class|null|true|false|http|https|www)\b|\w+\.\w+\(|^\s*[[\]"']/;

const HUMAN = /人工|真人|活人|客服|找人|找个人|叫个?人|(?<![\d几多])来个人|派个人|工作人员|社工|打个?电话|来个?电话|回个?电话|电话多少|电话是多少|怎么还没送|还没送到|没送到|没收到|电话号码|联系方式|联系你们|联系社区|投诉|转人工|跟人说|和人说|找领导|领导|反映|找负责人|负责人|居委会|找社区/;

const FILLER_END = /[啊呀哈哦啦吧呢嘛噢喔哇咯了的滴]+$/;
const CONFIRM_WORD = '(?:确认|确定|好的|好滴|好嘞|好呀|好吧|好|可以|行|对|是|嗯|恩|没问题|ok|okay|yes|y|没错|同意|要的|就这样|就这么定|就这个|订吧|定了|中|成|妥|提交|对头|是滴|可|确认预约|确认订单|确认无误|就按这个|照这个)';
const CONFIRM = new RegExp(`^(?:${CONFIRM_WORD}[,.!。\\s]?)+$|^(?:确认|确定)(?:订购|下单|购买|预约|预订|提交|订|一下|了|吧|无误)*$`);
const DENY_WORD = '(?:不要|不要了|不用|不用了|算了|不对|不是|错了|不|否|不行|不可以|取消|取消吧|不订了|不定了|no|n|nope|别|别了|不好|不需要|不需要了|不了|不想要?了?|先不|先不了|先不用|再说|再说吧|不确认|我再想想|再想想|想想|返回|退回|上一步|改|我要改|要改|重来|重新来|重新开始|不是这个|错了|先不订|先不要|先不借|先不用|暂时不用|暂时不要|不订|不借|不了)';
const DENY = new RegExp(`^(?:${DENY_WORD}[,.!。\\s]?)+$`);

/** A cancel verb and nothing else answers a prompt: no. (去不了 alone is a volunteer's.) */
const BARE_CANCEL = /^(?:我)?(?:不去了|不来了|退掉|退了|不订了|不要了|算了|取消掉|取消了|撤销|作废|不用了|不需要了)$/;

const GREETING = /^(?:你好|您好|你们好|hi|hello|嗨|哈喽|哈啰|在吗|在么|在不在|有人吗|有人在吗|喂|早上好|上午好|中午好|下午好|晚上好|早|早安|大家好|小助手|机器人)$/;
const HELP = /怎么用|怎样用|如何使用|怎么使用|怎么操作|怎么弄|帮助|help|使用说明|说明|能做什么|能干什么|能干啥|能做啥|会什么|会干啥|有什么功能|有哪些功能|有啥功能|功能|不会用|教教我|教我|主菜单|菜单|指南|看不懂|什么意思|啥意思|怎么办|能帮我什么|帮我做什么|帮我干什么|能帮.{0,2}(?:什么|啥)|可以做什么|可以干什么|有什么服务|有哪些服务|有啥服务/;

const REGISTER = /报名(?:当|做|成为)?(?:社区|时间银行)?(?:志愿者|义工)(?!活动|任务|服务)|(?:注册|成为|当|做|加入|申请|报名当|报名做|登记为?|入)(?:个|1名|1个|名)?(?:社区|时间银行)?(?:志愿|义工)|(?:志愿者|义工)(?:注册|登记|申请|怎么当|怎么加入)/;
const HOURS = /时长|积分|几星|几颗星|星级|星星|时间银行|服务了多少|服务了多久|多少小时|多少个小时|几个小时了|服务记录|攒了|我的分|多少分|几分了|升星|几级/;
const CHECKOUT = /签退|结束服务|完成服务|服务完成|已完成|做完了|干完了|忙完了|弄完了|搞完了|服务完了|完成了|完事了|结束了|服务结束|下班|收工|打卡下班|我走了|撤了|任务完成/;
const CHECKIN = /签到|签个到|签一?下到|到岗|报到|开始服务|打卡(?!下班)|开工/;
const ARRIVED = /(?:我已经到了|我到了|我已到|已到达|到现场了|到服务点了)$|^(?:我)?(?:已经)?(?:到了|到啦|来了|到达)(?:现场|服务点)?(?:\d{3,8})?$|^(?:我)?(?:已经)?到(?:现场|服务点)了/;

const UNCLAIM = /去不了|来不了|退出|不去了|不来了|不参加了|参加不了|取消报名|不报名了|放弃|做不了|干不了|没空去|去不成|不能去|不能来|退掉|退了|不接了|退单|取消/;
const CLAIM = /我(?:要|来|可以)?接|报名|报个名|接单|领任务|抢单|我去|我来|我可以去|我能去|算我(?:1个|一个)|算上我|我参加|参加|我接|接了|接这个|我要接|领了|认领|我报/;

const CANCEL = /取消|不送|不(?:来|去|借|订|用)[^,.!?。]{1,4}了|不要了|不用了|退掉|退了|退订|撤销|不去了|不来了|不订了|不定了|不借了|不用借了|不吃了|去不了|来不了|算了|作废|删掉|删除|不需要了|用不上了|用不着了|别送了|不用送了|不要送了|退(?:1份|饭|餐|掉)/;
const RESCHEDULE = /改到|换到|挪到|调到|推迟|推后|延后|延期|提前到|提前(?:\d|半)个?(?:小时|钟头)|提早|往前挪|往后推|推(?:\d|半)个?小时|延迟|晚(?:\d|半)个?小时|早(?:\d|半)个?小时|改成|换成|改为|改一?下时间|改时间|改个时间|换个时间|换时间|调个时间|调一?下时间|改一?下日子|换个?日子|往后挪|往前挪|改期|换1天|换个日子|改天/;
const LIST = /(?:查|看)[^,.!?]{0,8}(?:订|约|预约|借)(?:过)?的|有(?:什么|哪些|啥)(?:预约|预订|订单)|预约了?(?:什么|哪些|啥)|我(?:都)?(?:订|约|预约|预订|借|定|报名|报|接)(?:过|了)+(?:的|什么|啥|哪些|几|吗|没)|我(?:都)?(?:订|约|预约|预订|借|定|报名|接)的|我的(?:预约|订单|预订|记录)|(?:订|约|预约|预订|借)了(?:什么|啥|哪些|几)|有哪些预约|查(?:一下|查)?(?:我的)?(?:预约|订单)|看看我的|都约了啥/;
const AVAILABILITY = /有空|有没有空|空着|空闲|空房|空位|空的|有位置|有没有|有位置|还有位|名额|还有吗|还有没有|能订吗|可以订吗|能借吗|可以借吗|能不能订|能不能借|可不可以|约得上|订得到|满了吗|满没满|满了没|还能|剩|余位|有地方|被占|占用|有人用|能用吗|可以用吗|能约|可以约|约得到|有位子|开放吗|开门吗/;
/** What something costs, or what subsidy applies (多少钱, 有补贴吗, 怎么收费). */
const PRICE = /多少钱|几块钱|几块|几元|多少元|价格|价钱|价位|收费|收多少|要钱吗|花多少|贵不贵|贵吗|便宜|补贴|补助|优惠|减免|打折|送餐费|配送费|费用/;
const MENU = /菜单|吃什么|吃啥|什么菜|啥菜|哪些菜|有什么吃|有啥吃|伙食|菜谱|食谱|什么饭|啥饭|几个菜|饭菜怎么样|有什么好吃|做什么菜|做的什么|做啥|吃点啥|菜色|荤素|几荤几素|什么汤/;

/** A request put as a question (能不能借, 可以借给我们…吗); with hours it is a booking. */
const ASK_TO_BOOK = /借给|能不能(?:借|订|用|约)|可不可以(?:借|订|用|约)|(?:能|可以)(?:借|订|用|约)(?:[^,.!?。]{0,12})吗|想借|要借|我们借/;
const TIME_RANGE = /\d{1,2}(?:点|:\d{2})[^,.!?。]{0,6}(?:到|至|-)[^,.!?。\d]{0,3}\d{1,2}(?:点|:\d{2})/;

type Service = 'volunteer' | 'childcare' | 'room' | 'meal';
const SERVICES: Service[] = ['volunteer', 'childcare', 'room', 'meal'];

const STRONG: Record<Service, RegExp> = {
  volunteer: /志愿|义工|任务|有(?:什么|啥)活(?!动)|活儿|接单|领任务|抢单|探访|陪诊|陪护|陪聊|巡逻|值班|助老服务|送餐任务/g,
  childcare: /托管|托育|托班|托儿|晚托|午托|看孩子|看娃|带孩子|带娃|照看|四点半|送孩子|接孩子|看小孩|带小孩|托/g,
  room: /[会议活动书画舞蹈棋牌阅览排练健身乒乓球台球琴歌影音多功能]室|多功能厅|礼堂|报告厅|会堂|教室|场地|房间|空房|会场|场子|厅/g,
  meal: /饭|餐|菜|粥|面条|饺子|包子|馒头|食堂|伙食|助餐|点心|汤|(?<!药)吃(?!药|亏|惊)|\d份/g,
};
const WEAK: Record<Service, RegExp> = {
  volunteer: /报名|活动(?!室)/g,
  childcare: /孩子|小孩|娃|宝宝|宝贝|小朋友|儿童|幼儿|孙子|孙女|外孙|放学|课后|作业|学生/g,
  room: /借|用一下|开会|跳舞|广场舞|排练|练歌|唱歌|合唱|书法|画画|下棋|打牌|讲座|聚会|培训|上课|地方/g,
  meal: /早上|中午|晚上|送(?!孩子|娃|小孩|宝宝)|自取|自己(?:来)?拿|来拿|堂食|打包/g,
};

function scoreOf(text: string, service: Service): number {
  const strong = text.match(STRONG[service])?.length ?? 0;
  const weak = text.match(WEAK[service])?.length ?? 0;
  return strong * 3 + weak;
}

/** The service the message is about, or undefined. 送餐 with a volunteer's verb is a task. */
function serviceOf(text: string): Service | undefined {
  const volunteerDelivery = /送餐|送饭/.test(text) && /报名|接单|去不了|来不了|退出|我去|我来|参加|任务|志愿|义工|领|替班|顶班|不去了|谁去|我(?:要|来|可以)?接|算我|算上我|的活/.test(text);
  let scored = volunteerDelivery ? text.replace(/送餐|送饭/g, '任务') : text;
  // A dietary need (少放盐, 牙口不好, 吃素) is about a meal.
  if (dietaryOf(text)) scored += '餐';
  let best: Service | undefined;
  let bestScore = 0;
  for (const service of SERVICES) {
    const score = scoreOf(scored, service);
    if (score > bestScore) {
      best = service;
      bestScore = score;
    }
  }
  return best;
}

function withinService(service: Service, text: string): Intent {
  switch (service) {
    case 'meal':
      if (PRICE.test(text) && !CANCEL.test(text)) return 'meal.price';
      if (LIST.test(text) && !CANCEL.test(text)) return 'meal.list';
      if (RESCHEDULE.test(text)) return 'meal.reschedule';
      if (CANCEL.test(text)) return 'meal.cancel';
      if (/(?:能|可以|还能)(?:不能)?(?:订|定|要|送)|能不能(?:订|定|要|送)/.test(text)) return 'meal.book';
      if (MENU.test(text) || AVAILABILITY.test(text) || /有[^,.!?]{0,6}(?:吗|没)/.test(text)) return 'meal.menu';
      return 'meal.book';
    case 'childcare':
      if (CANCEL.test(text) || RESCHEDULE.test(text)) return 'childcare.cancel';
      if (LIST.test(text)) return 'booking.list';
      if (AVAILABILITY.test(text)) return 'childcare.availability';
      return 'childcare.book';
    case 'room':
      if (RESCHEDULE.test(text)) return 'room.reschedule';
      if (CANCEL.test(text)) return 'room.cancel';
      if (LIST.test(text)) return 'booking.list';
      // 能不能借给我们…从九点到十一点: a request phrased as a question, with its hours, books.
      if (ASK_TO_BOOK.test(text) && TIME_RANGE.test(text)) return 'room.book';
      if (AVAILABILITY.test(text) || /有(?:什么|哪些|啥)(?:[\u4e00-\u9fff]{0,2})(?:室|厅|场地|房间)/.test(text)) return 'room.availability';
      return 'room.book';
    case 'volunteer':
      if (UNCLAIM.test(text)) return 'volunteer.unclaim';
      if (LIST.test(text)) return 'volunteer.tasks';
      if (CLAIM.test(text) && !/有什么|有啥|有哪些|哪些|什么任务|啥任务|怎么/.test(text)) return 'volunteer.claim';
      return 'volunteer.tasks';
  }
}

/** The message without punctuation, polite words and trailing particles, for whole-message checks. */
function bare(text: string): string {
  return text
    .replace(/[,.!?;:、。…~\-'"“”‘’()（）【】\s]/g, '')
    .replace(/^(?:请|麻烦|那|那就|那么|嗯|恩|哦|噢)(?=.)/, '')
    .replace(/(?:谢谢你?|谢了|多谢)$/, '')
    .replace(FILLER_END, '');
}

export function intentOf(text: string, hasDate: boolean): Intent {
  if (text.trim() === '') return 'unknown';
  if (urgentKindOf(text)) return 'urgent';
  if (CODE.test(text)) return 'unknown';
  if (choiceOf(text) !== undefined) return 'choice';
  if (HUMAN.test(text)) return 'human';

  const plain = text.replace(/[,.!?;:、。…~'"“”‘’()（）【】\s]/g, '');
  const b = bare(text);
  if (b !== '' && (DENY.test(b) || DENY.test(plain) || BARE_CANCEL.test(plain))) return 'deny';
  if (b !== '' && (CONFIRM.test(b) || CONFIRM.test(text.replace(/[,.!?。\s]/g, '')))) return 'confirm';
  if (GREETING.test(b.replace(/^(?:小助手|助手|机器人|小管家)/, ''))) return 'help';

  if (REGISTER.test(text)) return 'volunteer.register';
  if (HOURS.test(text)) return 'volunteer.hours';
  if (/签退/.test(text) || (CHECKOUT.test(text) && b.length <= 10)) return 'volunteer.checkout';
  if (CHECKIN.test(text) || ARRIVED.test(plain)) return 'volunteer.checkin';

  // 菜单 alone is the bot's menu; 饭菜单 / 明天的菜单 is the canteen's.
  const menuAlone = /菜单/.test(text) && !hasDate && serviceOf(text.replace(/菜单/g, '')) === undefined && !/饭|餐|食堂|中午|晚上|早上/.test(text);
  const service = menuAlone ? undefined : serviceOf(text);
  if (service) return withinService(service, text);

  if (LIST.test(text)) return 'booking.list';
  // 多少钱 / 有补贴吗 with no service: the meal's price is what residents ask about.
  if (PRICE.test(text) && !/股票|房价|菜价|物业|水费|电费|停车/.test(text)) return 'meal.price';
  if (HELP.test(text)) return 'help';
  if (/^(?:我)?(?:去不了|来不了|参加不了|有事去不了|去不成)$/.test(plain)) return 'volunteer.unclaim';
  // 文艺汇演我去不了 / 退出 / 取消报名: a volunteer withdrawing (我去 inside 去不了 is no claim).
  if (/去不了|来不了|参加不了|去不成|不参加了|^(?:我要?)?退出(?:报名|任务|活动)?$|取消报名|不报名了/.test(plain)) return 'volunteer.unclaim';
  if (CLAIM.test(plain) && plain.length <= 8) return 'volunteer.claim';
  if (RESCHEDULE.test(text)) return 'room.reschedule';
  if (CANCEL.test(text)) return 'booking.list';
  if (AVAILABILITY.test(text) && !/股票|天气|电影/.test(text)) return 'room.availability';
  if (/^(?:你好|您好|你们好|hi|hello|嗨|在吗|在不在)/.test(plain)) return 'help';
  return 'unknown';
}
