import Joi from 'joi';
import { objectId } from '../common.js';

const month = () => Joi.string().pattern(/^\d{4}-(0[1-9]|1[0-2])$/).messages({ 'string.pattern.base': '{{#label}}应为月份，例如 2026-11' }).label('月份');

export const ReportParams = Joi.object({
  communityId: objectId().required().label('社区'),
  month: month().required(),
});

const hoursShare = { bookedHours: Joi.number(), openHours: Joi.number(), utilisation: Joi.number().description('bookedHours ÷ openHours, 0–1') };
const money = { orders: Joi.number(), portions: Joi.number(), subsidy: Joi.number(), paid: Joi.number(), deliveryFees: Joi.number() };

export const MonthlyReportResponse = Joi.object({
  community: Joi.string(),
  month: Joi.string(),
  partial: Joi.boolean().description('The month was not over when the figures were computed'),
  generatedAt: Joi.date(),
  meals: Joi.object({
    orders: Joi.number(), portions: Joi.number(),
    served: Joi.number().description('Portions handed over: dine-in, pickup, and deliveries not "not at home"'),
    byMode: Joi.object({ dine_in: Joi.number(), pickup: Joi.number(), delivery: Joi.number() }),
    notAtHome: Joi.number(),
  }),
  subsidies: Joi.object({ ...money, tiers: Joi.array().items(Joi.object({ tier: Joi.string(), ...money })) }).description('Fen'),
  childcare: Joi.object({ attendances: Joi.number(), children: Joi.number(), hours: Joi.number().description('Sessions attended (dropped off / picked up)') }),
  rooms: Joi.object({
    bookings: Joi.number(), ...hoursShare,
    byRoom: Joi.array().items(Joi.object({ room: Joi.string(), name: Joi.string(), ...hoursShare })),
  }),
  volunteers: Joi.object({ assignments: Joi.number(), volunteers: Joi.number(), hours: Joi.number().description('Approved hours') }),
  ratings: Joi.object({
    good: Joi.number(), bad: Joi.number(),
    byKitchen: Joi.array().items(Joi.object({ kitchen: Joi.string(), name: Joi.string(), good: Joi.number(), bad: Joi.number() })),
  }).description('好差评 of meals'),
}).meta({ className: 'MonthlyReport' });
