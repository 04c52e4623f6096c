import Joi from 'joi';
import { trusted, Types } from 'mongoose';
import { Person } from '../../../../models/person.js';
import { VolunteerAssignment, type VolunteerAssignmentStatus } from '../../../../models/volunteerAssignment.js';
import { VolunteerTask, type VolunteerTaskType } from '../../../../models/volunteerTask.js';
import { shanghaiDay } from '../../../../models/calendar.js';
import { isAdmin } from '../../../auth/user.js';
import { cachedRead } from '../../../cache/readCache.js';
import {
  approveHours, cancelVolunteerTask, checkInAssignment, checkOutAssignment, claimVolunteerTask, declineHours, findAssignment,
  releaseAssignment, unassignVolunteer,
} from '../../../commands/volunteerAssignments.js';
import {
  createMonthlyVisitTasks, createVolunteerTask, findVolunteerTask, listVolunteerTasks, updateVolunteerTask,
} from '../../../commands/volunteerTasks.js';
import { findPersonById } from '../../../commands/volunteers.js';
import { listMyAssignments, myAssignmentsOnTasks } from '../../../commands/volunteerAssignmentList.js';
import type { OwnListPage } from '../../../commands/monthWalk.js';
import { nextPage } from '../common.js';
import { taskSummaries } from '../../../commands/volunteerTaskSummaries.js';
import { auditStaffAccess } from '../../../commands/audit.js';
import { BookingRuleError } from '../../../errors.js';
import { idempotent } from '../../../middlewares/idempotency.js';
import { authorize, can } from '../../../policies/index.js';
import { presentAssignment, presentTask } from '../../../presenters/volunteer.js';
import type { ApiRouter } from '../../apiRouter.js';
import type { RouteDeps } from '../deps.js';
import {
  ApproveBody, AssignBody, AssignmentParams, AssignmentResponse, AssignmentsQuery, CancelTaskBody, CreateTaskBody, DeclineBody,
  ListTasksQuery, MonthlyVisitsBody, MyAssignmentsQuery, ReleaseResponse, SiteCodeBody, StaffAssignmentsQuery, TaskParams, TaskResponse, UnassignBody,
  UpdateTaskBody,
} from './schema.js';

const tags = ['志愿服务'];
const rules = {
  400: { description: 'A rule refused it (task_in_past, task_too_long, site_code_invalid, hours_above_attended…)' },
  403: { description: 'forbidden, not_a_volunteer, volunteer_not_verified, volunteer_suspended, skills_missing, other_community' },
  409: { description: 'task_full, task_overlap, already_claimed, task_started, task_closed, check_in_not_open, attendance_too_short, invalid_transition, assignment_changed' },
};

/** The tasks of a page of assignments: cached `_id` reads (FerretDB v1 decoded every task for `$in`). */
const tasksOf = taskSummaries;

/** Names of a community's people, read once per change to any person (the read cache). */
async function namesOf(communities: string[]): Promise<Map<string, string | null>> {
  const lists = await Promise.all([...new Set(communities)].map((community) =>
    cachedRead(`person-names:${community}`, ['Person'], () => Person.find({ community }).select('name').lean())));
  return new Map(lists.flat().map((p) => [String(p._id), p.name ?? null]));
}

/** Tasks (staff and other services create them) and the volunteers on them. */
export function registerVolunteerTaskRoutes(api: ApiRouter, deps: RouteDeps): void {
  const before = [deps.authenticate];
  const settings = deps.config.volunteers;

  api.route({
    method: 'post', path: '/volunteer-tasks', operationId: 'volunteerTasks.create', summary: '发布志愿任务（工作人员）', tags,
    before: [...before, idempotent(deps.redis)],
    schema: { body: CreateTaskBody },
    responses: { 201: { description: 'Created, open for claims', schema: TaskResponse }, ...rules },
    handler: async (ctx) => {
      const { user } = ctx.state;
      authorize(user, 'create', VolunteerTask);
      const body = ctx.state.input.body as {
        facilityId?: string; type: VolunteerTaskType; title: string; description?: string; place: string; start: Date; end: Date;
        peopleNeeded: number; skillsRequired?: string[];
      };
      const community = user.person.staffScope?.community ?? user.person.community;
      if (!community) throw BookingRuleError(400, 'community_required', '您的账号没有所属社区，无法发布任务');
      const probe = new VolunteerTask({ community, facility: body.facilityId });
      authorize(user, 'manage', probe);
      const { facilityId, ...rest } = body;
      const { task } = await createVolunteerTask({ ...rest, community, facility: facilityId, createdBy: user.person._id, source: 'staff' });
      ctx.status = 201;
      ctx.body = presentTask(task, user);
    },
  });

  api.route({
    method: 'get', path: '/volunteer-tasks', operationId: 'volunteerTasks.list', summary: '志愿任务列表', tags, before,
    description: 'Volunteers and residents: their community\'s tasks, by default open ones from now on, with their own assignment. Staff: their community\'s, any status.',
    schema: { query: ListTasksQuery },
    responses: { 200: { description: 'By start time', schema: Joi.object({ items: Joi.array().items(TaskResponse), total: Joi.number() }) } },
    handler: async (ctx) => {
      const { user } = ctx.state;
      const q = ctx.state.input.query as { status?: string; type?: VolunteerTaskType; facility?: string; from?: Date; to?: Date; limit: number; offset: number };
      const asStaff = can(user, 'listAsStaff', VolunteerTask);
      const community = asStaff ? (isAdmin(user) ? undefined : user.person.staffScope!.community!) : user.person.community;
      if (!asStaff && !community) {
        ctx.body = { items: [], total: 0 };
        return;
      }
      const { items, total } = await listVolunteerTasks({
        ...q,
        community: community ?? undefined,
        ...(asStaff ? {} : { status: q.status ?? 'open', from: q.from ?? new Date() }),
      });
      const byTask = await myAssignmentsOnTasks(user.person._id, items);
      ctx.body = { items: items.map((t) => presentTask(t, user, byTask.get(String(t._id)) ?? null)), total };
    },
  });

  api.route({
    method: 'get', path: '/volunteer-tasks/:taskId', operationId: 'volunteerTasks.get', summary: '查看志愿任务', tags, before,
    schema: { params: TaskParams },
    responses: { 200: { description: 'The task (the on-site code for its staff only)', schema: TaskResponse } },
    handler: async (ctx) => {
      const task = await findVolunteerTask(ctx.state.input.params.taskId as string);
      authorize(ctx.state.user, 'read', task);
      const mine = await VolunteerAssignment.findOne({ volunteer: ctx.state.user.person._id, task: task._id }).sort({ createdAt: -1 });
      ctx.body = presentTask(task, ctx.state.user, mine);
    },
  });

  api.route({
    method: 'patch', path: '/volunteer-tasks/:taskId', operationId: 'volunteerTasks.update', summary: '修改志愿任务（工作人员）', tags, before,
    description: 'Title, description, place, people needed (not below the places already taken), skills. The time is fixed: cancel and create another.',
    schema: { params: TaskParams, body: UpdateTaskBody },
    responses: { 200: { description: 'Updated', schema: TaskResponse }, ...rules },
    handler: async (ctx) => {
      const task = await findVolunteerTask(ctx.state.input.params.taskId as string);
      authorize(ctx.state.user, 'manage', task);
      ctx.body = presentTask(await updateVolunteerTask(task, ctx.state.input.body), ctx.state.user);
    },
  });

  api.route({
    claims: true,
    method: 'post', path: '/volunteer-tasks/:taskId/cancel', operationId: 'volunteerTasks.cancel', summary: '取消志愿任务（工作人员）', tags, before,
    description: 'Every volunteer on it is taken off (no absence) and told the reason.',
    schema: { params: TaskParams, body: CancelTaskBody },
    responses: { 200: { description: 'Cancelled', schema: TaskResponse }, ...rules },
    handler: async (ctx) => {
      const task = await findVolunteerTask(ctx.state.input.params.taskId as string);
      authorize(ctx.state.user, 'manage', task);
      ctx.body = presentTask(await cancelVolunteerTask(task, ctx.state.user, ctx.state.input.body.reason as string), ctx.state.user);
    },
  });

  api.route({
    claims: true,
    method: 'post', path: '/volunteer-tasks/:taskId/claim', operationId: 'volunteerTasks.claim', summary: '认领志愿任务', tags,
    description: 'Succeeds only while places remain, for a verified, unsuspended volunteer of the community with the skills required and no overlapping task. Send an Idempotency-Key so a retry claims once.',
    before: [...before, deps.limit('booking'), idempotent(deps.redis)],
    schema: { params: TaskParams },
    responses: { 201: { description: 'Claimed', schema: AssignmentResponse }, ...rules },
    handler: async (ctx) => {
      const { user } = ctx.state;
      const task = await findVolunteerTask(ctx.state.input.params.taskId as string);
      authorize(user, 'read', task);
      if (!can(user, 'claim', task)) throw BookingRuleError(403, 'not_a_volunteer', '您还不是志愿者，请先在小程序中注册志愿者');
      const assignment = await claimVolunteerTask(task, user.person, user);
      ctx.status = 201;
      ctx.body = presentAssignment(assignment, task);
    },
  });

  api.route({
    claims: true,
    method: 'post', path: '/volunteer-tasks/:taskId/assignments', operationId: 'volunteerTasks.assign', summary: '指派志愿者（工作人员）', tags,
    description: 'The same rules as a claim (places, skills, no overlapping task, verified volunteer); the volunteer is told.',
    before: [...before, idempotent(deps.redis)],
    schema: { params: TaskParams, body: AssignBody },
    responses: { 201: { description: 'Assigned', schema: AssignmentResponse }, ...rules },
    handler: async (ctx) => {
      const { user } = ctx.state;
      const task = await findVolunteerTask(ctx.state.input.params.taskId as string);
      authorize(user, 'assign', task);
      const volunteer = await findPersonById(ctx.state.input.body.volunteerId as string);
      const assignment = await claimVolunteerTask(task, volunteer, user);
      ctx.status = 201;
      ctx.body = presentAssignment(assignment, task);
    },
  });

  api.route({
    method: 'get', path: '/volunteer-tasks/:taskId/assignments', operationId: 'volunteerTasks.roster', summary: '任务的志愿者名单（工作人员）', tags, before,
    schema: { params: TaskParams, query: AssignmentsQuery },
    responses: { 200: { description: 'Everyone who was on the task, with their status and name', schema: Joi.object({ items: Joi.array().items(AssignmentResponse.keys({ volunteerName: Joi.string().allow(null) }).meta({ className: 'RosterVolunteerAssignment' })) }) } },
    handler: async (ctx) => {
      const task = await findVolunteerTask(ctx.state.input.params.taskId as string);
      authorize(ctx.state.user, 'manage', task);
      const q = ctx.state.input.query as { status?: string; limit: number; offset: number };
      const filter: Record<string, unknown> = { task: task._id, ...(q.status ? { status: q.status } : {}) };
      const items = await VolunteerAssignment.find(filter)
        .sort({ createdAt: 1 }).skip(q.offset).limit(q.limit);
      // Names next to ids, for the console's roster and delivery-run pages.
      const ids = [...new Set(items.map((a) => String(a.volunteer)))].map((id) => new Types.ObjectId(id));
      const names = new Map((ids.length ? await Person.find({ _id: trusted({ $in: ids }) }) : []).map((p) => [String(p._id), p.name ?? null]));
      ctx.body = { items: items.map((a) => ({ ...presentAssignment(a, task), volunteerName: names.get(String(a.volunteer)) ?? null })) };
    },
  });

  api.route({
    method: 'post', path: '/volunteer-tasks/monthly-visits', operationId: 'volunteerTasks.monthlyVisits', summary: '生成本月特困/独居老人探访任务（管理员）', tags, before,
    description: 'What the monthly job does, on demand: one visit task per elder tagged 特困 or 独居 and month, created once however often it runs.',
    schema: { body: MonthlyVisitsBody },
    responses: { 200: { description: 'Counts', schema: Joi.object({ created: Joi.number(), existing: Joi.number(), remaining: Joi.number() }) } },
    handler: async (ctx) => {
      authorize(ctx.state.user, 'generateVisits', VolunteerTask);
      const now = new Date();
      const day = (ctx.state.input.body.date as string | undefined) ?? shanghaiDay(now);
      ctx.body = await createMonthlyVisitTasks(day.slice(0, 7), now, 500);
    },
  });

  api.route({
    method: 'get', path: '/volunteer-assignments/mine', operationId: 'volunteerAssignments.mine', summary: '我认领的志愿任务', tags, before,
    description: 'By default the tasks from today on, soonest first; `when=past`: the earlier ones, newest first. `next` gives the following page (`after`).',
    schema: { query: MyAssignmentsQuery },
    responses: { 200: { description: 'One page', schema: Joi.object({ items: Joi.array().items(AssignmentResponse), next: nextPage }) } },
    handler: async (ctx) => {
      const q = ctx.state.input.query as OwnListPage & { status?: VolunteerAssignmentStatus };
      const { items, next } = await listMyAssignments(ctx.state.user.person._id, q);
      const tasks = await tasksOf(items.map((a) => a.task));
      ctx.body = { items: items.map((a) => presentAssignment(a, tasks.get(String(a.task)))), next };
    },
  });

  api.route({
    method: 'get', path: '/volunteer-assignments', operationId: 'volunteerAssignments.list', summary: '志愿服务记录（工作人员：审核时长等）', tags, before,
    description: 'Staff: their community\'s assignments, e.g. status=checked_out for hours waiting for review. '
      + 'With `volunteer`: that volunteer\'s (staff of the volunteer\'s community; the read is audited), newest first.',
    schema: { query: StaffAssignmentsQuery },
    responses: { 200: { description: 'Oldest first (by end), or newest first (by start) for one volunteer, with the volunteer\'s name', schema: Joi.object({ items: Joi.array().items(AssignmentResponse.keys({ volunteerName: Joi.string().allow(null) }).meta({ className: 'StaffVolunteerAssignment' })) }) } },
    handler: async (ctx) => {
      const { user } = ctx.state;
      authorize(user, 'listAsStaff', VolunteerTask);
      const q = ctx.state.input.query as { status?: string; volunteer?: string; limit: number; offset: number };
      const filter: Record<string, unknown> = q.status ? { status: q.status } : {};
      if (!isAdmin(user)) filter.community = user.person.staffScope!.community;
      if (q.volunteer) {
        // One volunteer seen from their side: staff of the volunteer's community (403 otherwise), audited.
        const person = await findPersonById(q.volunteer);
        authorize(user, 'readVolunteer', person);
        await auditStaffAccess(user, 'volunteer.assignments', person._id, { requestId: ctx.state.requestId });
        filter.volunteer = person._id;
      }
      // A page read once per change to any assignment (the read cache's generation): FerretDB v1
      // sorts in Go after decoding every assignment the filter's equalities match (without a
      // status: the community's whole history).
      const key = `volunteer-assignments:${String(filter.community ?? 'all')}:${JSON.stringify([q.status, q.volunteer, q.offset, q.limit])}`;
      const page = await cachedRead(key, ['VolunteerAssignment'], () =>
        VolunteerAssignment.find(filter).sort(q.volunteer ? { start: -1 } : { end: 1 }).skip(q.offset).limit(q.limit).lean());
      const items = page.map((a) => VolunteerAssignment.hydrate(a)).filter((a) => can(user, 'review', a));
      const tasks = await tasksOf(items.map((a) => a.task));
      // Names next to ids, for the staff console's review list and its export.
      const names = await namesOf(items.map((a) => String(a.community)));
      // A volunteer from elsewhere (or one added since the names were read): by `_id`.
      const missing = [...new Set(items.map((a) => String(a.volunteer)).filter((id) => !names.has(id)))];
      for (const p of await Promise.all(missing.map((id) => Person.findById(id).select('name').lean()))) if (p) names.set(String(p._id), p.name ?? null);
      ctx.body = { items: items.map((a) => ({ ...presentAssignment(a, tasks.get(String(a.task))), volunteerName: names.get(String(a.volunteer)) ?? null })) };
    },
  });

  api.route({
    method: 'get', path: '/volunteer-assignments/:assignmentId', operationId: 'volunteerAssignments.get', summary: '查看一条志愿服务', tags, before,
    schema: { params: AssignmentParams },
    responses: { 200: { description: 'The assignment', schema: AssignmentResponse } },
    handler: async (ctx) => {
      const a = await findAssignment(ctx.state.input.params.assignmentId as string);
      authorize(ctx.state.user, 'read', a);
      ctx.body = presentAssignment(a, (await tasksOf([a.task])).get(String(a.task)));
    },
  });

  api.route({
    claims: true,
    method: 'post', path: '/volunteer-assignments/:assignmentId/release', operationId: 'volunteerAssignments.release', summary: '退出已认领的任务', tags, before,
    description: `Free until ${settings.releaseCutoffHours} hours before the start; later it counts as an absence (the answer says so).`,
    schema: { params: AssignmentParams },
    responses: { 200: { description: 'Released', schema: ReleaseResponse }, ...rules },
    handler: async (ctx) => {
      const a = await findAssignment(ctx.state.input.params.assignmentId as string);
      authorize(ctx.state.user, 'release', a);
      const result = await releaseAssignment(a, ctx.state.user, settings);
      ctx.body = { assignment: presentAssignment(result.assignment), late: result.late, suspended: result.suspended };
    },
  });

  api.route({
    claims: true,
    method: 'post', path: '/volunteer-assignments/:assignmentId/unassign', operationId: 'volunteerAssignments.unassign', summary: '取消指派（工作人员）', tags, before,
    schema: { params: AssignmentParams, body: UnassignBody },
    responses: { 200: { description: 'Taken off the task; the volunteer is told', schema: AssignmentResponse }, ...rules },
    handler: async (ctx) => {
      const a = await findAssignment(ctx.state.input.params.assignmentId as string);
      authorize(ctx.state.user, 'unassign', a);
      ctx.body = presentAssignment(await unassignVolunteer(a, ctx.state.user, ctx.state.input.body.reason as string));
    },
  });

  api.route({
    claims: true,
    method: 'post', path: '/volunteer-assignments/:assignmentId/check-in', operationId: 'volunteerAssignments.checkIn', summary: '签到（输入现场签到码）', tags, before,
    description: `Opens ${settings.checkInOpensMinutes} minutes before the start, until the end.`,
    schema: { params: AssignmentParams, body: SiteCodeBody },
    responses: { 200: { description: 'Checked in', schema: AssignmentResponse }, ...rules },
    handler: async (ctx) => {
      const a = await findAssignment(ctx.state.input.params.assignmentId as string);
      authorize(ctx.state.user, 'checkIn', a);
      const task = await findVolunteerTask(String(a.task));
      ctx.body = presentAssignment(await checkInAssignment(a, task, ctx.state.input.body.code as string, ctx.state.user, settings), task);
    },
  });

  api.route({
    claims: true,
    method: 'post', path: '/volunteer-assignments/:assignmentId/check-out', operationId: 'volunteerAssignments.checkOut', summary: '签退', tags, before,
    description: `Attended time = overlap of presence with the task; hours count only at ${settings.minAttendancePercent} % of the planned time or more.`,
    schema: { params: AssignmentParams },
    responses: { 200: { description: 'Checked out; attendedHours and hoursEligible set', schema: AssignmentResponse }, ...rules },
    handler: async (ctx) => {
      const a = await findAssignment(ctx.state.input.params.assignmentId as string);
      authorize(ctx.state.user, 'checkOut', a);
      ctx.body = presentAssignment(await checkOutAssignment(a, ctx.state.user.person._id, settings), (await tasksOf([a.task])).get(String(a.task)));
    },
  });

  api.route({
    claims: true,
    method: 'post', path: '/volunteer-assignments/:assignmentId/approve', operationId: 'volunteerAssignments.approve', summary: '确认服务时长（工作人员）', tags, before,
    description: 'Credits the attended hours (or fewer, `hours`), the points, and the time bank.',
    schema: { params: AssignmentParams, body: ApproveBody },
    responses: { 200: { description: 'Approved', schema: AssignmentResponse }, ...rules },
    handler: async (ctx) => {
      const a = await findAssignment(ctx.state.input.params.assignmentId as string);
      authorize(ctx.state.user, 'review', a);
      const hours = ctx.state.input.body.hours as number | undefined;
      ctx.body = presentAssignment(await approveHours(a, ctx.state.user, hours === undefined ? undefined : Math.round(hours * 60), settings));
    },
  });

  api.route({
    claims: true,
    method: 'post', path: '/volunteer-assignments/:assignmentId/decline', operationId: 'volunteerAssignments.decline', summary: '不认定服务时长（工作人员，需填写原因）', tags, before,
    description: 'The entry stays on the record with the reason; the volunteer is told.',
    schema: { params: AssignmentParams, body: DeclineBody },
    responses: { 200: { description: 'Declined', schema: AssignmentResponse }, ...rules },
    handler: async (ctx) => {
      const a = await findAssignment(ctx.state.input.params.assignmentId as string);
      authorize(ctx.state.user, 'review', a);
      ctx.body = presentAssignment(await declineHours(a, ctx.state.user, ctx.state.input.body.reason as string));
    },
  });

}
