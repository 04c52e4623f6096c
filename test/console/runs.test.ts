import { expect } from 'chai';
import ExcelJS from 'exceljs';
import type { Page } from 'playwright-core';
import { dayjs, shanghaiDay } from '../../models/calendar.js';
import { DeliveryRun } from '../../models/deliveryRun.js';
import { Facility, MealMenu, Person, VolunteerAssignment, VolunteerTask, type FacilityDoc, type PersonDoc } from '../../models/index.js';
import { seedDemo } from '../../src/seed/demo.js';
import { bearerFor } from '../support/auth.js';
import { createTestLogger } from '../support/logs.js';
import { useCleanStorage } from '../support/storage.js';
import { shot, signIn, startConsoleRig, type ConsoleRig } from './browser.js';

const PASSWORD = 'demo-console-pass';

describe('staff console in Chromium: delivery runs, volunteer tasks, the monthly visit report', () => {
  useCleanStorage();

  let rig: ConsoleRig;
  let page: Page;
  let kitchen: FacilityDoc;
  let staff: PersonDoc;
  let volunteer: PersonDoc;
  // A day past the demo's week of menus: this file publishes its own.
  const day = dayjs.utc(shanghaiDay(new Date())).add(10, 'day').format('YYYY-MM-DD');

  /** Types into the page's first date (or month) picker: Element Plus keeps no data-test on its input. */
  async function pickDay(value: string) {
    const input = page.locator('.page-head .el-date-editor input').first();
    await input.fill(value);
    await input.press('Enter');
  }

  before(async () => {
    await seedDemo(createTestLogger(), { password: PASSWORD });
    rig = await startConsoleRig();
    kitchen = await Facility.findOne({ kind: 'kitchen' }).orFail();
    staff = await Person.findOne({ phone: '13800000010' }).orFail(); // 何丽娜, the demo's staff sign-in
    volunteer = await Person.findOne({ name: '吴海燕' }).orFail(); // a verified demo volunteer
    ({ page } = await rig.newPage());
    await signIn(page, rig.baseUrl, 'staff', PASSWORD);
  });

  after(async () => {
    await rig?.close();
  });

  it('lists a day\'s delivery runs with the volunteers who claimed them, and the runs still short of people', async () => {
    const api = rig.app.request;
    const staffAuth = await bearerFor(staff);
    const published = await api.put(`/api/v1/kitchens/${kitchen._id}/menus/${day}/lunch`).set('Authorization', staffAuth)
      .send({ dishes: [{ name: '红烧冬瓜' }], price: 1200, capacity: 50 });
    expect(published.status, JSON.stringify(published.body)).to.be.oneOf([200, 201]);
    const menuId = published.body.id as string;
    // Two elders in two grids order delivery; the window closes; the cut-off makes one run per grid.
    for (const name of ['陈桂兰', '孙德福']) {
      const elder = await Person.findOne({ name }).orFail();
      const res = await api.post(`/api/v1/meal-menus/${menuId}/orders`).set('Authorization', await bearerFor(elder))
        .set('Idempotency-Key', `e2e-runs-${elder._id}`).send({ mode: 'delivery', quantity: 1 });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
    }
    await MealMenu.updateOne({ _id: menuId }, { $set: { cutoff: new Date(Date.now() - 60_000) } });
    const cut = await api.post(`/api/v1/meal-menus/${menuId}/cutoff`).set('Authorization', staffAuth);
    expect(cut.status, JSON.stringify(cut.body)).to.equal(200);
    const runs = await DeliveryRun.find({ menu: menuId }).sort({ grid: 1 });
    expect(runs).to.have.length(2);
    expect(runs.every((r) => r.volunteerTask)).to.equal(true);
    // The volunteer is put on the first run's task.
    const assigned = await api.post(`/api/v1/volunteer-tasks/${runs[0]!.volunteerTask}/assignments`).set('Authorization', staffAuth)
      .set('Idempotency-Key', `e2e-runs-assign-${Date.now()}`).send({ volunteerId: String(volunteer._id) });
    expect(assigned.status, JSON.stringify(assigned.body)).to.equal(201);

    await page.getByRole('menuitem', { name: '送餐任务' }).click();
    await page.locator('[data-test=runs]').waitFor();
    await pickDay(day);
    await page.locator('[data-test=runs-summary]').getByText('共 2 条送餐路线', { exact: false }).waitFor();
    const claimedRow = page.locator('[data-test=runs] tr', { hasText: runs[0]!.grid });
    await claimedRow.getByText('吴海燕').waitFor();
    const shortRow = page.locator('[data-test=runs] tr', { hasText: runs[1]!.grid });
    await shortRow.getByText('还没有人认领').waitFor();
    await shortRow.locator('[data-test=run-short]').waitFor();
    await shot(page, 'delivery-runs');

    await page.locator('[data-test=runs-short-only]').click();
    await claimedRow.waitFor({ state: 'detached' });
    await shortRow.locator('[data-test=run-short]').waitFor();
    expect(await VolunteerAssignment.countDocuments({ task: runs[0]!.volunteerTask })).to.equal(1);

    // 指派志愿者 opens the short run's task, with its check-in code, in 志愿任务.
    const shortTask = await VolunteerTask.findById(runs[1]!.volunteerTask).orFail();
    await shortRow.getByRole('button', { name: '指派志愿者' }).click();
    await page.locator('[data-test=task-site-code]').getByText(shortTask.siteCode).waitFor();
    await page.keyboard.press('Escape');
    await page.locator('[data-test=roster]').waitFor({ state: 'hidden' });
  });

  it('creates a volunteer task, shows its check-in code, assigns a volunteer (a second time refused, shown) and unassigns with a reason', async () => {
    await page.getByRole('menuitem', { name: '志愿任务' }).click();
    await page.locator('[data-test=tasks]').waitFor();
    await page.locator('[data-test=task-new]').click();
    const dialog = page.getByRole('dialog', { name: '发布志愿任务' });
    // Without a name the form says what is missing and sends nothing.
    await dialog.locator('[data-test=task-create]').click();
    await dialog.locator('[data-test=task-create-error]').getByText('请填写任务名称').waitFor();
    await dialog.locator('[data-test=task-title]').fill('重阳节活动搬椅子');
    await dialog.locator('[data-test=task-place]').fill('社区活动中心一楼大厅');
    await dialog.locator('[data-test=task-create]').click();
    await page.getByText('已发布「重阳节活动搬椅子」').waitFor();
    const task = await VolunteerTask.findOne({ title: '重阳节活动搬椅子' }).orFail();
    expect(task.peopleNeeded).to.equal(2);
    expect(task.place).to.equal('社区活动中心一楼大厅');

    const row = page.locator('[data-test=tasks] tr', { hasText: '重阳节活动搬椅子' });
    await row.locator('[data-test=task-open]').click();
    await page.locator('[data-test=task-site-code]').getByText(task.siteCode).waitFor();
    const pickVolunteer = async () => {
      await page.locator('[data-test=assign-volunteer]').click();
      await page.getByRole('option', { name: '吴海燕' }).click();
      await page.locator('[data-test=assign]').click();
    };
    await pickVolunteer();
    await page.getByText('已指派 吴海燕，志愿者会收到通知').waitFor();
    const entry = page.locator('[data-test=roster] tr', { hasText: '吴海燕' });
    await entry.getByText('已认领').waitFor();
    // The same volunteer again: the API's refusal appears next to the picker.
    await pickVolunteer();
    await page.locator('[data-test=assign-error]').waitFor();
    expect(await VolunteerAssignment.countDocuments({ task: task._id, volunteer: volunteer._id })).to.equal(1);
    await shot(page, 'volunteer-task-roster');

    await entry.locator('[data-test=unassign]').click();
    await entry.locator('[data-test=unassign-error]').getByText('请写明取消指派的原因').waitFor();
    await entry.locator('[data-test=unassign-reason]').fill('当天另有安排');
    await entry.locator('[data-test=unassign]').click();
    await page.getByText('已取消 吴海燕 的指派').waitFor();
    await entry.getByText('已取消指派').waitFor();
    const a = await VolunteerAssignment.findOne({ task: task._id, volunteer: volunteer._id }).orFail();
    expect(a.status).to.equal('unassigned');
    await page.keyboard.press('Escape'); // the drawer closes; the side menu is reachable again
    await page.locator('[data-test=roster]').waitFor({ state: 'hidden' });
  });

  it('shows the month\'s 特困 / 独居 elders with and without a visit, the visit rate, and exports both lists', async () => {
    const chen = await Person.findOne({ name: '陈桂兰' }).orFail(); // 独居
    const zhao = await Person.findOne({ name: '赵秀英' }).orFail(); // 特困
    const staffAuth = await bearerFor(staff);
    const visited = await rig.app.request.post(`/api/v1/residents/${chen._id}/wellness-visits`).set('Authorization', staffAuth)
      .send({ note: '上门探访，老人精神好' });
    expect(visited.status, JSON.stringify(visited.body)).to.equal(201);
    const report = await rig.app.request.get(`/api/v1/communities/${chen.community}/wellness-visits/report`).set('Authorization', staffAuth);
    expect(report.status).to.equal(200);

    await page.getByRole('menuitem', { name: '探访月报' }).click();
    const stats = page.locator('[data-test=visit-stats]');
    await stats.getByText(String(report.body.elders), { exact: true }).first().waitFor();
    await page.locator('[data-test=visit-done] tr', { hasText: '陈桂兰' }).getByText('独居').waitFor();
    await page.locator('[data-test=visit-missing] tr', { hasText: '赵秀英' }).getByText('特困').waitFor();
    expect(await page.locator('[data-test=visit-missing] tr', { hasText: '陈桂兰' }).count()).to.equal(0);
    await page.locator('[data-test=visit-rate]').getByText(`${Math.round(report.body.rate * 1000) / 10}%`).waitFor();
    await shot(page, 'visit-report');

    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test=export-visits]').click()]);
    expect(download.suggestedFilename()).to.equal(`探访月报-${report.body.month}.xlsx`);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile((await download.path())!);
    const ws = wb.getWorksheet('探访月报')!;
    expect(ws.getRow(1).values).to.deep.equal([undefined, '老人', '类别', '网格', '楼栋', '本月是否探访', '本月次数', '最近一次探访']);
    const rows = new Map<string, unknown>();
    ws.eachRow((row, n) => { if (n > 1) rows.set(String(row.getCell(1).value), row.getCell(5).value); });
    expect(rows.get('陈桂兰')).to.equal('已探访');
    expect(rows.get(zhao.name!)).to.equal('未探访');
    expect(rows.size).to.equal(report.body.elders);

    // Last year's month: nobody visited, every elder listed as missing.
    await pickDay(`${Number(report.body.month.slice(0, 4)) - 1}-01`);
    await page.locator('[data-test=visit-done]').getByText('本月还没有探访记录').waitFor();
    await page.locator('[data-test=visit-missing] tr', { hasText: '陈桂兰' }).waitFor();
  });
});
