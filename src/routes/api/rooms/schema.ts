import Joi from 'joi';
import { day, objectId, ownListPage } from '../common.js';

export const RoomParams = Joi.object({ roomId: objectId().required().label('活动室') });
export const BookingParams = Joi.object({ bookingId: objectId().required().label('预约') });

const time = (label: string) => Joi.date().iso().required().label(label);
const purpose = Joi.string().trim().min(1).max(60).required().label('用途');

export const CreateRoomBookingBody = Joi.object({
  start: time('开始时间'),
  end: time('结束时间').greater(Joi.ref('start')).messages({ 'date.greater': '「结束时间」应晚于开始时间' }),
  purpose,
  attendees: Joi.number().integer().min(1).max(1000).required().label('人数'),
  forPerson: objectId().label('代预约的居民'),
  paid: Joi.boolean().label('是否收费课程'),
});

export const CancelBody = Joi.object({ reason: Joi.string().trim().min(1).max(200).label('原因') });
export const RejectBody = Joi.object({ reason: Joi.string().trim().min(1).max(200).required().label('原因') });
export const MoveBody = Joi.object({
  roomId: objectId().label('新的活动室'),
  start: time('开始时间'),
  end: time('结束时间').greater(Joi.ref('start')).messages({ 'date.greater': '「结束时间」应晚于开始时间' }),
  reason: Joi.string().trim().min(1).max(200).required().label('原因'),
});
export const CheckInBody = Joi.object({ code: Joi.string().pattern(/^\d{6}$/).required().label('签到码') });
export const MineQuery = Joi.object({
  forPerson: objectId().label('居民'),
  ...ownListPage,
  limit: Joi.number().integer().min(1).max(100).default(50).label('数量'),
});

export const RoomBookingResponse = Joi.object({
  id: Joi.string(), room: Joi.string(), facility: Joi.string(), start: Joi.date(), end: Joi.date(),
  purpose: Joi.string(), attendees: Joi.number(),
  status: Joi.string().valid('pending', 'confirmed', 'checked_in', 'completed', 'cancelled', 'rejected', 'released_no_show'),
  bookedFor: Joi.string(), bookedBy: Joi.string(), series: Joi.string().allow(null),
  flag: Joi.object({ reason: Joi.string(), at: Joi.date() }).allow(null), checkedInAt: Joi.date().allow(null),
}).meta({ className: 'RoomBooking' });

export const RoomBookingHistoryEntry = Joi.object({
  action: Joi.string().valid('created', 'approved', 'rejected', 'cancelled', 'moved', 'checked_in', 'completed', 'released_no_show', 'changed'),
  from: Joi.string().allow(null).description('Status before; null when created'),
  to: Joi.string().allow(null).description('Status after (the same as from for a move)'),
  at: Joi.date().allow(null),
  by: Joi.object({ id: Joi.string(), name: Joi.string().allow(null), staff: Joi.boolean() }).allow(null).description('Who made the change'),
  reason: Joi.string().allow(null),
  was: Joi.object({ room: Joi.string().allow(null), roomName: Joi.string().allow(null), start: Joi.date(), end: Joi.date().allow(null) })
    .allow(null).description('For a move: where and when the booking was before'),
}).meta({ className: 'RoomBookingHistoryEntry' });
export const RoomBookingDetailResponse = RoomBookingResponse.keys({
  history: Joi.array().items(RoomBookingHistoryEntry).optional()
    .description('Only for the facility\'s staff and admins (it names who made each change): created, approved, moved, cancelled…, oldest first'),
}).meta({ className: 'RoomBookingDetail' });

export const RatingBody = Joi.object({
  good: Joi.boolean().required().label('好评'),
  comment: Joi.string().trim().min(1).max(300).label('评价内容'),
});
export const RatingResponse = Joi.object({
  id: Joi.string(), booking: Joi.string(), room: Joi.string(), day: Joi.string(), good: Joi.boolean(), comment: Joi.string().allow(null),
}).meta({ className: 'RoomRating' });
export const RatingsQuery = Joi.object({ from: day('开始日期'), to: day('结束日期') });
export const RatingReportResponse = Joi.object({
  from: Joi.string(), to: Joi.string(), good: Joi.number(), bad: Joi.number(),
  rooms: Joi.array().items(Joi.object({ room: Joi.string(), name: Joi.string(), good: Joi.number(), bad: Joi.number() })),
  comments: Joi.array().items(Joi.object({ day: Joi.string(), room: Joi.string(), good: Joi.boolean(), comment: Joi.string() })),
}).meta({ className: 'RoomRatingReport' });
