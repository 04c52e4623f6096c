import Joi from 'joi';
import { MEALS } from '../../../../models/mealMenu.js';
import { DELIVERY_OUTCOMES, MEAL_MODES, MEAL_ORDER_STATUSES } from '../../../../models/mealOrder.js';
import { DIETARY_NEEDS, RESIDENT_TAGS } from '../../../../models/person.js';
import { day, hhmm, objectId } from '../common.js';

const month = () => Joi.string().pattern(/^\d{4}-(0[1-9]|1[0-2])$/).messages({ 'string.pattern.base': '{{#label}}应为月份，例如 2026-11' }).label('月份');
const meal = () => Joi.string().valid(...MEALS).label('餐次');
const mode = () => Joi.string().valid(...MEAL_MODES).label('用餐方式');
const dietaryNeeds = () => Joi.array().items(Joi.string().valid(...DIETARY_NEEDS).label('饮食需求')).unique().max(DIETARY_NEEDS.length).label('饮食需求');
const note = (label = '备注', max = 200) => Joi.string().trim().min(1).max(max).label(label);
const shortText = () => Joi.string().trim().min(1).max(30);

export const KitchenParams = Joi.object({ kitchenId: objectId().required().label('助餐点') });
export const MenuParams = Joi.object({ menuId: objectId().required().label('菜单') });
export const OrderParams = Joi.object({ orderId: objectId().required().label('订餐') });
export const RecurringParams = Joi.object({ recurringId: objectId().required().label('固定订餐') });
export const AlertParams = Joi.object({ alertId: objectId().required().label('提醒') });
export const PersonParams = Joi.object({ personId: objectId().required().label('居民') });
export const CommunityParams = Joi.object({ communityId: objectId().required().label('社区') });
export const PublishParams = Joi.object({
  kitchenId: objectId().required().label('助餐点'),
  date: day('日期').required(),
  meal: meal().required(),
});

export const KitchenSettingsBody = Joi.object({
  serviceArea: Joi.object({
    grids: Joi.array().items(shortText().label('网格')).unique().max(100).label('送餐网格'),
    buildings: Joi.array().items(shortText().label('楼栋')).unique().max(500).label('送餐楼栋'),
  }).label('送餐范围'),
  mealCutoffs: Joi.object({
    lunch: hhmm('午餐截止时间').allow(null),
    dinner: hhmm('晚餐截止时间').allow(null),
  }).label('订餐截止时间'),
}).min(1);

export const PublishMenuBody = Joi.object({
  dishes: Joi.array().items(Joi.object({
    name: shortText().required().label('菜名'),
    allergens: Joi.array().items(Joi.string().trim().min(1).max(10).label('过敏原')).unique().max(10).label('过敏原'),
    suitableFor: dietaryNeeds().label('适合的饮食需求'),
  })).min(1).max(20).required().label('菜品'),
  price: Joi.number().integer().min(0).max(100_000).required().label('价格（分）'),
  capacity: Joi.number().integer().min(0).max(5_000).required().label('份数'),
});

export const ListMenusQuery = Joi.object({
  kitchen: objectId().label('助餐点'),
  from: day('开始日期'),
  to: day('结束日期'),
});

export const OrderBody = Joi.object({
  mode: mode().required(),
  quantity: Joi.number().integer().min(1).max(20).default(1).label('份数'),
  dietaryNeeds: dietaryNeeds(),
  note: note(),
  forPerson: objectId().label('代订的居民'),
});

export const ChangeOrderBody = Joi.object({
  mode: mode(),
  quantity: Joi.number().integer().min(1).max(20).label('份数'),
  dietaryNeeds: dietaryNeeds(),
  note: note(),
  reason: note('原因'),
}).or('mode', 'quantity', 'dietaryNeeds', 'note');

export const CancelOrderBody = Joi.object({ reason: note('原因') });
export const OutcomeBody = Joi.object({
  outcome: Joi.string().valid(...DELIVERY_OUTCOMES).required().label('送达情况'),
  note: note('情况说明', 500),
});
export const RatingBody = Joi.object({
  good: Joi.boolean().required().label('好评'),
  comment: note('评价内容', 300),
  dishes: Joi.array().items(Joi.object({
    name: shortText().required().label('菜名'),
    good: Joi.boolean().required().label('好评'),
  })).unique('name').max(20).label('菜品评价'),
});

export const MineQuery = Joi.object({
  forPerson: objectId().label('居民'),
  from: day('开始日期'),
  to: day('结束日期'),
  limit: Joi.number().integer().min(1).max(100).default(50).label('数量'),
});
export const ForPersonQuery = Joi.object({ forPerson: objectId().label('居民') });

export const DeliveryApprovalBody = Joi.object({ reason: note('原因') });

export const RecurringBody = Joi.object({
  meal: meal().required(),
  weekdays: Joi.array().items(Joi.number().integer().min(0).max(6).label('星期（0 为星期日）')).min(1).max(7).unique().required().label('星期'),
  mode: mode().required(),
  quantity: Joi.number().integer().min(1).max(20).default(1).label('份数'),
  dietaryNeeds: dietaryNeeds(),
  from: day('开始日期').required(),
  until: day('结束日期').required(),
  forPerson: objectId().label('代订的居民'),
});
export const SuspendBody = Joi.object({
  from: day('暂停开始日期'),
  resumeOn: day('恢复日期').required(),
  reason: note('原因'),
});

export const AlertsQuery = Joi.object({
  status: Joi.string().valid('open', 'closed').label('状态'),
  limit: Joi.number().integer().min(1).max(500).default(100).label('数量'),
});
export const CloseAlertBody = Joi.object({ resolution: note('处理情况', 500).required() });

export const VisitBody = Joi.object({
  at: Joi.date().iso().label('探访时间'),
  note: note('探访记录', 500).required(),
});
export const MonthQuery = Joi.object({ month: month() });
export const RatingsQuery = Joi.object({ kitchen: objectId().label('助餐点'), from: day('开始日期'), to: day('结束日期') });

export const SubsidyRuleBody = Joi.object({
  tiers: Joi.array().items(Joi.object({
    label: shortText().required().label('档位名称'),
    minAge: Joi.number().integer().min(0).max(150).required().label('最低年龄'),
    maxAge: Joi.number().integer().min(0).max(150).label('最高年龄'),
    requiresAnyTag: Joi.array().items(Joi.string().valid(...RESIDENT_TAGS)).unique().label('需具备的标签'),
    pay: Joi.number().integer().min(0).max(100_000).required().label('个人支付（分）'),
  })).max(20).required().label('补贴档位'),
  deliveryFee: Joi.number().integer().min(0).max(100_000).required().label('送餐费（分）'),
});

/* ---------------------------------------------------------------- responses */

const byMode = Joi.object({ dine_in: Joi.number(), pickup: Joi.number(), delivery: Joi.number() });
const Breakdown = Joi.object({
  unitPrice: Joi.number().description('Menu price of one portion, fen'),
  quantity: Joi.number(),
  tier: Joi.string().allow(null).description('Subsidy tier applied; null = full price'),
  subsidisedPrice: Joi.number().description('What the resident pays for the subsidised portion, fen'),
  subsidy: Joi.number().description('Subsidy of this order, fen'),
  deliveryFee: Joi.number(),
  toPay: Joi.number().description('Total the resident pays, fen'),
}).meta({ className: 'MealPriceBreakdown' });

export const KitchenResponse = Joi.object({
  id: Joi.string(), community: Joi.string(), name: Joi.string(), address: Joi.string(), phone: Joi.string().allow(null),
  serviceArea: Joi.object({ grids: Joi.array().items(Joi.string()), buildings: Joi.array().items(Joi.string()) }),
  mealCutoffs: Joi.object({ lunch: Joi.string().allow(null), dinner: Joi.string().allow(null) }),
}).meta({ className: 'Kitchen' });

export const MenuResponse = Joi.object({
  id: Joi.string(), kitchen: Joi.string(), kitchenName: Joi.string().allow(null), date: Joi.string(), meal: Joi.string(),
  dishes: Joi.array().items(Joi.object({ name: Joi.string(), allergens: Joi.array().items(Joi.string()), suitableFor: Joi.array().items(Joi.string()) })),
  price: Joi.number(), capacity: Joi.number(), remaining: Joi.number(), cutoff: Joi.date(), published: Joi.boolean(),
  cutoffProcessedAt: Joi.date().allow(null),
}).meta({ className: 'MealMenu' });

export const QuoteResponse = Joi.object({
  menu: Joi.string(), kitchen: Joi.string(), date: Joi.string(), meal: Joi.string(), forPerson: Joi.string(),
  mode: Joi.string(), quantity: Joi.number(), dietaryNeeds: Joi.array().items(Joi.string()), dietarySource: Joi.string(),
  deliveryEligible: Joi.boolean(), cutoff: Joi.date(), breakdown: Breakdown,
}).meta({ className: 'MealQuote' });

export const OrderResponse = Joi.object({
  id: Joi.string(), menu: Joi.string(), kitchen: Joi.string(), date: Joi.string(), meal: Joi.string(),
  bookedFor: Joi.string(), bookedBy: Joi.string(), mode: Joi.string(), quantity: Joi.number(),
  dietaryNeeds: Joi.array().items(Joi.string()), dietarySource: Joi.string(), note: Joi.string().allow(null),
  status: Joi.string().valid(...MEAL_ORDER_STATUSES), breakdown: Breakdown, recurring: Joi.string().allow(null),
  outcome: Joi.object({ outcome: Joi.string(), note: Joi.string().allow(null), at: Joi.date().allow(null), by: Joi.string().allow(null) }).allow(null),
}).meta({ className: 'MealOrder' });
/** An order in the staff list of a menu's orders: with the resident's name next to the id. */
export const MenuOrderResponse = OrderResponse.keys({ bookedForName: Joi.string().allow(null) }).meta({ className: 'MenuOrder' });

export const KitchenSheetResponse = Joi.object({
  menu: Joi.string(), kitchen: Joi.string(), date: Joi.string(), meal: Joi.string(), orders: Joi.number(), portions: Joi.number(),
  byMode: Joi.object().pattern(Joi.string(), Joi.object({ orders: Joi.number(), portions: Joi.number() })),
  byDietaryNeed: Joi.array().items(Joi.object({ need: Joi.string(), portions: Joi.number(), byMode })),
  none: Joi.object({ portions: Joi.number(), byMode }),
  dishes: Joi.array().items(Joi.object({
    name: Joi.string(), allergens: Joi.array().items(Joi.string()), portions: Joi.number(), byMode,
    adapt: Joi.array().items(Joi.object({ need: Joi.string(), portions: Joi.number() })),
  })),
}).meta({ className: 'KitchenSheet' });

export const DeliverySheetResponse = Joi.object({
  grid: Joi.string(), buildings: Joi.array().items(Joi.string()), portions: Joi.number(),
  stops: Joi.array().items(Joi.object({
    order: Joi.string(), person: Joi.string(), name: Joi.string().allow(null), phone: Joi.string().allow(null),
    building: Joi.string().allow(null), unit: Joi.string().allow(null), room: Joi.string().allow(null), floor: Joi.number().allow(null),
    quantity: Joi.number(), dietaryNeeds: Joi.array().items(Joi.string()), note: Joi.string().allow(null), status: Joi.string(),
  })),
}).meta({ className: 'DeliverySheet' });

export const DeliveryRunResponse = Joi.object({
  id: Joi.string(), menu: Joi.string(), kitchen: Joi.string(), date: Joi.string(), meal: Joi.string(), grid: Joi.string(), portions: Joi.number(),
  stops: Joi.array().items(Joi.object({
    order: Joi.string(), person: Joi.string(), building: Joi.string().allow(null), unit: Joi.string().allow(null),
    room: Joi.string().allow(null), quantity: Joi.number(), dietaryNeeds: Joi.array().items(Joi.string()),
  })),
  volunteerTask: Joi.string().allow(null),
}).meta({ className: 'DeliveryRun' });

export const CutoffResponse = Joi.object({
  menu: Joi.string(), created: Joi.number().description('Runs made by this call (0 on a re-run)'),
  kitchenSheet: KitchenSheetResponse, runs: Joi.array().items(DeliveryRunResponse),
});

export const RecurringResponse = Joi.object({
  id: Joi.string(), kitchen: Joi.string(), bookedFor: Joi.string(), bookedBy: Joi.string(), meal: Joi.string(),
  weekdays: Joi.array().items(Joi.number()), mode: Joi.string(), quantity: Joi.number(),
  dietaryNeeds: Joi.array().items(Joi.string()).allow(null), from: Joi.string(), until: Joi.string(), status: Joi.string(),
  suspensions: Joi.array().items(Joi.object({ from: Joi.string(), resumeOn: Joi.string(), reason: Joi.string().allow(null) })),
}).meta({ className: 'RecurringMealOrder' });

export const AlertResponse = Joi.object({
  id: Joi.string(), order: Joi.string(), elder: Joi.string(), kitchen: Joi.string(), kind: Joi.string().valid('not_at_home', 'needs_attention'),
  note: Joi.string().allow(null), raisedAt: Joi.date(), raisedBy: Joi.string(), recipients: Joi.array().items(Joi.string()),
  status: Joi.string().valid('open', 'closed'), closedBy: Joi.string().allow(null), closedAt: Joi.date().allow(null), resolution: Joi.string().allow(null),
}).meta({ className: 'WellnessAlert' });
export const AlertListItem = AlertResponse.keys({
  elderName: Joi.string().allow(null), elderAddress: Joi.string().allow(null).description('楼栋单元门牌'), elderGrid: Joi.string().allow(null),
  kitchenName: Joi.string().allow(null),
}).meta({ className: 'WellnessAlertListItem' });

export const VisitResponse = Joi.object({
  id: Joi.string(), elder: Joi.string(), at: Joi.date(), month: Joi.string(), by: Joi.string(), note: Joi.string().allow(null),
  source: Joi.string().valid('visit', 'meal_delivery'),
}).meta({ className: 'WellnessVisit' });

export const VisitReportResponse = Joi.object({
  month: Joi.string(), elders: Joi.number(), visited: Joi.number(), rate: Joi.number(),
  missing: Joi.array().items(Joi.object({
    id: Joi.string(), name: Joi.string().allow(null), grid: Joi.string().allow(null), building: Joi.string().allow(null),
    tags: Joi.array().items(Joi.string()), lastVisitAt: Joi.date().allow(null),
  })),
  visitedElders: Joi.array().items(Joi.object({
    id: Joi.string(), name: Joi.string().allow(null), grid: Joi.string().allow(null), building: Joi.string().allow(null),
    tags: Joi.array().items(Joi.string()), visits: Joi.number().description('Visits recorded this month'), lastVisitAt: Joi.date(),
  })).description('The elders visited in the month (most recent visit of the month)'),
}).meta({ className: 'WellnessVisitReport' });

const money = { orders: Joi.number(), portions: Joi.number(), subsidy: Joi.number(), paid: Joi.number(), deliveryFees: Joi.number() };
export const SubsidyReportResponse = Joi.object({
  month: Joi.string(),
  tiers: Joi.array().items(Joi.object({ tier: Joi.string(), ...money })),
  totals: Joi.object(money),
}).meta({ className: 'MealSubsidyReport' });

export const SubsidyRuleResponse = Joi.object({
  community: Joi.string(), deliveryFee: Joi.number(),
  tiers: Joi.array().items(Joi.object({
    label: Joi.string(), minAge: Joi.number(), maxAge: Joi.number().allow(null), requiresAnyTag: Joi.array().items(Joi.string()), pay: Joi.number(),
  })),
}).meta({ className: 'MealSubsidyRule' });

export const RatingResponse = Joi.object({
  id: Joi.string(), order: Joi.string(), kitchen: Joi.string(), date: Joi.string(), good: Joi.boolean(), comment: Joi.string().allow(null),
  dishes: Joi.array().items(Joi.object({ name: Joi.string(), good: Joi.boolean() })),
}).meta({ className: 'MealRating' });

export const RatingReportResponse = Joi.object({
  from: Joi.string(), to: Joi.string(),
  kitchens: Joi.array().items(Joi.object({
    kitchen: Joi.string(), name: Joi.string(), good: Joi.number(), bad: Joi.number(),
    dishes: Joi.array().items(Joi.object({ name: Joi.string(), good: Joi.number(), bad: Joi.number() })),
    comments: Joi.array().items(Joi.object({ date: Joi.string(), good: Joi.boolean(), comment: Joi.string() })),
  })),
}).meta({ className: 'MealRatingReport' });
