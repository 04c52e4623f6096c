import Joi from 'joi';
import { SERIES_MAX_WEEKS, SERIES_MIN_WEEKS, SERIES_MODES } from '../../../commands/roomSeries.js';
import { day, hhmm, objectId } from '../common.js';
import { RoomBookingResponse } from './schema.js';

export const FacilityParams = Joi.object({ facilityId: objectId().required().label('服务场所') });
export const BlackoutParams = Joi.object({ blackoutId: objectId().required().label('停用安排') });
export const SeriesParams = Joi.object({ seriesId: objectId().required().label('重复预约') });

const time = (label: string) => Joi.date().iso().label(label);
const endAfterStart = (label: string) =>
  time(label).greater(Joi.ref('start')).messages({ 'date.greater': '「结束时间」应晚于开始时间' });
const equipmentItem = Joi.string().trim().min(1).max(20).label('设备');
/** `equipment=投影仪,音响` or `equipment=投影仪&equipment=音响`. */
const equipmentQuery = Joi.alternatives(
  Joi.array().items(equipmentItem).max(20),
  Joi.string().trim().max(200).custom((v: string) => v.split(/[,，]/).map((s) => s.trim()).filter(Boolean)),
).label('设备');
const wholeSlots = (label: string, max: number) => Joi.number().integer().min(30).max(max).multiple(30)
  .messages({ 'number.multiple': '{{#label}}应为 30 分钟的整数倍' }).label(label);

const OpeningHours = Joi.array().items(Joi.object({
  weekday: Joi.number().integer().min(0).max(6).required().label('星期（0 为星期日）'),
  open: hhmm('开门时间').required(),
  close: hhmm('关门时间').required(),
})).max(21).label('开放时间');

const roomFields = {
  name: Joi.string().trim().min(1).max(30).label('名称'),
  capacity: Joi.number().integer().min(1).max(1000).label('容纳人数'),
  equipment: Joi.array().items(equipmentItem).unique().max(30).label('设备'),
  openingHours: OpeningHours,
  minNoticeMinutes: Joi.number().integer().min(0).max(30 * 24 * 60).label('最少提前分钟数'),
  maxAdvanceDays: Joi.number().integer().min(1).max(365).label('最多提前天数'),
  maxDurationMinutes: wholeSlots('单次最长分钟数', 24 * 60),
  weeklyQuotaPerResident: Joi.number().integer().min(1).max(100).label('每人每周次数'),
  approvalRequired: Joi.boolean().label('是否需要审核'),
  approvalRequiredFor: Joi.array().items(Joi.string().trim().min(1).max(20)).unique().max(20).label('需审核的用途'),
};

export const CreateRoomBody = Joi.object({
  ...roomFields,
  name: roomFields.name.required(),
  capacity: roomFields.capacity.required(),
});
export const UpdateRoomBody = Joi.object(roomFields).min(1);

export const ListRoomsQuery = Joi.object({
  facility: objectId().label('服务场所'),
  minCapacity: Joi.number().integer().min(1).max(1000).label('最少容纳人数'),
  equipment: equipmentQuery,
  limit: Joi.number().integer().min(1).max(1000).default(200).label('数量'),
  offset: Joi.number().integer().min(0).max(100_000).default(0).label('偏移'),
});

export const RoomResponse = Joi.object({
  id: Joi.string(), facility: Joi.string(), name: Joi.string(), capacity: Joi.number(),
  equipment: Joi.array().items(Joi.string()),
  openingHours: Joi.array().items(Joi.object({ weekday: Joi.number(), open: Joi.string(), close: Joi.string() })),
  slotMinutes: Joi.number(), minNoticeMinutes: Joi.number(), maxAdvanceDays: Joi.number(), maxDurationMinutes: Joi.number(),
  weeklyQuotaPerResident: Joi.number(), approvalRequired: Joi.boolean(), approvalRequiredFor: Joi.array().items(Joi.string()),
  checkInCode: Joi.string().optional().description('Only for the facility\'s staff'),
}).meta({ className: 'Room' });

export const CreateBlackoutBody = Joi.object({
  roomId: objectId().label('活动室'),
  start: time('开始时间').required(),
  end: endAfterStart('结束时间').required(),
  reason: Joi.string().trim().min(1).max(100).required().label('原因'),
});
export const ListBlackoutsQuery = Joi.object({
  from: time('开始时间'),
  to: time('结束时间'),
});
export const BlackoutResponse = Joi.object({
  id: Joi.string(), facility: Joi.string(), room: Joi.string().allow(null), start: Joi.date(), end: Joi.date(), reason: Joi.string(),
}).meta({ className: 'Blackout' });

export const AvailabilityQuery = Joi.object({ date: day('日期').required() });
const Range = Joi.object({ start: Joi.date(), end: Joi.date() });
export const AvailabilityResponse = Joi.object({
  room: Joi.string(), date: Joi.string(),
  openingHours: Joi.array().items(Joi.object({ open: Joi.string(), close: Joi.string() })).description('That day; empty when closed'),
  openingLabel: Joi.string(),
  free: Joi.array().items(Range),
  blackouts: Joi.array().items(Joi.object({ start: Joi.date(), end: Joi.date(), reason: Joi.string() })),
}).meta({ className: 'RoomAvailability' });

export const FreeRoomsQuery = Joi.object({
  start: time('开始时间').required(),
  end: endAfterStart('结束时间').required(),
  minCapacity: Joi.number().integer().min(1).max(1000).label('最少容纳人数'),
  equipment: equipmentQuery,
});

export const ScheduleQuery = Joi.object({
  date: day('日期').required(),
  days: Joi.number().integer().valid(1, 7).default(1).label('天数'),
});
export const ScheduleResponse = Joi.object({
  from: Joi.date(), to: Joi.date(),
  rooms: Joi.array().items(Joi.object({ id: Joi.string(), name: Joi.string(), capacity: Joi.number() })),
  bookings: Joi.array().items(Joi.object({
    id: Joi.string(), room: Joi.string(), start: Joi.date(), end: Joi.date(), status: Joi.string(), purpose: Joi.string(),
    attendees: Joi.number(), series: Joi.string().allow(null),
    booker: Joi.object({ name: Joi.string().allow(null), phone: Joi.string().allow(null).description('Masked') }),
    flag: Joi.object({ reason: Joi.string(), at: Joi.date().allow(null) }).allow(null),
  })),
}).meta({ className: 'RoomSchedule' });

export const CreateSeriesBody = Joi.object({
  start: time('开始时间').required(),
  end: endAfterStart('结束时间').required(),
  weeks: Joi.number().integer().min(SERIES_MIN_WEEKS).max(SERIES_MAX_WEEKS).label('周数'),
  until: day('截止日期'),
  purpose: Joi.string().trim().min(1).max(60).required().label('用途'),
  attendees: Joi.number().integer().min(1).max(1000).required().label('人数'),
  forPerson: objectId().label('代预约的居民'),
  paid: Joi.boolean().label('是否收费课程'),
  mode: Joi.string().valid(...SERIES_MODES).required().label('方式'),
}).xor('weeks', 'until');

const OccurrenceResponse = Joi.object({
  start: Joi.date(), end: Joi.date(), status: Joi.string().valid('booked', 'free', 'conflict'),
  booking: Joi.string().optional().description('The booking, when booked'),
  reason: Joi.object({ code: Joi.string(), message: Joi.string() }).optional().description('Why not, on a conflict'),
  conflictWith: Joi.object({ start: Joi.date(), end: Joi.date(), purpose: Joi.string() }).optional().description('The booking in the way, when there is one'),
}).meta({ className: 'SeriesOccurrence' });
export const SeriesResponse = Joi.object({
  series: Joi.string().allow(null), mode: Joi.string(), booked: Joi.number(), conflicts: Joi.number(),
  occurrences: Joi.array().items(OccurrenceResponse),
}).meta({ className: 'RoomSeries' });
export const SeriesRefusedResponse = Joi.object({
  error: Joi.object({ code: Joi.string(), message: Joi.string() }),
  series: Joi.string().allow(null), mode: Joi.string(), booked: Joi.number(), conflicts: Joi.number(),
  occurrences: Joi.array().items(OccurrenceResponse),
}).meta({ className: 'RoomSeriesRefused' });

export const CancelSeriesBody = Joi.object({ reason: Joi.string().trim().min(1).max(200).label('原因') });
export const CancelSeriesResponse = Joi.object({
  cancelled: Joi.array().items(RoomBookingResponse),
  skipped: Joi.array().items(Joi.object({ id: Joi.string(), code: Joi.string(), message: Joi.string() })),
});
