import Joi from 'joi';
import { listMyNotifications, markNotificationsRead, notificationOwner } from '../../../commands/myNotifications.js';
import { presentMyNotification } from '../../../presenters/notification.js';
import type { ApiRouter } from '../../apiRouter.js';
import { objectId } from '../common.js';
import type { RouteDeps } from '../deps.js';

const tags = ['我的'];
const forPerson = objectId().label('代办的居民');

const MyNotificationResponse = Joi.object({
  id: Joi.string(),
  kind: Joi.string().description('e.g. room_booking_reminder, childcare_pickup_code, waitlist_offer'),
  text: Joi.string().description('What the person was told, in Chinese'),
  at: Joi.date().description('When it was due to be told'),
  read: Joi.boolean(),
  readAt: Joi.date().allow(null),
}).meta({ className: 'MyNotification' });

/** 我的 → 消息: what a resident (or the elder they act for) was told, with read marks. */
export function registerMyNotificationRoutes(api: ApiRouter, deps: RouteDeps): void {
  const before = [deps.authenticate];
  const inbox = { retentionDays: deps.config.outbox.retentionDays, redis: deps.redis };

  api.route({
    method: 'get', path: '/me/notifications', operationId: 'me.notifications', summary: '我收到的消息（或代办老人的）', tags, before,
    description: 'Reminders, cancellations with their reasons, waitlist offers, pick-up codes… everything the person was told (due by now), newest first. `for`: an elder the caller acts for (代办).',
    schema: {
      query: Joi.object({
        for: forPerson,
        page: Joi.number().integer().min(1).max(1000).default(1).label('页码'),
        limit: Joi.number().integer().min(1).max(100).default(20).label('每页数量'),
      }),
    },
    responses: {
      200: {
        description: 'One page, newest first',
        schema: Joi.object({
          items: Joi.array().items(MyNotificationResponse), page: Joi.number(), limit: Joi.number(),
          hasMore: Joi.boolean(), unread: Joi.number().description('Unread messages in all pages'),
        }),
      },
      403: { description: 'forbidden: not a person the caller acts for' },
      404: { description: 'not_found: no such person' },
    },
    handler: async (ctx) => {
      const { for: whom, page, limit } = ctx.state.input.query as { for?: string; page: number; limit: number };
      const owner = await notificationOwner(ctx.state.user, whom);
      const found = await listMyNotifications(owner, { page, limit }, inbox);
      ctx.body = { items: found.items.map(presentMyNotification), page, limit, hasMore: found.hasMore, unread: found.unread };
    },
  });

  api.route({
    method: 'post', path: '/me/notifications/read', operationId: 'me.notificationsRead', summary: '标记消息为已读', tags, before,
    description: 'Marks the given messages (`ids`) or every unread message told so far (`all: true`: the newest 1000 unread per call; call again while `marked` is 1000) as read. Ids of other people\'s messages are ignored.',
    schema: {
      body: Joi.object({
        ids: Joi.array().items(objectId().label('消息')).min(1).max(100).unique().label('消息列表'),
        all: Joi.boolean().valid(true).label('全部'),
        for: forPerson,
      }).xor('ids', 'all'),
    },
    responses: {
      200: { description: 'How many were newly marked', schema: Joi.object({ marked: Joi.number() }) },
      403: { description: 'forbidden: not a person the caller acts for' },
      404: { description: 'not_found: no such person' },
    },
    handler: async (ctx) => {
      const body = ctx.state.input.body as { ids?: string[]; all?: boolean; for?: string };
      const owner = await notificationOwner(ctx.state.user, body.for);
      ctx.body = { marked: await markNotificationsRead(ctx.state.user, owner, body, inbox) };
    },
  });
}
