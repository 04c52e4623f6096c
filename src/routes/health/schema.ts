import Joi from 'joi';

const checkState = Joi.string().valid('up', 'down');

export const HealthResponse = Joi.object({ status: Joi.string().valid('ok') }).meta({ className: 'Health' });

export const ReadinessResponse = Joi.object({
  status: Joi.string().valid('ready', 'unavailable'),
  checks: Joi.object({ mongodb: checkState, redis: checkState }),
}).meta({ className: 'Readiness' });
