import { expect } from 'chai';
import { trusted } from 'mongoose';
import { AuditEntry, CapacityClaim, Notification, VolunteerAbsence, VolunteerAssignment, VolunteerTask, type FacilityDoc, type PersonDoc } from '../models/index.js';
import { asSelf } from '../src/auth/user.js';
import {
  autoCheckOut, checkInAssignment, checkOutAssignment, claimVolunteerTask, findAssignment,
} from '../src/commands/volunteerAssignments.js';
import { createVolunteerTask, findVolunteerTask, taskPlacesKey } from '../src/commands/volunteerTasks.js';
import { timeBankBalance } from '../src/commands/timeBank.js';
import { VOLUNTEER_DEFAULTS } from '../src/config.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { useCleanStorage } from './support/storage.js';
import { makeCommunity, makeFacility, makeResident, makeStaff, makeTask, makeVolunteer } from './factories/index.js';

const HOUR = 3600_000;
const rules = VOLUNTEER_DEFAULTS;
/** A future instant on a 15-minute boundary, `hours` from now. */
const inHours = (hours: number) => new Date(Math.ceil((Date.now() + hours * HOUR) / 900_000) * 900_000);

describe('volunteer tasks', () => {
  useCleanStorage();
  let request: ReturnType<typeof createTestApp>['request'];
  let community: Awaited<ReturnType<typeof makeCommunity>>;
  let facility: FacilityDoc;
  let staff: PersonDoc;
  let volunteer: PersonDoc;
  let auth: { staff: string; volunteer: string };

  const claim = (taskId: unknown, authorization: string) =>
    request.post(`/api/v1/volunteer-tasks/${taskId}/claim`).set('Authorization', authorization);
  const newVolunteer = (overrides = {}) => makeVolunteer({ community: community._id, ...overrides });

  before(async () => {
    ({ request } = createTestApp());
    community = await makeCommunity();
    facility = await makeFacility(community);
    staff = (await makeStaff({ community: community._id })).person;
    volunteer = await newVolunteer();
    auth = { staff: await bearerFor(staff), volunteer: await bearerFor(volunteer) };
  });

  describe('POST /api/v1/volunteer-tasks', () => {
    const body = () => ({
      facilityId: String(facility._id), type: 'room_setup', title: '讲座场地布置', description: '摆桌椅', place: '多功能活动室',
      start: inHours(48).toISOString(), end: inHours(50).toISOString(), peopleNeeded: 3, skillsRequired: [],
    });

    it('lets staff publish a task, open, with a 6-digit site code only staff see', async () => {
      const res = await request.post('/api/v1/volunteer-tasks').set('Authorization', auth.staff).send(body()).expect(201);
      expect(res.body).to.include({ status: 'open', peopleNeeded: 3, claimed: 0, remaining: 3, type: 'room_setup', typeLabel: '场地布置', source: 'staff' });
      expect(res.body.siteCode).to.match(/^\d{6}$/);
      const asVolunteer = await request.get(`/api/v1/volunteer-tasks/${res.body.id}`).set('Authorization', auth.volunteer).expect(200);
      expect(asVolunteer.body).to.not.have.property('siteCode');
      expect(asVolunteer.body.myAssignment).to.equal(null);
    });

    it('refuses residents (403), strangers (401), a time in the past (400) and bad input in Chinese (400)', async () => {
      await request.post('/api/v1/volunteer-tasks').set('Authorization', auth.volunteer).send(body()).expect(403);
      await request.post('/api/v1/volunteer-tasks').send(body()).expect(401);
      const past = await request.post('/api/v1/volunteer-tasks').set('Authorization', auth.staff)
        .send({ ...body(), start: new Date(Date.now() - HOUR).toISOString(), end: inHours(1).toISOString() }).expect(400);
      expect(past.body.error.code).to.equal('task_in_past');
      const bad = await request.post('/api/v1/volunteer-tasks').set('Authorization', auth.staff)
        .send({ ...body(), peopleNeeded: 0, type: 'party' }).expect(400);
      expect(bad.body.error.code).to.equal('validation_error');
      expect(bad.body.error.message).to.match(/需要人数|任务类型/);
      const long = await request.post('/api/v1/volunteer-tasks').set('Authorization', auth.staff)
        .send({ ...body(), end: inHours(48 + 13).toISOString() }).expect(400);
      expect(long.body.error.code).to.equal('task_too_long');
    });
  });

  describe('createVolunteerTask (for other services)', () => {
    it('creates a task once per key, however often a service calls it', async () => {
      const input = {
        community: community._id, type: 'meal_delivery' as const, title: '送餐上门：午餐（3栋）', place: '长者饭堂', source: 'meals',
        start: inHours(30), end: inHours(32), peopleNeeded: 2, skillsRequired: ['送餐'], key: `meal-run:test:${Date.now()}`,
      };
      const results = await Promise.all([1, 2, 3, 4, 5].map(() => createVolunteerTask(input)));
      expect(results.filter((r) => r.created)).to.have.length(1);
      expect(new Set(results.map((r) => String(r.task._id))).size).to.equal(1);
      expect(await VolunteerTask.countDocuments({ title: input.title })).to.equal(1);
      expect(results[0]!.task.createdBy).to.equal(undefined);
    });
  });

  describe('GET /api/v1/volunteer-tasks', () => {
    it('shows volunteers the open tasks of their community from now on, with their own assignment', async () => {
      const mine = await makeTask(facility, { start: inHours(60), title: '列表测试任务' });
      const elsewhere = await makeTask(undefined, { start: inHours(60) });
      const past = await makeTask(facility, { start: new Date(Date.now() - 5 * HOUR) });
      const fresh = await newVolunteer();
      const token = await bearerFor(fresh);
      await claim(mine._id, token).expect(201);
      const res = await request.get('/api/v1/volunteer-tasks').set('Authorization', token).expect(200);
      const ids = res.body.items.map((t: { id: string }) => t.id);
      expect(ids).to.include(String(mine._id));
      expect(ids).to.not.include(String(elsewhere._id));
      expect(ids).to.not.include(String(past._id));
      const item = res.body.items.find((t: { id: string }) => t.id === String(mine._id));
      expect(item.myAssignment.status).to.equal('claimed');
      expect(item).to.include({ claimed: 1, remaining: 1 });
    });
  });

  describe('POST /api/v1/volunteer-tasks/:taskId/claim', () => {
    it('30 volunteers claiming 4 places at once leave exactly 4 claims', async () => {
      const task = await makeTask(facility, { peopleNeeded: 4, start: inHours(72) });
      const volunteers = await Promise.all(Array.from({ length: 30 }, () => newVolunteer()));
      const tokens = await Promise.all(volunteers.map((v) => bearerFor(v)));
      const results = await Promise.all(tokens.map((t) => claim(task._id, t)));
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).to.have.length(4);
      expect(statuses.filter((s) => s === 409)).to.have.length(26);
      for (const r of results.filter((x) => x.status === 409)) expect(r.body.error.code).to.equal('task_full');
      expect(await VolunteerAssignment.countDocuments({ task: task._id, status: 'claimed' })).to.equal(4);
      expect(await CapacityClaim.countDocuments({ key: taskPlacesKey(task._id) })).to.equal(4);
      const after = await VolunteerTask.findById(task._id);
      expect(after!.claimedCount).to.equal(4);
      expect(after!.status).to.equal('full');
      // The losers hold nothing: no time, no one-per-task claim.
      const losers = volunteers.filter((_, i) => results[i]!.status === 409);
      expect(await CapacityClaim.countDocuments({ key: trusted({ $in: losers.map((v) => `volunteer-time:${v._id}`) }) })).to.equal(0);
    });

    it('lets a volunteer hold one place per task, even when the same claim races itself', async () => {
      const task = await makeTask(facility, { peopleNeeded: 5, start: inHours(80) });
      const fresh = await newVolunteer();
      const token = await bearerFor(fresh);
      const results = await Promise.all(Array.from({ length: 8 }, () => claim(task._id, token)));
      expect(results.filter((r) => r.status === 201)).to.have.length(1);
      expect(results.filter((r) => r.status === 409).map((r) => r.body.error.code)).to.satisfy((codes: string[]) =>
        codes.every((c) => c === 'already_claimed' || c === 'task_overlap'));
      expect(await VolunteerAssignment.countDocuments({ task: task._id })).to.equal(1);
    });

    it('refuses a volunteer without the skills required (403 skills_missing, naming them)', async () => {
      const task = await makeTask(facility, { skillsRequired: ['托育', '探访'], start: inHours(90) });
      const res = await claim(task._id, auth.volunteer).expect(403);
      expect(res.body.error).to.deep.equal({ code: 'skills_missing', message: '该任务需要「托育」技能，您的志愿者资料中还没有' });
    });

    it('refuses a task overlapping one already held (409 task_overlap, naming it), and allows back-to-back', async () => {
      const fresh = await newVolunteer();
      const token = await bearerFor(fresh);
      const start = inHours(100);
      const first = await makeTask(facility, { title: '上午探访', start, end: new Date(start.getTime() + 2 * HOUR) });
      const overlapping = await makeTask(facility, { start: new Date(start.getTime() + HOUR), end: new Date(start.getTime() + 3 * HOUR) });
      const after = await makeTask(facility, { start: new Date(start.getTime() + 2 * HOUR), end: new Date(start.getTime() + 3 * HOUR) });
      await claim(first._id, token).expect(201);
      const res = await claim(overlapping._id, token).expect(409);
      expect(res.body.error.code).to.equal('task_overlap');
      expect(res.body.error.message).to.include('「上午探访」');
      await claim(after._id, token).expect(201);
    });

    it('keeps "no overlapping task" under concurrency: of overlapping tasks claimed at once, one wins', async () => {
      const fresh = await newVolunteer();
      const token = await bearerFor(fresh);
      const start = inHours(120);
      const tasks = await Promise.all([0, 1, 2, 3, 4].map((i) =>
        makeTask(facility, { start: new Date(start.getTime() + i * 10 * 60_000), end: new Date(start.getTime() + (i * 10 + 60) * 60_000) })));
      const results = await Promise.all(tasks.map((t) => claim(t._id, token)));
      expect(results.filter((r) => r.status === 201)).to.have.length(1);
      expect(results.filter((r) => r.status === 409).every((r) => r.body.error.code === 'task_overlap')).to.equal(true);
      expect(await VolunteerAssignment.countDocuments({ volunteer: fresh._id })).to.equal(1);
    });

    it('refuses unverified and suspended volunteers, residents, other communities and started tasks', async () => {
      const task = await makeTask(facility, { start: inHours(140) });
      const unverified = await newVolunteer({ volunteer: { skills: ['探访'], verified: false, registeredAt: new Date() } });
      expect((await claim(task._id, await bearerFor(unverified)).expect(403)).body.error.code).to.equal('volunteer_not_verified');
      const suspended = await newVolunteer({ volunteer: { skills: ['探访'], verified: true, suspendedAt: new Date(), suspendedReason: '测试' } });
      expect((await claim(task._id, await bearerFor(suspended)).expect(403)).body.error.code).to.equal('volunteer_suspended');
      const resident = await makeResident({ community: community._id });
      expect((await claim(task._id, await bearerFor(resident)).expect(403)).body.error.code).to.equal('not_a_volunteer');
      const other = await makeVolunteer();
      await claim(task._id, await bearerFor(other)).expect(403);
      const started = await makeTask(facility, { start: new Date(Date.now() - HOUR) });
      expect((await claim(started._id, auth.volunteer).expect(409)).body.error.code).to.equal('task_started');
      await claim('65a1b2c3d4e5f6a7b8c9d0e1', auth.volunteer).expect(404);
      await claim(task._id, '').expect(401);
    });
  });

  describe('staff assign and unassign', () => {
    it('assigns a volunteer (told), lists the roster, and unassigns with a reason (told, no absence)', async () => {
      const task = await makeTask(facility, { start: inHours(8) });
      const fresh = await newVolunteer();
      await request.post(`/api/v1/volunteer-tasks/${task._id}/assignments`).set('Authorization', auth.volunteer)
        .send({ volunteerId: String(fresh._id) }).expect(403);
      const res = await request.post(`/api/v1/volunteer-tasks/${task._id}/assignments`).set('Authorization', auth.staff)
        .send({ volunteerId: String(fresh._id) }).expect(201);
      expect(res.body).to.include({ status: 'claimed', assignedBy: String(staff._id), volunteer: String(fresh._id) });
      expect(await Notification.countDocuments({ person: fresh._id, kind: 'volunteer_assigned' })).to.equal(1);
      const roster = await request.get(`/api/v1/volunteer-tasks/${task._id}/assignments`).set('Authorization', auth.staff).expect(200);
      expect(roster.body.items.map((a: { volunteer: string }) => a.volunteer)).to.include(String(fresh._id));
      expect(roster.body.items.find((a: { volunteer: string }) => a.volunteer === String(fresh._id)).volunteerName).to.equal(fresh.name ?? null);
      await request.get(`/api/v1/volunteer-tasks/${task._id}/assignments`).set('Authorization', auth.volunteer).expect(403);

      await request.post(`/api/v1/volunteer-assignments/${res.body.id}/unassign`).set('Authorization', await bearerFor(fresh))
        .send({ reason: '人员调整' }).expect(403);
      const off = await request.post(`/api/v1/volunteer-assignments/${res.body.id}/unassign`).set('Authorization', auth.staff)
        .send({ reason: '人员调整' }).expect(200);
      expect(off.body.status).to.equal('unassigned');
      expect(await VolunteerAbsence.countDocuments({ volunteer: fresh._id })).to.equal(0);
      expect(await CapacityClaim.countDocuments({ holder: res.body.id, key: trusted({ $ne: `state:${res.body.id}` }) })).to.equal(0);
      const notice = await Notification.findOne({ person: fresh._id, kind: 'volunteer_unassigned' });
      expect(notice!.text).to.include('人员调整');
      const again = await request.post(`/api/v1/volunteer-assignments/${res.body.id}/unassign`).set('Authorization', auth.staff)
        .send({ reason: '再次' }).expect(409);
      expect(again.body.error.code).to.equal('invalid_transition');
    });

    it('refuses an unassign without a reason (400, in Chinese)', async () => {
      const res = await request.post('/api/v1/volunteer-assignments/65a1b2c3d4e5f6a7b8c9d0e1/unassign').set('Authorization', auth.staff)
        .send({}).expect(400);
      expect(res.body.error.message).to.include('缺少必填项「reason」'.replace('reason', '原因'));
    });
  });

  describe('POST /api/v1/volunteer-assignments/:assignmentId/release', () => {
    it('is free until 12 hours before the start', async () => {
      const fresh = await newVolunteer();
      const token = await bearerFor(fresh);
      const task = await makeTask(facility, { start: inHours(13) });
      const claimed = await claim(task._id, token).expect(201);
      const res = await request.post(`/api/v1/volunteer-assignments/${claimed.body.id}/release`).set('Authorization', token).expect(200);
      expect(res.body).to.deep.include({ late: false, suspended: false });
      expect(res.body.assignment.status).to.equal('released');
      expect(await VolunteerAbsence.countDocuments({ volunteer: fresh._id })).to.equal(0);
      // The place is free again, and the volunteer can claim it again.
      expect(await CapacityClaim.countDocuments({ key: taskPlacesKey(task._id) })).to.equal(0);
      await claim(task._id, token).expect(201);
    });

    it('counts a release within 12 hours of the start as an absence', async () => {
      const fresh = await newVolunteer();
      const token = await bearerFor(fresh);
      const task = await makeTask(facility, { start: inHours(11) });
      const claimed = await claim(task._id, token).expect(201);
      await request.post(`/api/v1/volunteer-assignments/${claimed.body.id}/release`).set('Authorization', auth.volunteer).expect(403);
      const res = await request.post(`/api/v1/volunteer-assignments/${claimed.body.id}/release`).set('Authorization', token).expect(200);
      expect(res.body).to.deep.include({ late: true, suspended: false });
      const absences = await VolunteerAbsence.find({ volunteer: fresh._id });
      expect(absences.map((a) => a.kind)).to.deep.equal(['late_release']);
      expect(await CapacityClaim.countDocuments({ key: taskPlacesKey(task._id) })).to.equal(0);
      const twice = await request.post(`/api/v1/volunteer-assignments/${claimed.body.id}/release`).set('Authorization', token).expect(409);
      expect(twice.body.error.code).to.equal('invalid_transition');
    });
  });

  describe('check-in and check-out', () => {
    let task: Awaited<ReturnType<typeof makeTask>>;
    let fresh: PersonDoc;
    let token: string;
    let assignmentId: string;

    before(async () => {
      fresh = await newVolunteer();
      token = await bearerFor(fresh);
      task = await makeTask(facility, { start: inHours(0.75), end: inHours(2.75) });
      assignmentId = (await claim(task._id, token).expect(201)).body.id;
    });

    it('refuses a wrong site code (400) and checks in with the right one within the hour before the start', async () => {
      const wrong = task.siteCode === '000000' ? '111111' : '000000';
      const bad = await request.post(`/api/v1/volunteer-assignments/${assignmentId}/check-in`).set('Authorization', token).send({ code: wrong }).expect(400);
      expect(bad.body.error.code).to.equal('site_code_invalid');
      const malformed = await request.post(`/api/v1/volunteer-assignments/${assignmentId}/check-in`).set('Authorization', token).send({ code: '12' }).expect(400);
      expect(malformed.body.error.message).to.include('6 位数字');
      const res = await request.post(`/api/v1/volunteer-assignments/${assignmentId}/check-in`).set('Authorization', token).send({ code: task.siteCode }).expect(200);
      expect(res.body.status).to.equal('checked_in');
      expect(res.body.checkedInAt).to.be.a('string');
    });

    it('checks out; leaving before the task starts attends nothing, so the hours do not count', async () => {
      const res = await request.post(`/api/v1/volunteer-assignments/${assignmentId}/check-out`).set('Authorization', token).expect(200);
      expect(res.body).to.include({ status: 'checked_out', attendedHours: 0, hoursEligible: false });
      const approve = await request.post(`/api/v1/volunteer-assignments/${assignmentId}/approve`).set('Authorization', auth.staff).send({}).expect(409);
      expect(approve.body.error.code).to.equal('attendance_too_short');
    });

    it('opens check-in 1 hour before the start, not earlier, and closes it at the end', async () => {
      const later = await makeTask(facility, { start: inHours(30), end: inHours(32) });
      const a = await claimVolunteerTask(later, volunteer, asSelf(volunteer));
      const tooEarly = await checkInAssignment(a, later, later.siteCode, asSelf(volunteer), rules, new Date(later.start.getTime() - HOUR - 60_000))
        .catch((e: unknown) => e);
      expect((tooEarly as { code: string }).code).to.equal('check_in_not_open');
      const tooLate = await checkInAssignment(a, later, later.siteCode, asSelf(volunteer), rules, later.end).catch((e: unknown) => e);
      expect((tooLate as { code: string }).code).to.equal('check_in_not_open');
      const ok = await checkInAssignment(a, later, later.siteCode, asSelf(volunteer), rules, new Date(later.start.getTime() - HOUR));
      expect(ok.status).to.equal('checked_in');
    });
  });

  describe('the 60 % rule', () => {
    /** A 100-minute task; check in at the start, check out after `minutes`. */
    async function attend(minutes: number, checkInOffset = 0) {
      const fresh = await newVolunteer();
      const start = inHours(200 + Math.random() * 100);
      const task = await makeTask(facility, { start, end: new Date(start.getTime() + 100 * 60_000) });
      const a = await claimVolunteerTask(task, fresh, asSelf(fresh), new Date());
      const inAt = new Date(start.getTime() + checkInOffset * 60_000);
      const checkedIn = await checkInAssignment(a, task, task.siteCode, asSelf(fresh), rules, inAt);
      return checkOutAssignment(checkedIn, fresh._id, rules, new Date(start.getTime() + minutes * 60_000));
    }

    it('counts hours at 60 % of the planned time, not at 59 %', async () => {
      const sixty = await attend(60);
      expect(sixty.attendedMinutes).to.equal(60);
      expect(sixty.hoursEligible).to.equal(true);
      const fiftyNine = await attend(59);
      expect(fiftyNine.attendedMinutes).to.equal(59);
      expect(fiftyNine.hoursEligible).to.equal(false);
    });

    it('counts only the overlap of presence with the task: early arrival and staying late add nothing', async () => {
      const early = await attend(130, -45); // in 45 min before the start, out 30 min after the end
      expect(early.attendedMinutes).to.equal(100);
      const lateIn = await attend(100, 41); // in 41 min late: 59 of 100 minutes
      expect(lateIn.attendedMinutes).to.equal(59);
      expect(lateIn.hoursEligible).to.equal(false);
    });
  });

  describe('approve and decline hours', () => {
    async function served(minutes = 120) {
      const fresh = await newVolunteer();
      const start = inHours(400 + Math.random() * 100);
      const task = await makeTask(facility, { start, end: new Date(start.getTime() + 120 * 60_000) });
      const a = await claimVolunteerTask(task, fresh, asSelf(fresh));
      const inA = await checkInAssignment(a, task, task.siteCode, asSelf(fresh), rules, start);
      const out = await checkOutAssignment(inA, fresh._id, rules, new Date(start.getTime() + minutes * 60_000));
      return { fresh, a: out };
    }

    it('approves the attended hours: points per hour and a time-bank credit, once', async () => {
      const { fresh, a } = await served(90);
      const res = await request.post(`/api/v1/volunteer-assignments/${a._id}/approve`).set('Authorization', auth.staff).send({}).expect(200);
      expect(res.body).to.include({ status: 'approved', approvedHours: 1.5, points: 15 });
      expect(await timeBankBalance(fresh._id)).to.equal(90);
      const again = await request.post(`/api/v1/volunteer-assignments/${a._id}/approve`).set('Authorization', auth.staff).send({}).expect(409);
      expect(again.body.error.code).to.equal('invalid_transition');
      expect(await timeBankBalance(fresh._id)).to.equal(90);
    });

    it('approves fewer hours than attended when staff say so, never more', async () => {
      const { a } = await served(120);
      const more = await request.post(`/api/v1/volunteer-assignments/${a._id}/approve`).set('Authorization', auth.staff).send({ hours: 3 }).expect(400);
      expect(more.body.error.code).to.equal('hours_above_attended');
      const res = await request.post(`/api/v1/volunteer-assignments/${a._id}/approve`).set('Authorization', auth.staff).send({ hours: 1.5 }).expect(200);
      expect(res.body.approvedHours).to.equal(1.5);
    });

    it('declines with a reason: the entry stays, the volunteer is told, no credit', async () => {
      const { fresh, a } = await served(120);
      await request.post(`/api/v1/volunteer-assignments/${a._id}/decline`).set('Authorization', await bearerFor(fresh)).send({ reason: '不适用' }).expect(403);
      const noReason = await request.post(`/api/v1/volunteer-assignments/${a._id}/decline`).set('Authorization', auth.staff).send({}).expect(400);
      expect(noReason.body.error.message).to.include('原因');
      const res = await request.post(`/api/v1/volunteer-assignments/${a._id}/decline`).set('Authorization', auth.staff).send({ reason: '现场未见到该志愿者' }).expect(200);
      expect(res.body).to.include({ status: 'declined', declineReason: '现场未见到该志愿者' });
      expect(await VolunteerAssignment.countDocuments({ _id: a._id })).to.equal(1);
      expect(await timeBankBalance(fresh._id)).to.equal(0);
      expect((await Notification.findOne({ person: fresh._id, kind: 'volunteer_hours_declined' }))!.text).to.include('现场未见到该志愿者');
      const mine = await request.get('/api/v1/volunteer-assignments/mine').set('Authorization', await bearerFor(fresh)).expect(200);
      expect(mine.body.items[0]).to.include({ status: 'declined', declineReason: '现场未见到该志愿者' });
      const queue = await request.get('/api/v1/volunteer-assignments?status=declined').set('Authorization', auth.staff).expect(200);
      expect(queue.body.items.map((x: { id: string }) => x.id)).to.include(String(a._id));
    });
  });

  describe('GET /api/v1/volunteer-assignments?volunteer=', () => {
    it('lists one volunteer\'s assignments, newest first, any status, with task titles; audited', async () => {
      const fresh = await newVolunteer();
      const other = await newVolunteer();
      const older = await makeTask(facility, { start: inHours(700), peopleNeeded: 3 });
      const newer = await makeTask(facility, { start: inHours(720), peopleNeeded: 3 });
      const first = await claimVolunteerTask(older, fresh, asSelf(fresh));
      await claimVolunteerTask(newer, fresh, asSelf(fresh));
      await claimVolunteerTask(newer, other, asSelf(other));
      await request.post(`/api/v1/volunteer-assignments/${first._id}/release`).set('Authorization', await bearerFor(fresh)).expect(200);

      const res = await request.get('/api/v1/volunteer-assignments').query({ volunteer: String(fresh._id) }).set('Authorization', auth.staff).expect(200);
      expect(res.body.items.map((a: { task: string }) => a.task)).to.deep.equal([String(newer._id), String(older._id)]);
      expect(res.body.items.map((a: { status: string }) => a.status)).to.deep.equal(['claimed', 'released']);
      expect(res.body.items[0]).to.include({ volunteer: String(fresh._id), volunteerName: fresh.name, taskTitle: newer.title });
      const released = await request.get('/api/v1/volunteer-assignments').query({ volunteer: String(fresh._id), status: 'released' })
        .set('Authorization', auth.staff).expect(200);
      expect(released.body.items.map((a: { id: string }) => a.id)).to.deep.equal([String(first._id)]);
      expect(await AuditEntry.countDocuments({ actor: staff._id, action: 'volunteer.assignments', subject: fresh._id })).to.equal(2);
    });

    it('refuses staff of another community (403), residents (403), strangers (401) and a bad id (400)', async () => {
      const outsider = (await makeStaff()).person;
      const res = await request.get('/api/v1/volunteer-assignments').query({ volunteer: String(volunteer._id) })
        .set('Authorization', await bearerFor(outsider)).expect(403);
      expect(res.body.error.code).to.equal('forbidden');
      await request.get('/api/v1/volunteer-assignments').query({ volunteer: String(volunteer._id) }).set('Authorization', auth.volunteer).expect(403);
      await request.get('/api/v1/volunteer-assignments').query({ volunteer: String(volunteer._id) }).expect(401);
      const bad = await request.get('/api/v1/volunteer-assignments').query({ volunteer: 'nobody' }).set('Authorization', auth.staff).expect(400);
      expect(bad.body.error.code).to.equal('validation_error');
      // The volunteer filter belongs to the staff list only.
      await request.get('/api/v1/volunteer-assignments/mine').query({ volunteer: String(volunteer._id) }).set('Authorization', auth.volunteer).expect(400);
    });
  });

  describe('GET /api/v1/volunteer-assignments (staff; pages served from the read cache)', () => {
    it('lists the community\'s assignments oldest first with names, and shows a claim, a release or a rename made after a first view at once', async () => {
      const list = async (q = '') => (await request.get(`/api/v1/volunteer-assignments?limit=200${q}`).set('Authorization', auth.staff).expect(200)).body
        .items as Array<{ id: string; status: string; volunteerName: string | null; end: string }>;
      const before = await list();
      const ends = before.map((a) => a.end);
      expect(ends).to.deep.equal([...ends].sort());
      const task = await makeTask(facility, { start: inHours(900) });
      const fresh = await newVolunteer({ name: '林志愿' });
      const claimed = await claim(task._id, await bearerFor(fresh)).expect(201);
      const after = await list();
      expect(after).to.have.length(before.length + 1);
      expect(after.find((a) => a.id === claimed.body.id)).to.include({ status: 'claimed', volunteerName: '林志愿' });
      expect((await list('&status=claimed')).map((a) => a.id)).to.include(claimed.body.id);
      await request.post(`/api/v1/volunteer-assignments/${claimed.body.id}/release`).set('Authorization', await bearerFor(fresh)).send({}).expect(200);
      expect((await list()).find((a) => a.id === claimed.body.id)!.status).to.equal('released');
      expect((await list('&status=claimed')).map((a) => a.id)).not.to.include(claimed.body.id);
      await request.patch('/api/v1/me').set('Authorization', await bearerFor(fresh)).send({ name: '林志愿者' }).expect(200);
      expect((await list()).find((a) => a.id === claimed.body.id)!.volunteerName).to.equal('林志愿者');
    });

    it('is refused to a volunteer (403) and shows staff of another community none of this one', async () => {
      await request.get('/api/v1/volunteer-assignments').set('Authorization', auth.volunteer).expect(403);
      const elsewhere = await makeCommunity();
      const otherStaff = (await makeStaff({ community: elsewhere._id })).person;
      const res = await request.get('/api/v1/volunteer-assignments').set('Authorization', await bearerFor(otherStaff)).expect(200);
      expect(res.body.items).to.deep.equal([]);
    });
  });

  describe('autoCheckOut', () => {
    it('checks out at the planned end and flags those still checked in 2 hours after the end; marks no-shows absent; once', async () => {
      const start = inHours(600);
      const end = new Date(start.getTime() + 2 * HOUR);
      const task = await makeTask(facility, { start, end, peopleNeeded: 3 });
      const stayer = await newVolunteer();
      const noShow = await newVolunteer();
      const a = await claimVolunteerTask(task, stayer, asSelf(stayer));
      await claimVolunteerTask(task, noShow, asSelf(noShow));
      await checkInAssignment(a, task, task.siteCode, asSelf(stayer), rules, start);

      // (Also sweeps what earlier tests left behind, all of it ending earlier.)
      await autoCheckOut(new Date(end.getTime() + 2 * HOUR - 60_000), 500, rules);
      expect((await findAssignment(String(a._id))).status).to.equal('checked_in');
      expect(await VolunteerAssignment.countDocuments({ task: task._id, status: 'claimed' })).to.equal(1);
      const at = new Date(end.getTime() + 2 * HOUR);
      const [first, second] = await Promise.all([autoCheckOut(at, 500, rules), autoCheckOut(at, 500, rules)]);
      expect(first.checkedOut + second.checkedOut).to.equal(1);
      expect(first.absent + second.absent).to.equal(1);
      expect(await autoCheckOut(at, 500, rules)).to.deep.equal({ checkedOut: 0, absent: 0 });

      const out = await findAssignment(String(a._id));
      expect(out.status).to.equal('checked_out');
      expect(out.checkedOutAt!.getTime()).to.equal(end.getTime());
      expect(out.attendedMinutes).to.equal(120);
      expect(out.hoursEligible).to.equal(true);
      expect(out.flag?.reason).to.equal('auto_check_out');
      const absences = await VolunteerAbsence.find({ volunteer: noShow._id });
      expect(absences.map((x) => x.kind)).to.deep.equal(['no_show']);
    });
  });

  describe('POST /api/v1/volunteer-tasks/:taskId/cancel', () => {
    it('cancels the task, takes everyone off without an absence, and tells them', async () => {
      const task = await makeTask(facility, { start: inHours(5), peopleNeeded: 2 });
      const fresh = await newVolunteer();
      await claim(task._id, await bearerFor(fresh)).expect(201);
      await request.post(`/api/v1/volunteer-tasks/${task._id}/cancel`).set('Authorization', auth.volunteer).send({ reason: '下雨' }).expect(403);
      const res = await request.post(`/api/v1/volunteer-tasks/${task._id}/cancel`).set('Authorization', auth.staff).send({ reason: '暴雨预警' }).expect(200);
      expect(res.body).to.include({ status: 'cancelled', cancelReason: '暴雨预警' });
      expect(await VolunteerAssignment.countDocuments({ task: task._id, status: 'cancelled' })).to.equal(1);
      expect(await CapacityClaim.countDocuments({ key: taskPlacesKey(task._id) })).to.equal(0);
      expect(await VolunteerAbsence.countDocuments({ volunteer: fresh._id })).to.equal(0);
      expect(await Notification.countDocuments({ person: fresh._id, kind: 'volunteer_task_cancelled' })).to.equal(1);
      expect((await claim(task._id, auth.volunteer).expect(409)).body.error.code).to.equal('task_closed');
    });
  });

  describe('PATCH /api/v1/volunteer-tasks/:taskId', () => {
    it('changes details, and refuses fewer places than are taken', async () => {
      const task = await makeTask(facility, { start: inHours(150), peopleNeeded: 3 });
      const a = await claimVolunteerTask(task, volunteer, asSelf(volunteer));
      const res = await request.patch(`/api/v1/volunteer-tasks/${task._id}`).set('Authorization', auth.staff)
        .send({ title: '新标题', peopleNeeded: 5 }).expect(200);
      expect(res.body).to.include({ title: '新标题', peopleNeeded: 5, remaining: 4 });
      const slot = (await CapacityClaim.findOne({ key: taskPlacesKey(task._id), holder: a._id }))!.slot;
      if (slot > 0) {
        const below = await request.patch(`/api/v1/volunteer-tasks/${task._id}`).set('Authorization', auth.staff).send({ peopleNeeded: slot }).expect(409);
        expect(below.body.error.code).to.equal('people_needed_below_claims');
      }
      await request.patch(`/api/v1/volunteer-tasks/${task._id}`).set('Authorization', auth.volunteer).send({ title: 'x' }).expect(403);
      expect((await findVolunteerTask(String(task._id))).title).to.equal('新标题');
    });
  });
});
