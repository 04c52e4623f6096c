import { expect } from 'chai';
import type { Page } from 'playwright-core';
import {
  Notification, Person, TimeBankEntry, VolunteerAbsence, VolunteerAssignment, VolunteerTask,
  type CommunityDoc, type FacilityDoc, type PersonDoc,
} from '../../models/index.js';
import { bearerFor } from '../support/auth.js';
import { useCleanStorage } from '../support/storage.js';
import { makeAssignment, makeCommunity, makeFacility, makeStaff, makeTask, makeVolunteer, nextSeq } from '../factories/index.js';
import { shot, signIn, startConsoleRig, type ConsoleRig } from './browser.js';

const PASSWORD = 'volunteer-console-pass';
const HOUR = 3600_000;
/** A start on a 15-minute boundary, `hours` from now. */
const inHours = (hours: number) => new Date(Math.ceil((Date.now() + hours * HOUR) / 900_000) * 900_000);

describe('staff console in Chromium: volunteers\' time bank, claims and tasks', () => {
  useCleanStorage();

  let rig: ConsoleRig;
  let page: Page;
  let community: CommunityDoc;
  let facility: FacilityDoc;
  let staff: PersonDoc;
  let volunteer: PersonDoc;

  const api = () => rig.app.request;
  /** Element Plus puts a data-test on an el-input's <input>, and on an el-input-number's wrapper. */
  const field = (testId: string) => page.locator(`input[data-test=${testId}], [data-test=${testId}] input`).first();
  async function fillNumber(testId: string, value: string) {
    await field(testId).fill(value);
    await field(testId).press('Tab');
  }
  /** Confirms an Element Plus confirmation box by its button. */
  const confirmBox = (button: string) => page.locator('.el-message-box').getByRole('button', { name: button }).click();

  before(async () => {
    rig = await startConsoleRig();
    community = await makeCommunity();
    facility = await makeFacility(community);
    const username = `vol-staff-${nextSeq()}`;
    staff = (await makeStaff({ community: community._id, name: '钱社工' }, { username, password: PASSWORD })).person;
    volunteer = await makeVolunteer({ community: community._id, name: '周志愿' });
    ({ page } = await rig.newPage());
    await signIn(page, rig.baseUrl, username, PASSWORD);
  });

  after(async () => {
    await rig?.close();
  });

  describe('志愿者时间银行', () => {
    let served: Awaited<ReturnType<typeof makeTask>>;
    let later: Awaited<ReturnType<typeof makeTask>>;
    let soon: Awaited<ReturnType<typeof makeTask>>;

    before(async () => {
      const volunteerAuth = await bearerFor(volunteer);
      const staffAuth = await bearerFor(staff);
      // Served three days ago and checked out; staff confirm the 2 hours through the API: the time bank has 2 hours.
      const start = new Date(Math.floor((Date.now() - 72 * HOUR) / 900_000) * 900_000);
      served = await makeTask(facility, { title: '上周探访独居老人', start, end: new Date(start.getTime() + 2 * HOUR) });
      const out = await makeAssignment(served, volunteer, { status: 'checked_out', approvedMinutes: undefined, points: undefined });
      const approved = await api().post(`/api/v1/volunteer-assignments/${out._id}/approve`).set('Authorization', staffAuth).send({});
      expect(approved.status, JSON.stringify(approved.body)).to.equal(200);
      // Claimed two days on (still on it); claimed five hours on and released late: an absence.
      later = await makeTask(facility, { title: '周末场地布置', start: inHours(48) });
      soon = await makeTask(facility, { title: '今晚社区晚会', start: inHours(5) });
      for (const task of [later, soon]) {
        const claimed = await api().post(`/api/v1/volunteer-tasks/${task._id}/claim`).set('Authorization', volunteerAuth)
          .set('Idempotency-Key', `e2e-vol-claim-${task._id}`);
        expect(claimed.status, JSON.stringify(claimed.body)).to.equal(201);
      }
      const mine = await VolunteerAssignment.findOne({ task: soon._id, volunteer: volunteer._id }).orFail();
      const released = await api().post(`/api/v1/volunteer-assignments/${mine._id}/release`).set('Authorization', volunteerAuth);
      expect(released.status, JSON.stringify(released.body)).to.equal(200);
      expect(released.body.late).to.equal(true);

      await page.goto(`${rig.baseUrl}/console/time-bank`);
      await page.click('[data-test=tb-volunteer]');
      await page.locator('.el-select-dropdown__item', { hasText: '周志愿' }).click();
      await page.locator('[data-test=tb-balance]').getByText('2 小时').waitFor();
    });

    it('shows the volunteer\'s claims from their side, newest first, whatever their status', async () => {
      await page.getByRole('tab', { name: '认领记录' }).click();
      const rows = page.locator('[data-test=tb-claims] .el-table__body tr');
      await rows.first().waitFor();
      expect(await rows.count()).to.equal(3);
      const texts = await rows.allTextContents();
      expect(texts[0]).to.contain('周末场地布置').and.contain('已认领');
      expect(texts[1]).to.contain('今晚社区晚会').and.contain('已退出');
      expect(texts[2]).to.contain('上周探访独居老人').and.contain('已确认');
      await shot(page, 'time-bank-claims');
    });

    it('redeems hours for a service: refused over the balance (the form keeps what was typed), then done', async () => {
      await page.getByRole('tab', { name: '时间银行明细' }).click();
      await page.click('[data-test=tb-open-redeem]');
      const dialog = page.getByRole('dialog', { name: '兑换时间银行时长' });
      await dialog.locator('[data-test=tb-redeem-service]').click();
      await page.getByRole('option', { name: '助餐' }).click();
      await fillNumber('tb-redeem-hours', '5');
      await field('tb-redeem-note').fill('重阳节助餐');
      await dialog.locator('[data-test=tb-redeem]').click();
      await confirmBox('兑换');
      await dialog.locator('[data-test=tb-redeem-error]').getByText('时间银行余额不足').waitFor();
      expect(await field('tb-redeem-hours').inputValue()).to.equal('5.00');
      expect(await field('tb-redeem-note').inputValue()).to.equal('重阳节助餐');
      expect(await TimeBankEntry.countDocuments({ volunteer: volunteer._id, kind: 'redeemed' })).to.equal(0);

      await fillNumber('tb-redeem-hours', '1.5');
      await dialog.locator('[data-test=tb-redeem]').click();
      await confirmBox('兑换');
      await page.getByText('已兑换 1.5 小时「助餐」，余额 0.5 小时').waitFor();
      await page.locator('[data-test=tb-balance]').getByText('0.5 小时').waitFor();
      const ledger = page.locator('[data-test=tb-ledger] .el-table__body tr').first();
      await ledger.getByText('兑换').waitFor();
      expect(await ledger.textContent()).to.contain('-1.5').and.contain('助餐');
      const entry = await TimeBankEntry.findOne({ volunteer: volunteer._id, kind: 'redeemed' }).orFail();
      expect(entry.minutes).to.equal(-90);
    });

    it('adjusts hours with a reason (refused without one) and the ledger shows it', async () => {
      await page.click('[data-test=tb-open-adjust]');
      const dialog = page.getByRole('dialog', { name: '调整时间银行时长' });
      await fillNumber('tb-adjust-hours', '3');
      await dialog.locator('[data-test=tb-adjust]').click();
      await dialog.locator('[data-test=tb-adjust-error]').getByText('请填写调整原因').waitFor();
      await field('tb-adjust-reason').fill('补记十月敬老院服务');
      await dialog.locator('[data-test=tb-adjust]').click();
      await page.getByText('已调整 +3 小时，余额 3.5 小时').waitFor();
      await page.locator('[data-test=tb-balance]').getByText('3.5 小时').waitFor();
      const ledger = page.locator('[data-test=tb-ledger] .el-table__body tr').first();
      await ledger.getByText('补记十月敬老院服务').waitFor();
      expect(await ledger.textContent()).to.contain('调整').and.contain('+3');
    });

    it('excuses an absence with a reason: it no longer counts', async () => {
      await page.getByRole('tab', { name: /缺勤记录/ }).click();
      const row = page.locator('[data-test=tb-absences] .el-table__body tr', { hasText: '临近开始才退出' });
      await row.getByText('无故（计入暂停）').waitFor();
      await row.locator('[data-test=tb-excuse]').click();
      await row.locator('[data-test=tb-excuse-error]').getByText('请写明免除的原因').waitFor();
      await row.locator('input[data-test=tb-excuse-reason], [data-test=tb-excuse-reason] input').first().fill('家中老人突发住院');
      await row.locator('[data-test=tb-excuse]').click();
      await page.getByText('已认定为有故缺勤，不再计入暂停').waitFor();
      await row.getByText('有故：家中老人突发住院').waitFor();
      await page.getByRole('tab', { name: '缺勤记录（今年无故 0 次）' }).waitFor();
      const absence = await VolunteerAbsence.findOne({ volunteer: volunteer._id }).orFail();
      expect(absence.excused).to.equal(true);
      expect(absence.excuseReason).to.equal('家中老人突发住院');
    });

    it('suspends with a reason (after a confirmation), then reinstates', async () => {
      await page.click('[data-test=tb-open-suspend]');
      const dialog = page.getByRole('dialog', { name: '暂停志愿者资格' });
      await dialog.locator('[data-test=tb-suspend]').click();
      await dialog.locator('[data-test=tb-suspend-error]').getByText('请填写原因').waitFor();
      await field('tb-suspend-reason').fill('服务中态度问题，待沟通');
      await dialog.locator('[data-test=tb-suspend]').click();
      // Stepping back sends nothing.
      await page.locator('.el-message-box').getByRole('button', { name: '再想想' }).click();
      expect((await Person.findById(volunteer._id).orFail()).volunteer?.suspendedAt).to.equal(undefined);
      await dialog.locator('[data-test=tb-suspend]').click();
      await confirmBox('暂停资格');
      await page.getByText('已暂停 周志愿 的志愿者资格').waitFor();
      await page.locator('[data-test=tb-status]').getByText('服务中态度问题，待沟通').waitFor();
      expect(await Notification.countDocuments({ person: volunteer._id, kind: 'volunteer_suspended' })).to.equal(1);
      await shot(page, 'time-bank-suspended');

      await page.click('[data-test=tb-reinstate]');
      await page.getByText('已恢复 周志愿 的志愿者资格').waitFor();
      await page.locator('[data-test=tb-status]').getByText('正常').waitFor();
      await page.locator('[data-test=tb-open-suspend]').waitFor();
      expect((await Person.findById(volunteer._id).orFail()).volunteer?.suspendedAt).to.equal(undefined);
    });
  });

  describe('志愿任务', () => {
    let task: Awaited<ReturnType<typeof makeTask>>;

    before(async () => {
      task = await makeTask(facility, { title: '探访孤寡老人', start: inHours(72), peopleNeeded: 2 });
      const claimed = await api().post(`/api/v1/volunteer-tasks/${task._id}/claim`).set('Authorization', await bearerFor(volunteer))
        .set('Idempotency-Key', `e2e-vol-claim-${task._id}`);
      expect(claimed.status, JSON.stringify(claimed.body)).to.equal(201);
      await page.goto(`${rig.baseUrl}/console/volunteer-tasks`);
      await page.locator('[data-test=tasks] tr', { hasText: '探访孤寡老人' }).locator('[data-test=task-open]').click();
      await page.locator('[data-test=roster] tr', { hasText: '周志愿' }).waitFor();
    });

    it('edits a task: a missing name refused, then the new name, place and people saved', async () => {
      await page.click('[data-test=task-edit]');
      const dialog = page.getByRole('dialog', { name: '编辑志愿任务' });
      await field('edit-title').fill('');
      await dialog.locator('[data-test=task-save]').click();
      await dialog.locator('[data-test=task-edit-error]').getByText('请填写任务名称').waitFor();
      await field('edit-title').fill('探访独居老人（周三）');
      await field('edit-place').fill('幸福里 3 栋');
      await fillNumber('edit-people', '4');
      await dialog.locator('[data-test=task-save]').click();
      await page.getByText('已保存「探访独居老人（周三）」').waitFor();
      await page.locator('[data-test=tasks] tr', { hasText: '探访独居老人（周三）' }).getByText('1 / 4').waitFor();
      const saved = await VolunteerTask.findById(task._id).orFail();
      expect(saved).to.deep.include({ title: '探访独居老人（周三）', place: '幸福里 3 栋', peopleNeeded: 4 });
      expect(saved.start.getTime()).to.equal(task.start.getTime());
    });

    it('cancels a task with a reason (refused without one): the volunteer on it is taken off and told', async () => {
      await page.click('[data-test=task-cancel]');
      await page.locator('[data-test=task-cancel-error]').getByText('请写明取消任务的原因').waitFor();
      await field('task-cancel-reason').fill('暴雨预警，改期');
      await page.click('[data-test=task-cancel]');
      await confirmBox('取消任务');
      await page.getByText('已取消「探访独居老人（周三）」，已通知名单上的志愿者').waitFor();
      await page.locator('[data-test=task-cancelled]').getByText('暴雨预警，改期').waitFor();
      await page.locator('[data-test=roster] tr', { hasText: '周志愿' }).getByText('已取消').waitFor();
      await shot(page, 'volunteer-task-cancelled');
      expect((await VolunteerTask.findById(task._id).orFail()).status).to.equal('cancelled');
      const note = await Notification.findOne({ person: volunteer._id, kind: 'volunteer_task_cancelled' }).orFail();
      expect(note.text).to.contain('暴雨预警，改期');
    });
  });
});
