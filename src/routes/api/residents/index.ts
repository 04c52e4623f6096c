import Joi from 'joi';
import { Types, type QueryFilter, trusted } from 'mongoose';
import { Person, type PersonDoc, type PersonFields, type ResidentTag } from '../../../../models/person.js';
import { ProxyLink } from '../../../../models/proxyLink.js';
import { isAdmin } from '../../../auth/user.js';
import { cachedRead } from '../../../cache/readCache.js';
import { auditStaffAccess, auditStaffListing } from '../../../commands/audit.js';
import { isBoundToBot, issueBindingCode, unbindBotContacts } from '../../../commands/botBinding.js';
import { linkProxyByStaff } from '../../../commands/proxyLinks.js';
import { rejectResidentVerification, updateProfile, verifyResident } from '../../../commands/residents.js';
import { NotFoundError } from '../../../errors.js';
import { authorize, can } from '../../../policies/index.js';
import { presentPerson, presentResidentForStaff } from '../../../presenters/person.js';
import { presentProxyLink, withParties, type ProxyLinkWithParties } from '../../../presenters/proxyLink.js';
import type { ApiRouter } from '../../apiRouter.js';
import { PersonResponse } from '../common.js';
import type { RouteDeps } from '../deps.js';
import { ProxyLinkResponse } from '../proxyLinks/schema.js';
import { BindingCodeResponse, ListResidentsQuery, PersonParams, RejectVerificationBody, ResidentRecordResponse, StaffLinkBody, UpdateResidentBody } from './schema.js';

const tags = ['居民'];

/** The desk's search (工作人员后台): part of the name, or digits of the phone; the text is escaped, never a pattern. */
function searchFilter(text: string): QueryFilter<PersonFields> {
  const pattern = new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return /^\d{4,}$/.test(text) ? { phone: trusted({ $regex: pattern }) } : { name: trusted({ $regex: pattern }) };
}

async function findPerson(id: string): Promise<PersonDoc> {
  const person = Types.ObjectId.isValid(id) ? await Person.findById(id) : null;
  if (!person || person.status === 'anonymised') throw NotFoundError('没有找到这位居民');
  return person;
}

/** Residents' records as staff (their community) and proxies (their linked elders) use them. */
export function registerResidentRoutes(api: ApiRouter, deps: RouteDeps): void {
  const before = [deps.authenticate];

  api.route({
    method: 'get', path: '/residents', operationId: 'residents.list', summary: '居民列表（工作人员：本社区）', tags, before,
    schema: { query: ListResidentsQuery },
    responses: { 200: { description: 'A page of residents', schema: Joi.object({ items: Joi.array().items(PersonResponse), total: Joi.number() }) } },
    handler: async (ctx) => {
      const { user } = ctx.state;
      const q = ctx.state.input.query as { status?: 'pending' | 'active'; grid?: string; tag?: ResidentTag; q?: string; limit: number; offset: number };
      authorize(user, 'list', Person);
      const community = user.person.staffScope?.community;
      const filter: QueryFilter<PersonFields> = {
        status: q.status ?? trusted({ $ne: 'anonymised' as const }),
        ...(isAdmin(user) ? {} : { community }),
        ...(q.grid ? { grid: q.grid } : {}),
        ...(q.tag ? { tags: q.tag } : {}),
        ...(q.q ? searchFilter(q.q) : {}),
      };
      // A page and its total read once per change to any person (the read cache's generation):
      // FerretDB v1 sorts and counts in Go, decoding every matching person twice per view.
      const key = `residents:${isAdmin(user) ? 'all' : String(community)}:${JSON.stringify([q.status, q.grid, q.tag, q.q, q.offset, q.limit])}`;
      const { people, total } = await cachedRead(key, ['Person'], async () => {
        const [found, n] = await Promise.all([
          Person.find(filter).sort({ _id: 1 }).skip(q.offset).limit(q.limit).lean<PersonFields[]>(),
          Person.countDocuments(filter),
        ]);
        return { people: found, total: n };
      });
      await auditStaffListing(user, 'resident.list', { requestId: ctx.state.requestId });
      ctx.body = { items: people.map((p) => presentPerson(p, user)), total };
    },
  });

  api.route({
    method: 'get', path: '/residents/:personId', operationId: 'residents.get', summary: '查看居民资料', tags, before,
    schema: { params: PersonParams },
    responses: { 200: { description: 'The record, phone masked unless staff; `botBound` for staff over the person', schema: ResidentRecordResponse } },
    handler: async (ctx) => {
      const { user } = ctx.state;
      const person = await findPerson(ctx.state.input.params.personId as string);
      authorize(user, 'read', person);
      await auditStaffAccess(user, 'resident.read', person._id, { requestId: ctx.state.requestId });
      ctx.body = can(user, 'readBotBinding', person)
        ? presentResidentForStaff(person, user, await isBoundToBot(person))
        : presentPerson(person, user);
    },
  });

  api.route({
    method: 'patch', path: '/residents/:personId', operationId: 'residents.update', summary: '修改居民资料（代办人或工作人员）', tags, before,
    description: 'Tags (特困, 低保…) are set by staff only.',
    schema: { params: PersonParams, body: UpdateResidentBody },
    responses: { 200: { description: 'Updated', schema: PersonResponse } },
    handler: async (ctx) => {
      const { user } = ctx.state;
      const person = await findPerson(ctx.state.input.params.personId as string);
      authorize(user, 'update', person);
      if (ctx.state.input.body.tags) authorize(user, 'setTags', person);
      ctx.body = presentPerson(await updateProfile(user, person, ctx.state.input.body, ctx.state.requestId), user);
    },
  });

  api.route({
    method: 'post', path: '/residents/:personId/verify', operationId: 'residents.verify', summary: '认证居民（工作人员）', tags, before,
    schema: { params: PersonParams },
    responses: { 200: { description: 'Active', schema: PersonResponse }, 409: { description: 'already_verified or profile_incomplete' } },
    handler: async (ctx) => {
      const person = await findPerson(ctx.state.input.params.personId as string);
      // A pending person has no community until the profile is done: only then can staff
      // see it (isStaffOver in the Person policy is false without a community).
      authorize(ctx.state.user, 'verify', person);
      ctx.body = presentPerson(await verifyResident(ctx.state.user, person, ctx.state.requestId), ctx.state.user);
    },
  });

  api.route({
    method: 'post', path: '/residents/:personId/reject-verification', operationId: 'residents.rejectVerification', summary: '退回居民认证（工作人员，写明原因）', tags, before,
    description: 'The person stays pending and is told the reason; verifying later clears it.',
    schema: { params: PersonParams, body: RejectVerificationBody },
    responses: { 200: { description: 'Still pending, with the reason', schema: PersonResponse }, 409: { description: 'already_verified' } },
    handler: async (ctx) => {
      const person = await findPerson(ctx.state.input.params.personId as string);
      authorize(ctx.state.user, 'verify', person);
      ctx.body = presentPerson(await rejectResidentVerification(ctx.state.user, person, ctx.state.input.body.reason as string, ctx.state.requestId), ctx.state.user);
    },
  });

  api.route({
    method: 'post', path: '/residents/:personId/binding-code', operationId: 'residents.bindingCode', summary: '为居民生成聊天机器人绑定码', tags,
    before: [...before, deps.limit('binding')],
    schema: { params: PersonParams },
    responses: { 201: { description: 'A one-time code', schema: BindingCodeResponse } },
    handler: async (ctx) => {
      const person = await findPerson(ctx.state.input.params.personId as string);
      authorize(ctx.state.user, 'issueBindingCode', person);
      await auditStaffAccess(ctx.state.user, 'botBinding.issueCode', person._id, { requestId: ctx.state.requestId });
      ctx.status = 201;
      ctx.body = await issueBindingCode(deps.redis, person, deps.binding);
    },
  });

  api.route({
    method: 'delete', path: '/residents/:personId/bot-binding', operationId: 'residents.unbindBot', summary: '解除居民的聊天机器人绑定', tags, before,
    schema: { params: PersonParams },
    responses: { 200: { description: 'How many contacts were unbound', schema: Joi.object({ unbound: Joi.number() }) } },
    handler: async (ctx) => {
      const person = await findPerson(ctx.state.input.params.personId as string);
      authorize(ctx.state.user, 'unbindBot', person);
      ctx.body = { unbound: await unbindBotContacts(ctx.state.user.id, person) };
    },
  });

  api.route({
    method: 'get', path: '/residents/:personId/proxy-links', operationId: 'residents.proxyLinks', summary: '老人的代办关联（工作人员）', tags, before,
    description: 'Every link where the person is the elder or the proxy, pending, active and revoked, newest first (at most 50).',
    schema: { params: PersonParams },
    responses: { 200: { description: 'Links with both parties (phones masked)', schema: Joi.object({ items: Joi.array().items(ProxyLinkResponse) }) } },
    handler: async (ctx) => {
      const person = await findPerson(ctx.state.input.params.personId as string);
      authorize(ctx.state.user, 'listProxyLinks', person);
      await auditStaffAccess(ctx.state.user, 'proxyLink.list', person._id, { requestId: ctx.state.requestId });
      // Two equality reads (the store pushes equality down, not $or), merged newest first.
      const parties = ['proxy', 'elder'];
      const [asElder, asProxy] = await Promise.all([
        ProxyLink.find({ elder: person._id }).sort({ _id: -1 }).limit(50).populate<{ proxy: PersonFields; elder: PersonFields }>(parties),
        ProxyLink.find({ proxy: person._id }).sort({ _id: -1 }).limit(50).populate<{ proxy: PersonFields; elder: PersonFields }>(parties),
      ]);
      const links = [...asElder, ...asProxy].sort((a, b) => String(b._id).localeCompare(String(a._id))).slice(0, 50);
      ctx.body = { items: links.map((l) => presentProxyLink(l as unknown as ProxyLinkWithParties)) };
    },
  });

  api.route({
    method: 'post', path: '/residents/:personId/proxy-links', operationId: 'residents.linkProxy', summary: '工作人员为老人关联代办人', tags, before,
    schema: { params: PersonParams, body: StaffLinkBody },
    responses: { 201: { description: 'An active link', schema: ProxyLinkResponse } },
    handler: async (ctx) => {
      const elder = await findPerson(ctx.state.input.params.personId as string);
      authorize(ctx.state.user, 'linkProxy', elder);
      const { proxyId, relation } = ctx.state.input.body as { proxyId: string; relation: never };
      const link = await linkProxyByStaff(ctx.state.user, proxyId, elder, relation);
      ctx.status = 201;
      ctx.body = presentProxyLink(await withParties(link!));
    },
  });
}
