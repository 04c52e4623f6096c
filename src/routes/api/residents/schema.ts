import Joi from 'joi';
import { PersonResponse, objectId, profileFields, relation, tagsField } from '../common.js';

export const PersonParams = Joi.object({ personId: objectId().required().label('居民') });

export const ListResidentsQuery = Joi.object({
  status: Joi.string().valid('pending', 'active').label('状态'),
  grid: Joi.string().trim().max(30).label('网格'),
  tag: Joi.string().valid('特困', '低保', '低收入', '独居', '失能', '残疾').label('标签'),
  q: Joi.string().trim().min(1).max(30).label('姓名或手机号').description('Part of the name, or 4+ digits of the phone (the desk\'s search)'),
  limit: Joi.number().integer().min(1).max(100).default(50).label('每页数量'),
  offset: Joi.number().integer().min(0).max(100_000).default(0).label('偏移'),
});

/** Proxies and staff change the same profile fields; staff may also set tags. */
export const UpdateResidentBody = Joi.object({ ...profileFields, tags: tagsField }).min(1);

/** GET /residents/:id: staff over the person (and admins) also learn whether the bot is bound. */
export const ResidentRecordResponse = PersonResponse.keys({
  botBound: Joi.boolean().optional()
    .description('Whether a WeChat contact of the bot is bound to the person; only for staff over them and admins'),
}).meta({ className: 'ResidentRecord' });

export const BindingCodeResponse = Joi.object({
  code: Joi.string().length(6).description('Send it to the bot; single use'),
  expiresAt: Joi.date(),
}).meta({ className: 'BindingCode' });

export const StaffLinkBody = Joi.object({
  proxyId: objectId().required().label('代办人'),
  relation: relation().required(),
});

export const RejectVerificationBody = Joi.object({
  reason: Joi.string().trim().min(1).max(200).required().label('退回原因').description('Told to the person: what to fix'),
});
