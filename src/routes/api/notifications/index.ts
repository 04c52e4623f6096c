import Joi from 'joi';
import { listUndelivered, recordSubscriptionGrants, retryNotification } from '../../../commands/notifications.js';
import { idempotent } from '../../../middlewares/idempotency.js';
import { authorize } from '../../../policies/index.js';
import { SubscriptionGrant } from '../../../../models/subscriptionGrant.js';
import type { ApiRouter } from '../../apiRouter.js';
import { objectId } from '../common.js';
import type { RouteDeps } from '../deps.js';

const UndeliveredResponse = Joi.object({
  id: Joi.string(),
  key: Joi.string(),
  kind: Joi.string(),
  person: Joi.object({ id: Joi.string(), name: Joi.string().allow(null) }),
  dueAt: Joi.date(),
  outcome: Joi.string().valid('dead', 'no_channel'),
  error: Joi.string().allow(null).description('An error code, e.g. wechat_43101, bot_send_Error, no_channel'),
  attempts: Joi.number(),
  at: Joi.date(),
}).meta({ className: 'UndeliveredNotification' });

const templateId = Joi.string().pattern(/^[A-Za-z0-9_-]{1,128}$/).messages({ 'string.pattern.base': '{{#label}}格式不正确' });

/** Staff see and retry what could not be delivered; residents record subscription grants. */
export function registerNotificationRoutes(api: ApiRouter, deps: RouteDeps): void {
  const before = [deps.authenticate];
  const tags = ['通知'];

  api.route({
    method: 'get', path: '/notifications/undelivered', operationId: 'notifications.undelivered',
    summary: '发送失败的通知（死信）与无法送达的通知（工作人员）', tags, before,
    description: 'Dead letters (every attempt failed, or a permanent failure) and notifications with no channel to the person (no bot contact, no subscription grant), newest first; staff see their community\'s.',
    schema: { query: Joi.object({ limit: Joi.number().integer().min(1).max(200).default(50).label('数量') }) },
    responses: {
      200: { description: 'Newest first', schema: Joi.object({ items: Joi.array().items(UndeliveredResponse) }) },
      403: { description: 'forbidden: staff and admins only' },
    },
    handler: async (ctx) => {
      ctx.body = { items: await listUndelivered(ctx.state.user, ctx.state.input.query.limit as number) };
    },
  });

  api.route({
    method: 'post', path: '/notifications/:notificationId/retry', operationId: 'notifications.retry',
    summary: '重发一条发送失败的通知（工作人员）', tags, before,
    description: 'Schedules one more attempt, due now. Only for a notification whose last attempt ended dead or with no channel.',
    schema: { params: Joi.object({ notificationId: objectId().required().label('通知') }) },
    responses: {
      202: { description: 'Scheduled', schema: Joi.object({ id: Joi.string(), attempt: Joi.number(), dueAt: Joi.date() }).meta({ className: 'NotificationRetry' }) },
      403: { description: 'forbidden: not staff of the person\'s community' },
      404: { description: 'not_found' },
      409: { description: 'notification_not_retryable, notification_retry_pending' },
    },
    handler: async (ctx) => {
      ctx.status = 202;
      ctx.body = await retryNotification(deps.redis, ctx.state.user, ctx.state.input.params.notificationId as string);
    },
  });

  api.route({
    method: 'post', path: '/me/subscription-grants', operationId: 'me.subscriptionGrants',
    summary: '记录用户在小程序中同意的订阅消息（每次同意可收一条）', tags: ['我的'],
    before: [...before, idempotent(deps.redis)],
    description: 'Call right after wx.requestSubscribeMessage with the template ids the user accepted. Each accepted template allows one subscribe message. Needs a mini-program sign-in (the openid).',
    schema: { body: Joi.object({ templateIds: Joi.array().items(templateId.label('模板')).min(1).max(3).required().label('模板列表') }) },
    responses: {
      201: {
        description: 'Recorded',
        schema: Joi.object({
          granted: Joi.number(),
          remaining: Joi.array().items(Joi.object({ templateId: Joi.string(), remaining: Joi.number() })),
        }).meta({ className: 'SubscriptionGrants' }),
      },
      409: { description: 'miniprogram_not_signed_in' },
    },
    handler: async (ctx) => {
      const { user } = ctx.state;
      authorize(user, 'create', SubscriptionGrant);
      ctx.status = 201;
      ctx.body = await recordSubscriptionGrants(deps.redis, user.person, ctx.state.input.body.templateIds as string[]);
    },
  });
}
