import Joi from 'joi';
import { objectId } from '../common.js';

export const RaiseUrgentBody = Joi.object({
  /** What the person typed or said, if anything (the SOS button alone sends nothing). */
  words: Joi.string().trim().max(500).allow('').label('求助内容'),
  forPerson: objectId().label('为谁求助'),
});

export const UrgentAlertParams = Joi.object({ alertId: objectId().required().label('紧急求助') });

export const UrgentAlertResponse = Joi.object({
  id: Joi.string(), person: Joi.string(), raisedBy: Joi.string(), source: Joi.string().valid('bot', 'api'),
  words: Joi.array().items(Joi.string()), raisedAt: Joi.date(), recipients: Joi.number().description('How many people were told'),
  status: Joi.string().valid('open', 'acknowledged'), acknowledgedBy: Joi.string().allow(null), acknowledgedAt: Joi.date().allow(null),
  escalatedAt: Joi.date().allow(null),
  dutyPhone: Joi.string().allow(null).optional().description('The community\'s duty phone (on raise only)'),
}).meta({ className: 'UrgentAlert' });
