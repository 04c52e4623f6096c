import Joi from 'joi';
import { PersonResponse } from '../common.js';

export const WechatLoginBody = Joi.object({
  code: Joi.string().trim().min(1).max(128).required().label('登录凭证 code'),
});

export const StaffLoginBody = Joi.object({
  username: Joi.string().trim().min(1).max(64).required().label('用户名'),
  password: Joi.string().min(1).max(256).required().label('密码'),
});

export const RefreshBody = Joi.object({
  refreshToken: Joi.string().min(16).max(256).required().label('refreshToken'),
});

export const SessionResponse = Joi.object({
  tokenType: Joi.string().valid('Bearer'),
  accessToken: Joi.string(),
  expiresIn: Joi.number().description('Seconds until the access token expires'),
  refreshToken: Joi.string().description('Single use: each refresh returns a new one'),
  person: PersonResponse.optional().description('On sign-in, not on refresh'),
  isNewUser: Joi.boolean().optional().description('On WeChat sign-in only'),
}).meta({ className: 'Session' });
