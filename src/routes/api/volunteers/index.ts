import Joi from 'joi';
import { Community } from '../../../../models/community.js';
import { VolunteerAbsence } from '../../../../models/volunteerAbsence.js';
import { Person } from '../../../../models/person.js';
import { ProxyLink } from '../../../../models/proxyLink.js';
import { BookingRuleError, NotFoundError } from '../../../errors.js';
import { isAdmin } from '../../../auth/user.js';
import { adjustTimeBank, redeemTimeBank, timeBankStatement } from '../../../commands/timeBank.js';
import { renderServiceRecordHtml, serviceRecord, volunteerFigures } from '../../../commands/volunteerRecord.js';
import {
  excuseAbsence, findAbsence, findPersonById, listVolunteers, minutesToHours, registerVolunteer, reinstateVolunteer, suspendVolunteer,
  updateVolunteerProfile, verifyVolunteer, type VolunteerProfileInput,
} from '../../../commands/volunteers.js';
import { auditStaffAccess, auditStaffListing } from '../../../commands/audit.js';
import { idempotent } from '../../../middlewares/idempotency.js';
import { authorize } from '../../../policies/index.js';
import { presentAbsence, presentLedgerEntry, presentVolunteer } from '../../../presenters/volunteer.js';
import type { ApiRouter } from '../../apiRouter.js';
import type { RouteDeps } from '../deps.js';
import {
  AbsenceParams, AbsenceResponse, AdjustBody, ExcuseBody, LedgerEntryResponse, LedgerQuery, ListVolunteersQuery, PersonParams, RecordResponse,
  REDEEM_SERVICES, RedeemBody, RegisterVolunteerBody, SuspendBody, TimeBankResponse, UpdateVolunteerBody, VolunteerResponse,
} from './schema.js';
import { registerVolunteerTaskRoutes } from './tasks.js';

const tags = ['志愿者'];

/** Volunteers: registration and verification, their record, absences and the time bank; then the task routes. */
export function registerVolunteerRoutes(api: ApiRouter, deps: RouteDeps): void {
  const before = [deps.authenticate];
  const settings = deps.config.volunteers;

  api.route({
    method: 'post', path: '/volunteers/register', operationId: 'volunteers.register', summary: '注册成为志愿者', tags, before,
    description: 'Skills, availability (weekly windows), an optional photo URL. Staff then verify the volunteer.',
    schema: { body: RegisterVolunteerBody },
    responses: { 201: { description: 'Registered, waiting for verification', schema: VolunteerResponse }, 409: { description: 'already_registered, profile_incomplete' } },
    handler: async (ctx) => {
      const { user } = ctx.state;
      const person = await registerVolunteer(user.person, ctx.state.input.body as VolunteerProfileInput);
      ctx.status = 201;
      ctx.body = presentVolunteer(person, user);
    },
  });

  api.route({
    method: 'get', path: '/volunteers/me', operationId: 'volunteers.me', summary: '我的志愿者资料、时长、积分和星级', tags, before,
    responses: { 200: { description: 'My volunteer profile with totals', schema: VolunteerResponse }, 404: { description: 'Not registered' } },
    handler: async (ctx) => {
      const { user } = ctx.state;
      if (!user.person.roles.includes('volunteer')) throw NotFoundError('您还没有注册志愿者，请先注册');
      ctx.body = presentVolunteer(user.person, user, await volunteerFigures(user.person, settings));
    },
  });

  api.route({
    method: 'patch', path: '/volunteers/me', operationId: 'volunteers.updateMe', summary: '修改我的技能、服务时间和照片', tags, before,
    schema: { body: UpdateVolunteerBody },
    responses: { 200: { description: 'Updated', schema: VolunteerResponse }, 409: { description: 'not_a_volunteer' } },
    handler: async (ctx) => {
      const { user } = ctx.state;
      ctx.body = presentVolunteer(await updateVolunteerProfile(user.person, ctx.state.input.body as VolunteerProfileInput), user);
    },
  });

  api.route({
    method: 'get', path: '/volunteers', operationId: 'volunteers.list', summary: '志愿者列表（工作人员：本社区）', tags, before,
    schema: { query: ListVolunteersQuery },
    responses: { 200: { description: 'A page of volunteers', schema: Joi.object({ items: Joi.array().items(VolunteerResponse), total: Joi.number() }) } },
    handler: async (ctx) => {
      const { user } = ctx.state;
      authorize(user, 'listVolunteers', Person);
      const q = ctx.state.input.query as { state?: 'pending' | 'verified' | 'suspended'; limit: number; offset: number };
      const community = isAdmin(user) ? undefined : user.person.staffScope!.community!;
      const { items, total } = await listVolunteers(community, q.state, q.limit, q.offset);
      await auditStaffListing(user, 'volunteer.list', { requestId: ctx.state.requestId });
      ctx.body = { items: items.map((p) => presentVolunteer(p, user)), total };
    },
  });

  api.route({
    method: 'get', path: '/volunteers/:personId', operationId: 'volunteers.get', summary: '查看志愿者资料、时长和星级', tags, before,
    schema: { params: PersonParams },
    responses: { 200: { description: 'Profile with totals', schema: VolunteerResponse } },
    handler: async (ctx) => {
      const person = await findPersonById(ctx.state.input.params.personId as string);
      authorize(ctx.state.user, 'readVolunteer', person);
      await auditStaffAccess(ctx.state.user, 'volunteer.read', person._id, { requestId: ctx.state.requestId });
      ctx.body = presentVolunteer(person, ctx.state.user, await volunteerFigures(person, settings));
    },
  });

  api.route({
    method: 'post', path: '/volunteers/:personId/verify', operationId: 'volunteers.verify', summary: '认证志愿者（工作人员）', tags, before,
    schema: { params: PersonParams },
    responses: { 200: { description: 'Verified; may claim tasks', schema: VolunteerResponse }, 409: { description: 'not_a_volunteer, already_verified, resident_not_verified' } },
    handler: async (ctx) => {
      const person = await findPersonById(ctx.state.input.params.personId as string);
      authorize(ctx.state.user, 'manageVolunteer', person);
      ctx.body = presentVolunteer(await verifyVolunteer(ctx.state.user, person, new Date(), ctx.state.requestId), ctx.state.user);
    },
  });

  api.route({
    method: 'post', path: '/volunteers/:personId/suspend', operationId: 'volunteers.suspend', summary: '暂停志愿者资格（工作人员）', tags, before,
    description: 'Until a date, or (without `until`) until staff reinstate. The volunteer is told the reason.',
    schema: { params: PersonParams, body: SuspendBody },
    responses: { 200: { description: 'Suspended', schema: VolunteerResponse }, 409: { description: 'not_a_volunteer' } },
    handler: async (ctx) => {
      const person = await findPersonById(ctx.state.input.params.personId as string);
      authorize(ctx.state.user, 'manageVolunteer', person);
      const { reason, until } = ctx.state.input.body as { reason: string; until?: Date };
      ctx.body = presentVolunteer(await suspendVolunteer(person, reason, until, ctx.state.user, new Date(), ctx.state.requestId), ctx.state.user);
    },
  });

  api.route({
    method: 'post', path: '/volunteers/:personId/reinstate', operationId: 'volunteers.reinstate', summary: '恢复志愿者资格（工作人员）', tags, before,
    schema: { params: PersonParams },
    responses: { 200: { description: 'Reinstated', schema: VolunteerResponse }, 409: { description: 'not_suspended' } },
    handler: async (ctx) => {
      const person = await findPersonById(ctx.state.input.params.personId as string);
      authorize(ctx.state.user, 'manageVolunteer', person);
      ctx.body = presentVolunteer(await reinstateVolunteer(ctx.state.user, person, ctx.state.requestId), ctx.state.user);
    },
  });

  api.route({
    method: 'get', path: '/volunteers/:personId/absences', operationId: 'volunteers.absences', summary: '缺勤记录', tags, before,
    description: `${settings.absenceLimit} unexcused absences in a calendar year suspend the volunteer.`,
    schema: { params: PersonParams },
    responses: { 200: { description: 'Newest first', schema: Joi.object({ items: Joi.array().items(AbsenceResponse) }) } },
    handler: async (ctx) => {
      const person = await findPersonById(ctx.state.input.params.personId as string);
      authorize(ctx.state.user, 'readVolunteer', person);
      const items = await VolunteerAbsence.find({ volunteer: person._id }).sort({ at: -1 }).limit(200);
      ctx.body = { items: items.map(presentAbsence) };
    },
  });

  api.route({
    method: 'post', path: '/volunteer-absences/:absenceId/excuse', operationId: 'volunteerAbsences.excuse', summary: '认定为有故缺勤（工作人员）', tags, before,
    description: 'The absence stays on record but no longer counts towards suspension.',
    schema: { params: AbsenceParams, body: ExcuseBody },
    responses: { 200: { description: 'Excused', schema: AbsenceResponse }, 409: { description: 'already_excused' } },
    handler: async (ctx) => {
      const absence = await findAbsence(ctx.state.input.params.absenceId as string);
      authorize(ctx.state.user, 'excuse', absence);
      ctx.body = presentAbsence(await excuseAbsence(ctx.state.user, absence, ctx.state.input.body.reason as string));
    },
  });

  api.route({
    method: 'get', path: '/volunteers/:personId/time-bank', operationId: 'volunteers.timeBank', summary: '时间银行余额和明细', tags, before,
    schema: { params: PersonParams, query: LedgerQuery },
    responses: { 200: { description: 'Balance and entries, newest first', schema: TimeBankResponse } },
    handler: async (ctx) => {
      const person = await findPersonById(ctx.state.input.params.personId as string);
      authorize(ctx.state.user, 'readVolunteer', person);
      const { balanceMinutes, entries } = await timeBankStatement(person._id, ctx.state.input.query.limit as number);
      ctx.body = { balanceHours: minutesToHours(balanceMinutes), entries: entries.map(presentLedgerEntry) };
    },
  });

  api.route({
    claims: true,
    method: 'post', path: '/volunteers/:personId/time-bank/redeem', operationId: 'volunteers.redeem', summary: '兑换时间银行时长（本人或家人享受服务）', tags,
    description: 'forPerson: a family member the volunteer acts for (代办 link); default the volunteer. Refused beyond the balance (409 insufficient_balance), however many redeem at once.',
    before: [...before, idempotent(deps.redis)],
    schema: { params: PersonParams, body: RedeemBody },
    responses: { 201: { description: 'The new ledger entry', schema: LedgerEntryResponse }, 409: { description: 'insufficient_balance, time_bank_busy' } },
    handler: async (ctx) => {
      const { user } = ctx.state;
      const person = await findPersonById(ctx.state.input.params.personId as string);
      authorize(user, 'redeemTimeBank', person);
      const body = ctx.state.input.body as { hours: number; service: keyof typeof REDEEM_SERVICES; forPerson?: string; note?: string };
      // For the volunteer, or for a family member the volunteer acts for (an active 代办 link).
      let forPerson = person._id;
      if (body.forPerson && body.forPerson !== String(person._id)) {
        const link = await ProxyLink.findOne({ proxy: person._id, elder: body.forPerson, status: 'active' });
        if (!link) throw BookingRuleError(403, 'not_family', '时间银行只能为本人或已建立代办关系的家人兑换服务');
        forPerson = link.elder;
      }
      const entry = await redeemTimeBank(person._id, {
        minutes: Math.round(body.hours * 60), service: REDEEM_SERVICES[body.service], beneficiary: forPerson, note: body.note,
      }, user.person._id);
      ctx.status = 201;
      ctx.body = presentLedgerEntry(entry);
    },
  });

  api.route({
    claims: true,
    method: 'post', path: '/volunteers/:personId/time-bank/adjust', operationId: 'volunteers.adjustTimeBank', summary: '调整时间银行时长（工作人员，需填写原因）', tags,
    before: [...before, idempotent(deps.redis)],
    schema: { params: PersonParams, body: AdjustBody },
    responses: { 201: { description: 'The new ledger entry', schema: LedgerEntryResponse }, 409: { description: 'insufficient_balance (would go below zero)' } },
    handler: async (ctx) => {
      const person = await findPersonById(ctx.state.input.params.personId as string);
      authorize(ctx.state.user, 'adjustTimeBank', person);
      const { hours, reason } = ctx.state.input.body as { hours: number; reason: string };
      const entry = await adjustTimeBank(person._id, Math.round(hours * 60), reason, ctx.state.user.person._id);
      await auditStaffAccess(ctx.state.user, 'volunteer.timeBank.adjust', person._id, { requestId: ctx.state.requestId });
      ctx.status = 201;
      ctx.body = presentLedgerEntry(entry);
    },
  });

  api.route({
    method: 'get', path: '/volunteers/:personId/record', operationId: 'volunteers.record', summary: '志愿服务记录（JSON）', tags, before,
    schema: { params: PersonParams },
    responses: { 200: { description: 'Tasks served, hours, points, stars', schema: RecordResponse } },
    handler: async (ctx) => {
      const person = await findPersonById(ctx.state.input.params.personId as string);
      authorize(ctx.state.user, 'readVolunteer', person);
      ctx.body = await serviceRecord(person, settings);
    },
  });

  api.route({
    method: 'get', path: '/volunteers/:personId/record/print', operationId: 'volunteers.recordPrint', summary: '志愿服务记录（可打印页面）', tags, before,
    schema: { params: PersonParams },
    responses: { 200: { description: 'An A4 page in Chinese with print styles', schema: Joi.string(), contentType: 'text/html' } },
    handler: async (ctx) => {
      const person = await findPersonById(ctx.state.input.params.personId as string);
      authorize(ctx.state.user, 'readVolunteer', person);
      const community = person.community ? await Community.findById(person.community).select('name').lean() : null;
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = renderServiceRecordHtml(await serviceRecord(person, settings), community?.name ?? '');
    },
  });

  registerVolunteerTaskRoutes(api, deps);
}
