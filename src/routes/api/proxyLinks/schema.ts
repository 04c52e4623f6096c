import Joi from 'joi';
import { objectId, phone, relation } from '../common.js';

const Party = Joi.object({ id: Joi.string(), name: Joi.string().allow(null), phone: Joi.string().allow(null) });

export const ProxyLinkResponse = Joi.object({
  id: Joi.string(),
  relation: Joi.string(),
  status: Joi.string().valid('pending', 'active', 'revoked'),
  confirmedBy: Joi.string().valid('elder', 'staff').allow(null),
  proxy: Party,
  elder: Party,
}).meta({ className: 'ProxyLink' });

export const RequestProxyLinkBody = Joi.object({
  elderPhone: phone().required().label('老人手机号'),
  elderName: Joi.string().trim().min(1).max(30).required().label('老人姓名'),
  relation: relation().required(),
});

export const StaffLinkBody = Joi.object({
  proxyId: objectId().required().label('代办人'),
  relation: relation().required(),
});

export const LinkParams = Joi.object({ linkId: objectId().required().label('代办关联') });
