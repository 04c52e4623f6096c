import Joi from 'joi';
import { CHILDCARE_BOOKING_STATUSES } from '../../../../models/childcareBooking.js';
import { CHILDCARE_CLASS_TYPES } from '../../../../models/childcareSession.js';
import { WAITLIST_STATUSES } from '../../../../models/childcareWaitlist.js';
import { day, hhmm, objectId, ownListPage } from '../common.js';

export const ChildParams = Joi.object({ childId: objectId().required().label('孩子') });
export const GuardianParams = Joi.object({
  childId: objectId().required().label('孩子'),
  guardianId: objectId().required().label('接送人'),
});
export const CentreParams = Joi.object({ centreId: objectId().required().label('托育中心') });
export const SessionParams = Joi.object({ sessionId: objectId().required().label('托育时段') });
export const BookingParams = Joi.object({ bookingId: objectId().required().label('托育预约') });
export const EntryParams = Joi.object({ entryId: objectId().required().label('候补记录') });

const mobile = (label: string) => Joi.string().trim().pattern(/^1\d{10}$/)
  .messages({ 'string.pattern.base': '{{#label}}应为 11 位手机号' }).label(label);
const classType = Joi.string().valid(...CHILDCARE_CLASS_TYPES).label('班型');
const text = (label: string, max: number) => Joi.string().trim().min(1).max(max).label(label);

/* ---------------------------------------------------------------- children */

const childFields = {
  name: text('孩子姓名', 30),
  birthDate: day('出生日期'),
  allergies: Joi.array().items(text('过敏物', 20)).unique().max(20).label('过敏'),
  healthNotes: Joi.string().trim().max(500).allow('').label('健康情况'),
};
export const CreateChildBody = Joi.object({ ...childFields, name: childFields.name.required(), birthDate: childFields.birthDate.required() });
export const UpdateChildBody = Joi.object(childFields).min(1);
export const GuardianBody = Joi.object({
  name: text('接送人姓名', 30).required(),
  relation: text('与孩子的关系', 10).required(),
  phone: mobile('接送人手机号').required(),
});

export const ChildResponse = Joi.object({
  id: Joi.string(), name: Joi.string(), birthDate: Joi.date(), ageMonths: Joi.number(),
  allergies: Joi.array().items(Joi.string()), healthNotes: Joi.string().allow(null),
  parents: Joi.array().items(Joi.string()),
  guardians: Joi.array().items(Joi.object({
    id: Joi.string(), name: Joi.string(), relation: Joi.string(), phone: Joi.string(),
    authorisedBy: Joi.string().description('The parent who authorised this person'), authorisedAt: Joi.date(),
  })),
}).meta({ className: 'Child' });

/* ---------------------------------------------------------------- sessions */

export const CreateSessionBody = Joi.object({
  date: day('日期').required(),
  from: hhmm('开始时间').required(),
  to: hhmm('结束时间').required(),
  classType: classType.required(),
  carersOnShift: Joi.number().integer().min(1).max(20).required().label('在岗保育人员'),
  capacity: Joi.number().integer().min(1).max(20).label('名额（不超过按比例计算的上限）'),
});
export const UpdateSessionBody = Joi.object({
  carersOnShift: Joi.number().integer().min(0).max(20).label('在岗保育人员'),
  capacity: Joi.number().integer().min(0).max(20).label('名额（不超过按比例计算的上限）'),
}).min(1);
export const AvailabilityQuery = Joi.object({
  date: day('日期').required(),
  centre: objectId().label('托育中心'),
  classType,
});

export const ChildcareSessionResponse = Joi.object({
  id: Joi.string(), centre: Joi.string(), centreName: Joi.string().optional().description('In lists for parents'), date: Joi.string(), start: Joi.date(), end: Joi.date(),
  classType: Joi.string().valid(...CHILDCARE_CLASS_TYPES), carersOnShift: Joi.number(),
  capacity: Joi.number().description('min(class maximum, carers × ratio), or lower if staff set it'),
  booked: Joi.number(), free: Joi.number().optional().description('Places neither booked nor held for a waitlist offer (counted answers)'),
  waiting: Joi.number().optional().description('Children in line (counted answers)'),
}).meta({ className: 'ChildcareSession' });

export const SessionUpdateResponse = Joi.object({
  session: ChildcareSessionResponse,
  overCapacity: Joi.array().items(Joi.object({
    booking: Joi.string(), child: Joi.string(), childName: Joi.string(), bookedAt: Joi.date(),
  })).description('The last-booked children beyond the new capacity: still booked, staff decide what to do'),
}).meta({ className: 'ChildcareSessionUpdate' });

/* ---------------------------------------------------------------- bookings */

export const HealthDeclarationBody = Joi.object({
  healthy: Joi.boolean().required().label('健康声明')
    .description('The parent confirms: no fever, diarrhoea, rash or contact with an infectious illness in the last 24 hours'),
  notes: Joi.string().trim().max(200).allow('').label('健康说明'),
}).label('健康声明').meta({ className: 'HealthDeclaration' });

export const BookBody = Joi.object({
  childId: objectId().required().label('孩子'),
  healthDeclaration: HealthDeclarationBody.required(),
  joinWaitlist: Joi.boolean().default(true).label('约满时加入候补'),
});
export const AcceptBody = Joi.object({ healthDeclaration: HealthDeclarationBody.required() });
export const CancelBody = Joi.object({ reason: text('原因', 200) });
export const DropOffBody = Joi.object({
  temperature: Joi.number().min(34).max(43).precision(1).required().label('晨检体温（℃）'),
  notes: Joi.string().trim().max(200).allow('').label('晨检情况'),
});
export const PickUpBody = Joi.object({
  code: Joi.string().pattern(/^\d{6}$/).required().messages({ 'string.pattern.base': '{{#label}}应为 6 位数字' }).label('取托码'),
  collector: Joi.object({
    name: text('接孩子的人的姓名', 30).required(),
    phone: mobile('接孩子的人的手机号').required(),
  }).required().label('接孩子的人'),
});
export const MineQuery = Joi.object({
  childId: objectId().label('孩子'),
  ...ownListPage,
  limit: Joi.number().integer().min(1).max(100).default(50).label('数量'),
});

export const ChildcareBookingResponse = Joi.object({
  id: Joi.string(), session: Joi.string(), centre: Joi.string(), child: Joi.string(), bookedFor: Joi.string(), bookedBy: Joi.string(),
  date: Joi.string(), start: Joi.date(), end: Joi.date(), classType: Joi.string().valid(...CHILDCARE_CLASS_TYPES),
  status: Joi.string().valid(...CHILDCARE_BOOKING_STATUSES),
  lateCancellation: Joi.boolean().description('Cancelled after the cancel cut-off: counts like a no-show'),
  fromWaitlist: Joi.string().allow(null),
  healthCheck: Joi.object({ temperature: Joi.number(), notes: Joi.string().allow(null), at: Joi.date() }).allow(null),
  pickedUp: Joi.object({ at: Joi.date(), collectorName: Joi.string(), collectorRelation: Joi.string() }).allow(null),
  pickupRefusals: Joi.number(),
  createdAt: Joi.date(),
}).meta({ className: 'ChildcareBooking' });

export const WaitlistEntryResponse = Joi.object({
  id: Joi.string(), session: Joi.string(), child: Joi.string(), bookedFor: Joi.string(), start: Joi.date(),
  status: Joi.string().valid(...WAITLIST_STATUSES),
  position: Joi.number().allow(null).description('1 = next in line (while waiting)'),
  offerExpiresAt: Joi.date().allow(null).description('While offered: accept before this'),
  booking: Joi.string().allow(null),
}).meta({ className: 'ChildcareWaitlistEntry' });

export const AttendanceResponse = Joi.object({
  session: ChildcareSessionResponse,
  counts: Joi.object({ booked: Joi.number(), droppedOff: Joi.number(), pickedUp: Joi.number(), absent: Joi.number(), waiting: Joi.number() }),
  children: Joi.array().items(ChildcareBookingResponse.keys({
    childName: Joi.string(), ageMonths: Joi.number().allow(null), allergies: Joi.array().items(Joi.string()),
    healthNotes: Joi.string().allow(null), guardians: Joi.array().items(Joi.object({ name: Joi.string(), relation: Joi.string() })),
  }).meta({ className: 'ChildcareAttendanceRow' })),
  waitlist: Joi.array().items(WaitlistEntryResponse.keys({ childName: Joi.string() }).meta({ className: 'ChildcareAttendanceWaiting' })),
}).meta({ className: 'ChildcareAttendance' });

/* ---------------------------------------------------------------- the desk */

export const ParentParams = Joi.object({ personId: objectId().required().label('家长') });
export const ChildAtDeskResponse = Joi.object({
  id: Joi.string(), name: Joi.string(), ageMonths: Joi.number().allow(null),
}).meta({ className: 'ChildAtDesk' });
