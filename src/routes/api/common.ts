import Joi from 'joi';
import { DAY_PATTERN, TIME_OF_DAY_PATTERN, isDay } from '../../../models/calendar.js';
import { DIETARY_NEEDS, RESIDENT_TAGS } from '../../../models/person.js';
import { PROXY_RELATIONS } from '../../../models/proxyLink.js';
import { CURSOR_PATTERN, LIST_WHEN, parseCursor } from '../../commands/monthWalk.js';

/** A MongoDB id in a path or body: 24 hex characters, never an object. */
export const objectId = () => Joi.string().hex().length(24).messages({ 'string.length': '{{#label}}格式不正确', 'string.hex': '{{#label}}格式不正确' });

/** A Shanghai calendar day, YYYY-MM-DD, that exists. */
export const day = (label: string) => Joi.string()
  .pattern(DAY_PATTERN)
  .custom((v: string, helpers) => (isDay(v) ? v : helpers.error('string.pattern.base')))
  .messages({ 'string.pattern.base': '{{#label}}应为日期，例如 2026-11-23' }).label(label);

/** A time of day, 24-hour HH:mm. */
export const hhmm = (label: string) => Joi.string().pattern(TIME_OF_DAY_PATTERN)
  .messages({ 'string.pattern.base': '{{#label}}应为 24 小时制时间，例如 08:30' }).label(label);

/**
 * The part and page of a person's own list (src/commands/monthWalk.ts): `when` (today on by
 * default, or the history) and `after`, the `next` a previous page answered with.
 */
export const ownListPage = {
  when: Joi.string().valid(...LIST_WHEN).default('upcoming').label('时间范围')
    .messages({ 'any.only': '{{#label}}应为 upcoming（今天及以后）或 past（以前的）' })
    .description('upcoming (default): from today on, soonest first; past: before today, newest first'),
  after: Joi.string().pattern(CURSOR_PATTERN).custom((v: string) => parseCursor(v)).label('翻页位置')
    .messages({ 'string.pattern.base': '{{#label}}无效：请原样传回上一页答复中的 next' })
    .description('The `next` of the previous page'),
};
/** What an own list answers beside its items: where the next page starts. */
export const nextPage = Joi.string().allow(null).description('Pass as `after` for the next page (same `when`); null: this was the last');

export const phone = () => Joi.string().trim().pattern(/^1\d{10}$|^0\d{2,3}-?\d{7,8}$/).messages({
  'string.pattern.base': '{{#label}}应为 11 位手机号或带区号的固定电话',
});

export const relation = () => Joi.string().valid(...PROXY_RELATIONS).label('关系');

/** Profile fields a resident (or their proxy) may set. */
export const profileFields = {
  name: Joi.string().trim().min(1).max(30).label('姓名'),
  phone: phone().label('手机号'),
  birthDate: Joi.date().iso().max('now').label('出生日期'),
  gender: Joi.string().valid('男', '女').label('性别'),
  community: objectId().label('社区'),
  address: Joi.object({
    building: Joi.string().trim().max(20).label('楼栋'),
    unit: Joi.string().trim().max(20).label('单元'),
    room: Joi.string().trim().max(20).label('房号'),
  }).label('住址'),
  grid: Joi.string().trim().max(30).label('网格'),
  emergencyContact: Joi.object({
    name: Joi.string().trim().min(1).max(30).required().label('紧急联系人姓名'),
    phone: phone().required().label('紧急联系人电话'),
    relation: Joi.string().trim().max(10).label('紧急联系人关系'),
  }).label('紧急联系人'),
  dietaryNeeds: Joi.array().items(Joi.string().valid(...DIETARY_NEEDS)).unique().max(DIETARY_NEEDS.length).label('饮食需求'),
};

/** Hardship and care tags: staff set them, never the resident. */
export const tagsField = Joi.array().items(Joi.string().valid(...RESIDENT_TAGS)).unique().label('标签');

export const PersonResponse = Joi.object({
  id: Joi.string(),
  status: Joi.string().valid('pending', 'active', 'anonymised'),
  name: Joi.string().allow(null),
  phone: Joi.string().allow(null).description('Masked (138****1234) unless the viewer is the person or staff over them'),
  birthDate: Joi.date().allow(null).optional().description('Only for the person and staff'),
  age: Joi.number().allow(null),
  gender: Joi.string().allow(null),
  community: Joi.string().allow(null),
  address: Joi.object({ building: Joi.string().allow(null), unit: Joi.string().allow(null), room: Joi.string().allow(null) }),
  grid: Joi.string().allow(null),
  tags: Joi.array().items(Joi.string()),
  dietaryNeeds: Joi.array().items(Joi.string()),
  emergencyContact: Joi.object({ name: Joi.string(), relation: Joi.string().allow(null), phone: Joi.string().allow(null) }).allow(null),
  roles: Joi.array().items(Joi.string()),
  verificationRejection: Joi.object({ reason: Joi.string(), at: Joi.date().allow(null) }).allow(null)
    .description('Why staff sent a pending sign-up back; null once verified'),
}).meta({ className: 'Person' });
