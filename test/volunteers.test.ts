import { expect } from 'chai';
import { Types } from 'mongoose';
import { Notification, Person, TimeBankEntry, VolunteerAbsence, VolunteerRecordCache, VolunteerRecordStamp, VolunteerTask, type FacilityDoc, type PersonDoc } from '../models/index.js';
import { atShanghai, dayjs } from '../models/calendar.js';
import { adjustTimeBank, appendTimeBankEntry, earnTimeBank, timeBankBalance } from '../src/commands/timeBank.js';
import { createMonthlyVisitTasks, taskIdForKey, updateVolunteerTask } from '../src/commands/volunteerTasks.js';
import { approveHours } from '../src/commands/volunteerAssignments.js';
import { asSelf } from '../src/auth/user.js';
import { recordAbsence, starLevel } from '../src/commands/volunteers.js';
import { VOLUNTEER_DEFAULTS, loadConfig } from '../src/config.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { useCleanStorage } from './support/storage.js';
import {
  makeAssignment, makeCommunity, makeFacility, makeProxyLink, makeResident, makeStaff, makeTask, makeVolunteer,
} from './factories/index.js';

const HOUR = 3600_000;
const inHours = (hours: number) => new Date(Math.ceil((Date.now() + hours * HOUR) / 900_000) * 900_000);

describe('volunteers', () => {
  useCleanStorage();
  let request: ReturnType<typeof createTestApp>['request'];
  let community: Awaited<ReturnType<typeof makeCommunity>>;
  let facility: FacilityDoc;
  let staff: PersonDoc;
  let auth: { staff: string };

  const newVolunteer = (overrides = {}) => makeVolunteer({ community: community._id, ...overrides });

  before(async () => {
    ({ request } = createTestApp());
    community = await makeCommunity();
    facility = await makeFacility(community);
    staff = (await makeStaff({ community: community._id })).person;
    auth = { staff: await bearerFor(staff) };
  });

  describe('POST /api/v1/volunteers/register, then staff verify', () => {
    it('registers skills, availability and a photo; staff verify; then the volunteer can claim', async () => {
      const resident = await makeResident({ community: community._id });
      const token = await bearerFor(resident);
      const body = {
        skills: ['探访', '送餐'],
        availability: [{ weekday: 6, from: '09:00', to: '12:00' }, { weekday: 0, from: '14:00', to: '17:30' }],
        availabilityNote: '周末有空',
        photoUrl: 'https://example.com/p.jpg',
      };
      const res = await request.post('/api/v1/volunteers/register').set('Authorization', token).send(body).expect(201);
      expect(res.body).to.deep.include({ verified: false, suspended: false, skills: ['探访', '送餐'], availability: body.availability, photoUrl: body.photoUrl });
      expect((await request.post('/api/v1/volunteers/register').set('Authorization', token).send(body).expect(409)).body.error.code).to.equal('already_registered');

      const task = await makeTask(facility, { start: inHours(50) });
      expect((await request.post(`/api/v1/volunteer-tasks/${task._id}/claim`).set('Authorization', token).expect(403)).body.error.code)
        .to.equal('volunteer_not_verified');

      await request.post(`/api/v1/volunteers/${resident._id}/verify`).set('Authorization', token).expect(403);
      const list = await request.get('/api/v1/volunteers?state=pending').set('Authorization', auth.staff).expect(200);
      expect(list.body.items.map((v: { id: string }) => v.id)).to.include(String(resident._id));
      const verified = await request.post(`/api/v1/volunteers/${resident._id}/verify`).set('Authorization', auth.staff).expect(200);
      expect(verified.body.verified).to.equal(true);
      // The list (from the read cache) follows the verification at once.
      const pendingAfter = await request.get('/api/v1/volunteers?state=pending').set('Authorization', auth.staff).expect(200);
      expect(pendingAfter.body.items.map((v: { id: string }) => v.id)).to.not.include(String(resident._id));
      const verifiedList = await request.get('/api/v1/volunteers?state=verified').set('Authorization', auth.staff).expect(200);
      expect(verifiedList.body.items.map((v: { id: string }) => v.id)).to.include(String(resident._id));
      expect(await Notification.countDocuments({ person: resident._id, kind: 'volunteer_verified' })).to.equal(1);
      await request.post(`/api/v1/volunteer-tasks/${task._id}/claim`).set('Authorization', token).expect(201);

      const updated = await request.patch('/api/v1/volunteers/me').set('Authorization', token).send({ skills: ['探访', '托育'], photoUrl: null }).expect(200);
      expect(updated.body).to.include({ photoUrl: null });
      expect(updated.body.skills).to.deep.equal(['探访', '托育']);
    });

    it('refuses bad input in Chinese and registration before the profile is complete', async () => {
      const resident = await makeResident({ community: community._id });
      const token = await bearerFor(resident);
      const bad = await request.post('/api/v1/volunteers/register').set('Authorization', token)
        .send({ skills: [], availability: [{ weekday: 7, from: '12:00', to: '09:00' }] }).expect(400);
      expect(bad.body.error.code).to.equal('validation_error');
      expect(bad.body.error.message).to.match(/技能|星期/);
      const backwards = await request.post('/api/v1/volunteers/register').set('Authorization', token)
        .send({ skills: ['探访'], availability: [{ weekday: 1, from: '12:00', to: '09:00' }] }).expect(400);
      expect(backwards.body.error.message).to.include('结束时间应晚于开始时间');
      const pending = await Person.create({ status: 'pending', roles: ['resident'] });
      const res = await request.post('/api/v1/volunteers/register').set('Authorization', await bearerFor(pending)).send({ skills: ['探访'] }).expect(409);
      expect(res.body.error.code).to.equal('profile_incomplete');
      await request.post('/api/v1/volunteers/register').send({ skills: ['探访'] }).expect(401);
    });
  });

  describe('deletion on request (POST /api/v1/me/deletion)', () => {
    it('erases a volunteer\'s photo with the rest of what identifies them', async () => {
      const v = await newVolunteer({ volunteer: { skills: ['探访'], verified: true, photoUrl: 'https://example.com/me.jpg' } });
      await request.post('/api/v1/me/deletion').set('Authorization', await bearerFor(v)).send({ confirm: '确认注销' }).expect((r) => {
        expect(r.status).to.be.within(200, 204);
      });
      const after = await Person.findById(v._id);
      expect(after!.status).to.equal('anonymised');
      expect(after!.volunteer?.photoUrl).to.equal(undefined);
      expect(after!.volunteer?.skills).to.deep.equal(['探访']);
    });
  });

  describe('suspension', () => {
    it('staff suspend (the volunteer cannot claim, is told why) and reinstate', async () => {
      const v = await newVolunteer();
      const token = await bearerFor(v);
      await request.post(`/api/v1/volunteers/${v._id}/suspend`).set('Authorization', token).send({ reason: 'x' }).expect(403);
      const res = await request.post(`/api/v1/volunteers/${v._id}/suspend`).set('Authorization', auth.staff).send({ reason: '多次投诉核实中' }).expect(200);
      expect(res.body).to.include({ suspended: true, suspendedReason: '多次投诉核实中', suspendedUntil: null });
      const task = await makeTask(facility, { start: inHours(60) });
      const refused = await request.post(`/api/v1/volunteer-tasks/${task._id}/claim`).set('Authorization', token).expect(403);
      expect(refused.body.error.code).to.equal('volunteer_suspended');
      const back = await request.post(`/api/v1/volunteers/${v._id}/reinstate`).set('Authorization', auth.staff).expect(200);
      expect(back.body.suspended).to.equal(false);
      await request.post(`/api/v1/volunteer-tasks/${task._id}/claim`).set('Authorization', token).expect(201);
    });

    it('suspends a volunteer at the 5th unexcused absence of the calendar year (late releases)', async () => {
      const v = await newVolunteer();
      const token = await bearerFor(v);
      const outcomes: Array<{ late: boolean; suspended: boolean }> = [];
      for (let i = 0; i < 5; i += 1) {
        const task = await makeTask(facility, { start: inHours(2 + i * 2), end: inHours(3 + i * 2) });
        const claimed = await request.post(`/api/v1/volunteer-tasks/${task._id}/claim`).set('Authorization', token).expect(201);
        const released = await request.post(`/api/v1/volunteer-assignments/${claimed.body.id}/release`).set('Authorization', token).expect(200);
        outcomes.push({ late: released.body.late, suspended: released.body.suspended });
      }
      expect(outcomes).to.deep.equal([
        { late: true, suspended: false }, { late: true, suspended: false }, { late: true, suspended: false },
        { late: true, suspended: false }, { late: true, suspended: true },
      ]);
      const me = await request.get('/api/v1/volunteers/me').set('Authorization', token).expect(200);
      expect(me.body.suspended).to.equal(true);
      expect(me.body.suspendedReason).to.include('5 次');
      const next = await makeTask(facility, { start: inHours(40) });
      expect((await request.post(`/api/v1/volunteer-tasks/${next._id}/claim`).set('Authorization', token).expect(403)).body.error.code)
        .to.equal('volunteer_suspended');
      const absences = await request.get(`/api/v1/volunteers/${v._id}/absences`).set('Authorization', token).expect(200);
      expect(absences.body.items).to.have.length(5);
    });

    it('does not count excused absences, nor those of another calendar year', async () => {
      const v = await newVolunteer();
      const fake = () => ({ _id: new Types.ObjectId(), volunteer: v._id, task: new Types.ObjectId(), community: community._id });
      const lastYear = atShanghai('2025-12-31', '23:00');
      const thisYear = atShanghai('2026-01-01', '08:00');
      for (let i = 0; i < 4; i += 1) await recordAbsence(fake(), 'no_show', VOLUNTEER_DEFAULTS, lastYear);
      for (let i = 0; i < 4; i += 1) expect((await recordAbsence(fake(), 'no_show', VOLUNTEER_DEFAULTS, thisYear)).suspended).to.equal(false);
      const one = await VolunteerAbsence.findOne({ volunteer: v._id, year: 2026 });
      await request.post(`/api/v1/volunteer-absences/${one!._id}/excuse`).set('Authorization', await bearerFor(v)).send({ reason: '生病' }).expect(403);
      const excused = await request.post(`/api/v1/volunteer-absences/${one!._id}/excuse`).set('Authorization', auth.staff).send({ reason: '住院' }).expect(200);
      expect(excused.body).to.include({ excused: true, excuseReason: '住院' });
      const fifth = await recordAbsence(fake(), 'late_release', VOLUNTEER_DEFAULTS, thisYear);
      expect(fifth).to.deep.equal({ counted: true, absences: 4, suspended: false });
      const sixth = await recordAbsence(fake(), 'late_release', VOLUNTEER_DEFAULTS, thisYear);
      expect(sixth).to.deep.equal({ counted: true, absences: 5, suspended: true });
      // The same assignment never counts twice.
      const again = { ...fake() };
      await recordAbsence(again, 'no_show', VOLUNTEER_DEFAULTS, thisYear);
      expect((await recordAbsence(again, 'no_show', VOLUNTEER_DEFAULTS, thisYear)).counted).to.equal(false);
    });
  });

  describe('stars', () => {
    it('reaches the thresholds 100 / 300 / 600 / 1000 / 1500 hours exactly', () => {
      expect(starLevel(99.5)).to.equal(0);
      expect(starLevel(100)).to.equal(1);
      expect(starLevel(299.99)).to.equal(1);
      expect(starLevel(300)).to.equal(2);
      expect(starLevel(600)).to.equal(3);
      expect(starLevel(1000)).to.equal(4);
      expect(starLevel(1499.5)).to.equal(4);
      expect(starLevel(1500)).to.equal(5);
      expect(starLevel(5000)).to.equal(5);
    });

    it('reads the thresholds from VOLUNTEER_STAR_HOURS, ascending only', () => {
      expect(loadConfig({ NODE_ENV: 'test', VOLUNTEER_STAR_HOURS: '10,20' }).volunteers.starHours).to.deep.equal([10, 20]);
      expect(loadConfig({ NODE_ENV: 'test' }).volunteers).to.deep.equal({ ...VOLUNTEER_DEFAULTS });
      expect(() => loadConfig({ NODE_ENV: 'test', VOLUNTEER_STAR_HOURS: '300,100' })).to.throw(/VOLUNTEER_STAR_HOURS/);
    });

    it('shows no star at 99.5 approved hours and one at 100 (declined hours never count)', async () => {
      const v = await newVolunteer();
      const token = await bearerFor(v);
      const task = await makeTask(facility);
      await makeAssignment(task, v, { approvedMinutes: 99.5 * 60, points: 995 });
      await makeAssignment(task, v, { status: 'declined', approvedMinutes: undefined, declineReason: '测试' });
      const below = await request.get('/api/v1/volunteers/me').set('Authorization', token).expect(200);
      expect(below.body.totals).to.deep.equal({ hours: 99.5, points: 995, stars: 0, hoursToNextStar: 0.5, tasksServed: 1 });
      await makeAssignment(task, v, { approvedMinutes: 30, points: 5 });
      const at = await request.get(`/api/v1/volunteers/${v._id}`).set('Authorization', auth.staff).expect(200);
      expect(at.body.totals).to.deep.equal({ hours: 100, points: 1000, stars: 1, hoursToNextStar: 200, tasksServed: 2 });
      await request.get(`/api/v1/volunteers/${v._id}`).set('Authorization', await bearerFor(await newVolunteer())).expect(403);
    });
  });

  describe('time bank', () => {
    const balanceOf = async (v: PersonDoc, token: string) =>
      (await request.get(`/api/v1/volunteers/${v._id}/time-bank`).set('Authorization', token).expect(200)).body;

    it('keeps the balance after earn, redeem and adjust, in an append-only chain', async () => {
      const v = await newVolunteer();
      const token = await bearerFor(v);
      await earnTimeBank(v._id, 180, new Types.ObjectId(), staff._id);
      const redeemed = await request.post(`/api/v1/volunteers/${v._id}/time-bank/redeem`).set('Authorization', token)
        .send({ hours: 1.5, service: 'meal', note: '本月助餐' }).expect(201);
      expect(redeemed.body).to.include({ kind: 'redeemed', hours: -1.5, balanceHours: 1.5, service: '助餐', beneficiary: String(v._id) });
      await request.post(`/api/v1/volunteers/${v._id}/time-bank/adjust`).set('Authorization', token).send({ hours: 5, reason: '自己加' }).expect(403);
      const noReason = await request.post(`/api/v1/volunteers/${v._id}/time-bank/adjust`).set('Authorization', auth.staff).send({ hours: 2 }).expect(400);
      expect(noReason.body.error.message).to.include('原因');
      const adjusted = await request.post(`/api/v1/volunteers/${v._id}/time-bank/adjust`).set('Authorization', auth.staff)
        .send({ hours: 2, reason: '补录2025年线下服务时长' }).expect(201);
      expect(adjusted.body).to.include({ kind: 'adjusted', hours: 2, balanceHours: 3.5, reason: '补录2025年线下服务时长' });
      const minus = await request.post(`/api/v1/volunteers/${v._id}/time-bank/adjust`).set('Authorization', auth.staff)
        .send({ hours: -0.5, reason: '重复登记' }).expect(201);
      expect(minus.body.balanceHours).to.equal(3);
      const statement = await balanceOf(v, token);
      expect(statement.balanceHours).to.equal(3);
      expect(statement.entries.map((e: { seq: number; kind: string; hours: number; balanceHours: number }) => [e.seq, e.kind, e.hours, e.balanceHours]))
        .to.deep.equal([[4, 'adjusted', -0.5, 3], [3, 'adjusted', 2, 3.5], [2, 'redeemed', -1.5, 1.5], [1, 'earned', 3, 3]]);
    });

    it('refuses a redeem or a negative adjustment beyond the balance (409 insufficient_balance)', async () => {
      const v = await newVolunteer();
      const token = await bearerFor(v);
      await earnTimeBank(v._id, 60, new Types.ObjectId(), staff._id);
      const res = await request.post(`/api/v1/volunteers/${v._id}/time-bank/redeem`).set('Authorization', token)
        .send({ hours: 1.5, service: 'childcare' }).expect(409);
      expect(res.body.error).to.deep.equal({ code: 'insufficient_balance', message: '时间银行余额不足：当前余额 1 小时，本次需要 1.5 小时' });
      const adjust = await request.post(`/api/v1/volunteers/${v._id}/time-bank/adjust`).set('Authorization', auth.staff)
        .send({ hours: -2, reason: '更正' }).expect(409);
      expect(adjust.body.error.code).to.equal('insufficient_balance');
      expect(await timeBankBalance(v._id)).to.equal(60);
      expect(await TimeBankEntry.countDocuments({ volunteer: v._id })).to.equal(1);
    });

    it('never goes below zero under concurrency: 20 redeems of 1 hour against 5 hours leave exactly 5 entries', async () => {
      const v = await newVolunteer();
      const token = await bearerFor(v);
      await earnTimeBank(v._id, 300, new Types.ObjectId(), staff._id);
      const results = await Promise.all(Array.from({ length: 20 }, () =>
        request.post(`/api/v1/volunteers/${v._id}/time-bank/redeem`).set('Authorization', token).send({ hours: 1, service: 'home_care' })));
      expect(results.filter((r) => r.status === 201)).to.have.length(5);
      expect(results.filter((r) => r.status === 409).every((r) => r.body.error.code === 'insufficient_balance')).to.equal(true);
      expect(await timeBankBalance(v._id)).to.equal(0);
      const chain = await TimeBankEntry.find({ volunteer: v._id }).sort({ seq: 1 });
      expect(chain.map((e) => e.seq)).to.deep.equal([1, 2, 3, 4, 5, 6]);
      expect(chain.map((e) => e.balanceAfter)).to.deep.equal([300, 240, 180, 120, 60, 0]);
    });

    it('keeps every racing credit and debit: the balance is the sum of the entries', async () => {
      const v = await newVolunteer();
      await earnTimeBank(v._id, 100, new Types.ObjectId(), staff._id);
      const writes = Array.from({ length: 15 }, (_, i) => (i % 3 === 0
        ? appendTimeBankEntry(v._id, { kind: 'redeemed', minutes: -10, service: '其他' })
        : adjustTimeBank(v._id, 7, '测试', staff._id)));
      await Promise.all(writes);
      const chain = await TimeBankEntry.find({ volunteer: v._id }).sort({ seq: 1 });
      expect(chain).to.have.length(16);
      expect(chain.at(-1)!.balanceAfter).to.equal(100 + 10 * 7 - 5 * 10);
      let running = 0;
      for (const e of chain) {
        running += e.minutes;
        expect(e.balanceAfter).to.equal(running);
      }
    });

    it('redeems for a family member the volunteer acts for, and for nobody else', async () => {
      const v = await newVolunteer();
      const token = await bearerFor(v);
      const mother = await makeResident({ community: community._id });
      const stranger = await makeResident({ community: community._id });
      await makeProxyLink(v, mother);
      await earnTimeBank(v._id, 240, new Types.ObjectId(), staff._id);
      const res = await request.post(`/api/v1/volunteers/${v._id}/time-bank/redeem`).set('Authorization', token)
        .send({ hours: 2, service: 'home_care', forPerson: String(mother._id) }).expect(201);
      expect(res.body.beneficiary).to.equal(String(mother._id));
      const refused = await request.post(`/api/v1/volunteers/${v._id}/time-bank/redeem`).set('Authorization', token)
        .send({ hours: 1, service: 'home_care', forPerson: String(stranger._id) }).expect(403);
      expect(refused.body.error.code).to.equal('not_family');
      await request.post(`/api/v1/volunteers/${v._id}/time-bank/redeem`).set('Authorization', await bearerFor(stranger))
        .send({ hours: 1, service: 'meal' }).expect(403);
    });
  });

  describe('service record', () => {
    it('gives the volunteer their tasks, hours, points and stars as JSON and as a printable Chinese page', async () => {
      const v = await newVolunteer({ name: '李<志愿>' });
      const token = await bearerFor(v);
      const t1 = await makeTask(facility, { title: '三月探访', place: '3栋' });
      const t2 = await makeTask(facility, { title: '活动布置' });
      await makeAssignment(t1, v, { approvedMinutes: 120, points: 20 });
      await makeAssignment(t2, v, { status: 'declined', approvedMinutes: undefined, declineReason: '未到岗' });
      await earnTimeBank(v._id, 120, new Types.ObjectId(), staff._id);

      const json = await request.get(`/api/v1/volunteers/${v._id}/record`).set('Authorization', token).expect(200);
      expect(json.body.totals).to.include({ hours: 2, points: 20, stars: 0, tasksServed: 1 });
      expect(json.body.timeBankHours).to.equal(2);
      expect(json.body.tasks.map((t: { title: string; status: string }) => [t.title, t.status]).sort())
        .to.deep.equal([['三月探访', 'approved'], ['活动布置', 'declined']]);
      expect(json.body.tasks.find((t: { status: string }) => t.status === 'declined').declineReason).to.equal('未到岗');

      const html = await request.get(`/api/v1/volunteers/${v._id}/record/print`).set('Authorization', token).expect(200);
      expect(html.headers['content-type']).to.match(/^text\/html; charset=utf-8/);
      expect(html.text).to.include('<html lang="zh-CN">');
      expect(html.text).to.include('志愿服务记录');
      expect(html.text).to.include('@media print');
      expect(html.text).to.include('三月探访');
      expect(html.text).to.include('原因：未到岗');
      expect(html.text).to.include('李&lt;志愿&gt;');
      expect(html.text).to.not.include('李<志愿>');

      await request.get(`/api/v1/volunteers/${v._id}/record`).set('Authorization', await bearerFor(await newVolunteer())).expect(403);
      await request.get(`/api/v1/volunteers/${v._id}/record`).set('Authorization', auth.staff).expect(200);
      await request.get(`/api/v1/volunteers/${v._id}/record/print`).expect(401);
    });

    it('lists every recorded assignment oldest first with its task, totals from the approved ones only', async () => {
      const v = await newVolunteer();
      const token = await bearerFor(v);
      const base = Date.now() - 60 * 86_400_000;
      // 25 tasks (more than one batch of task reads), newest made first; one task served twice; one still claimed.
      const tasks = [];
      for (let i = 24; i >= 0; i -= 1) {
        const start = new Date(base + i * 86_400_000);
        tasks.unshift(await makeTask(facility, { title: `任务${i}`, start, end: new Date(start.getTime() + 3_600_000) }));
      }
      for (const t of tasks) await makeAssignment(t, v, { approvedMinutes: 60, points: 2 });
      const again = new Date(base + 30 * 86_400_000);
      await makeAssignment(tasks[3]!, v, { start: again, end: new Date(again.getTime() + 3_600_000), approvedMinutes: 30, points: 1 });
      await makeAssignment(await makeTask(facility, { title: '已报名未服务' }), v, { status: 'claimed', approvedMinutes: undefined, points: undefined });

      const json = await request.get(`/api/v1/volunteers/${v._id}/record`).set('Authorization', token).expect(200);
      expect(json.body.tasks.map((t: { title: string }) => t.title)).to.deep.equal([...tasks.map((t) => t.title), '任务3']);
      expect(json.body.totals).to.include({ hours: 25.5, points: 51, tasksServed: 26 });
      expect(json.body.tasks.every((t: { place: string; typeLabel: string }) => t.place && t.typeLabel)).to.equal(true);
      await request.get(`/api/v1/volunteers/${v._id}/record`).expect(401);
      await request.get(`/api/v1/volunteers/not-an-id/record`).set('Authorization', token).expect(400);
    });

    it('is read from its read model while fresh, and follows hours approved and a task renamed at once', async () => {
      const v = await newVolunteer();
      const token = await bearerFor(v);
      const task = await makeTask(facility, { title: '楼道清扫', start: new Date(Date.now() - 3 * 86_400_000), end: new Date(Date.now() - 3 * 86_400_000 + 5_400_000) });
      const served = await makeAssignment(task, v, { status: 'checked_out', attendedMinutes: 90, hoursEligible: true, approvedMinutes: undefined, points: undefined });
      const view = async () => (await request.get(`/api/v1/volunteers/${v._id}/record`).set('Authorization', token).expect(200)).body;

      const first = await view();
      expect(first.tasks.map((t: { title: string; status: string }) => [t.title, t.status])).to.deep.equal([['楼道清扫', 'checked_out']]);
      expect(first.totals).to.include({ hours: 0, tasksServed: 0 });
      const stored = (await VolunteerRecordCache.findById(v._id).lean())!;
      // Stored under the token read before computing (the factory's write replaced it, as every change does).
      expect(stored.stamp).to.equal((await VolunteerRecordStamp.findById(v._id).lean())!.token);
      await view();
      expect((await VolunteerRecordCache.findById(v._id).lean())!.computedAt.getTime()).to.equal(stored.computedAt.getTime());

      await approveHours(served, asSelf(staff), 60);
      const approved = await view();
      expect(approved.tasks[0]).to.include({ status: 'approved', approvedHours: 1, attendedHours: 1.5 });
      expect(approved.totals).to.include({ hours: 1, tasksServed: 1 });
      expect(approved.timeBankHours).to.equal(1);

      await updateVolunteerTask((await VolunteerTask.findById(task._id))!, { title: '楼道清扫（三单元）' });
      expect((await view()).tasks[0]).to.include({ title: '楼道清扫（三单元）', status: 'approved' });
      const html = await request.get(`/api/v1/volunteers/${v._id}/record/print`).set('Authorization', token).expect(200);
      expect(html.text).to.include('楼道清扫（三单元）');
      // Dates and times in Shanghai: the task's day and its hours, the printing date.
      const at = (d: Date, f: string) => dayjs(d).tz('Asia/Shanghai').format(f);
      expect(html.text).to.include(`${at(task.start, 'YYYY-MM-DD')}<br><small>${at(task.start, 'HH:mm')}–${at(task.end, 'HH:mm')}</small>`);
      expect(html.text).to.include(`打印日期：${at(new Date(), 'YYYY年M月D日')}`);
    });
  });

  describe('createMonthlyVisitTasks', () => {
    it('creates one visit per elder tagged 特困 or 独居 and month, once, in batches', async () => {
      const other = await makeCommunity();
      const elders = await Promise.all([
        makeResident({ community: other._id, tags: ['特困'] }),
        makeResident({ community: other._id, tags: ['独居', '低保'] }),
        makeResident({ community: other._id, tags: ['独居'] }),
      ]);
      await makeResident({ community: other._id, tags: ['低保'] });
      await makeFacility(other);
      const now = atShanghai('2026-03-01', '07:00');
      const first = await createMonthlyVisitTasks('2026-03', now, 2);
      expect(first).to.deep.equal({ created: 2, existing: 0, remaining: 1 });
      const [second, racing] = await Promise.all([createMonthlyVisitTasks('2026-03', now, 10), createMonthlyVisitTasks('2026-03', now, 10)]);
      expect(second.created + racing.created).to.equal(1);
      expect(await createMonthlyVisitTasks('2026-03', now, 10)).to.deep.equal({ created: 0, existing: 3, remaining: 0 });
      const tasks = await VolunteerTask.find({ community: other._id, source: 'monthly_visit' });
      expect(tasks.map((t) => String(t.visitFor)).sort()).to.deep.equal(elders.map((e) => String(e._id)).sort());
      for (const t of tasks) {
        expect(t.type).to.equal('elderly_visit');
        expect(t.start.toISOString()).to.equal(atShanghai('2026-03-05', '09:30').toISOString());
        expect(t.skillsRequired).to.deep.equal(['探访']);
        expect(t.title).to.match(/^(特困|独居)老人月探访（2026年3月）$/);
        expect(String(t._id)).to.equal(String(taskIdForKey(`monthly-visit:${t.visitFor}:2026-03`)));
      }
      // Late in the month the visit is tomorrow; a month that is over gets none.
      expect((await createMonthlyVisitTasks('2026-04', atShanghai('2026-04-20', '10:00'), 10)).created).to.equal(3);
      const april = await VolunteerTask.findOne({ community: other._id, title: /2026年4月/ });
      expect(april!.start.toISOString()).to.equal(atShanghai('2026-04-21', '09:30').toISOString());
      expect(await createMonthlyVisitTasks('2026-02', now, 10)).to.deep.equal({ created: 0, existing: 0, remaining: 0 });
    });

    it('is open to admins only over the API', async () => {
      await request.post('/api/v1/volunteer-tasks/monthly-visits').set('Authorization', auth.staff).send({}).expect(403);
      const admin = await makeResident({ roles: ['admin'] });
      const res = await request.post('/api/v1/volunteer-tasks/monthly-visits').set('Authorization', await bearerFor(admin)).send({}).expect(200);
      expect(res.body).to.have.keys(['created', 'existing', 'remaining']);
    });
  });
});
