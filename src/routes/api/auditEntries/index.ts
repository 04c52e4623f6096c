import Joi from 'joi';
import { AuditEntry } from '../../../../models/auditEntry.js';
import { AUDIT_WINDOW_DAYS, listAuditEntries, type AuditQuery } from '../../../commands/audit.js';
import { personNames } from '../../../commands/personNames.js';
import { authorize } from '../../../policies/index.js';
import { presentAuditEntry } from '../../../presenters/auditEntry.js';
import type { ApiRouter } from '../../apiRouter.js';
import { objectId } from '../common.js';
import type { RouteDeps } from '../deps.js';

const AuditEntryResponse = Joi.object({
  id: Joi.string(), actor: Joi.string(), actorName: Joi.string().allow(null).description('Who read or changed (null once erased)'),
  action: Joi.string(), subject: Joi.string().allow(null), subjectName: Joi.string().allow(null).description('Whose data (null for a listing, or once erased)'),
  fields: Joi.array().items(Joi.string()), requestId: Joi.string().allow(null), at: Joi.date(),
}).meta({ className: 'AuditEntry' });

/** The audit log of staff access to personal data: admins only. */
export function registerAuditRoutes(api: ApiRouter, deps: RouteDeps): void {
  api.route({
    method: 'get', path: '/audit-entries', operationId: 'auditEntries.list', summary: '个人数据访问审计日志（管理员）', tags: ['审计'],
    before: [deps.authenticate],
    schema: {
      query: Joi.object({
        subject: objectId().label('居民'),
        actor: objectId().label('操作人'),
        action: Joi.string().pattern(/^[A-Za-z.]{1,60}$/).label('操作'),
        limit: Joi.number().integer().min(1).max(500).default(100).label('数量'),
        before: Joi.date().iso().label('早于').description('Only entries before this instant: the previous page\'s nextBefore'),
        beforeId: objectId().label('早于记录').description('With before: also the entries at exactly that instant with a lower id (the previous page\'s nextBeforeId)'),
      }),
    },
    description: `Newest first. Without a resident (subject), the trail is read a day at a time back from \`before\` (default now), at most ${AUDIT_WINDOW_DAYS} days per page; \`nextBefore\` continues it (null: nothing older).`,
    responses: {
      200: {
        description: 'Newest first, with the actor\'s and the subject\'s names',
        schema: Joi.object({
          items: Joi.array().items(AuditEntryResponse),
          nextBefore: Joi.date().allow(null).description('Pass as `before` for the next (older) page; null when there is nothing older'),
          nextBeforeId: Joi.string().allow(null).description('Pass as `beforeId` with `before`: entries written in the same millisecond are neither skipped nor repeated'),
        }),
      },
    },
    handler: async (ctx) => {
      authorize(ctx.state.user, 'list', AuditEntry);
      const { entries, nextBefore, nextBeforeId } = await listAuditEntries(ctx.state.input.query as unknown as AuditQuery);
      // Names next to ids, for the console's 查阅记录 page: one cached _id read per person named.
      const names = await personNames(entries.flatMap((e) => [e.actor, e.subject]));
      ctx.body = { items: entries.map((e) => presentAuditEntry(e, names)), nextBefore, nextBeforeId };
    },
  });
}
