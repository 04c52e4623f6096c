import Joi from 'joi';
import { day, objectId } from '../common.js';

export const DashboardParams = Joi.object({ communityId: objectId().required().label('社区') });

export const DashboardQuery = Joi.object({
  from: day('开始日期'),
  to: day('结束日期'),
});

const n = () => Joi.number().required();
const share = { bookedHours: n(), openHours: n(), utilisation: n().description('bookedHours ÷ openHours, 0–1') };
const fill = { capacity: n(), booked: n(), fillRate: n().description('booked ÷ capacity, 0–1') };

export const DashboardResponse = Joi.object({
  community: Joi.string().required(),
  from: Joi.string().required(),
  to: Joi.string().required(),
  days: Joi.array().items(Joi.string()).required(),
  rooms: Joi.object({
    ...share,
    byRoom: Joi.array().items(Joi.object({ room: Joi.string().required(), name: Joi.string().required(), ...share })).required(),
    byHour: Joi.array().items(Joi.object({ hour: n(), bookedHours: n() })).required().description('Booked hours per hour of the day, 0–23'),
  }).required().description('Rooms of the community centre: bookings that hold the room'),
  meals: Joi.object({
    portions: n(),
    byDay: Joi.array().items(Joi.object({ date: Joi.string().required(), dine_in: n(), pickup: n(), delivery: n() })).required(),
  }).required().description('Portions not cancelled'),
  childcare: Joi.object({ ...fill, byDay: Joi.array().items(Joi.object({ date: Joi.string().required(), ...fill })).required() }).required(),
  volunteers: Joi.object({ hours: n(), byDay: Joi.array().items(Joi.object({ date: Joi.string().required(), hours: n() })).required() })
    .required().description('Approved hours, by the day of the task'),
  visits: Joi.object({ month: Joi.string().required(), elders: n(), visited: n(), rate: n().description('visited ÷ elders, toward 1') })
    .required().description('This month: elders tagged 特困 / 独居 visited'),
  ratings: Joi.object({ good: n(), bad: n(), byDay: Joi.array().items(Joi.object({ date: Joi.string().required(), good: n(), bad: n() })).required() })
    .required().description('好差评 of meals and rooms'),
}).meta({ className: 'Dashboard' });
