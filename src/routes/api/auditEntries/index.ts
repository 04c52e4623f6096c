import Joi from 'joi';
import { Types, trusted } from 'mongoose';
import { AuditEntry } from '../../../../models/auditEntry.js';
import { Person } from '../../../../models/person.js';
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
      }),
    },
    responses: { 200: { description: 'Newest first, with the actor\'s and the subject\'s names', schema: Joi.object({ items: Joi.array().items(AuditEntryResponse) }) } },
    handler: async (ctx) => {
      authorize(ctx.state.user, 'list', AuditEntry);
      const { limit, ...filter } = ctx.state.input.query as { limit: number; subject?: string; actor?: string; action?: string };
      const entries = await AuditEntry.find(filter).sort({ at: -1 }).limit(limit);
      // Names next to ids, for the console's 查阅记录 page: one read of the people named.
      const ids = [...new Set(entries.flatMap((e) => (e.subject ? [String(e.actor), String(e.subject)] : [String(e.actor)])))]
        .map((id) => new Types.ObjectId(id));
      const people = ids.length ? await Person.find({ _id: trusted({ $in: ids }) }, { name: 1 }).lean() : [];
      const names = new Map(people.map((p) => [String(p._id), p.name ?? null]));
      ctx.body = { items: entries.map((e) => presentAuditEntry(e, names)) };
    },
  });
}
