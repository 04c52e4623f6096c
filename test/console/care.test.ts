import { expect } from 'chai';
import ExcelJS from 'exceljs';
import type { Page } from 'playwright-core';
import { shanghaiDay } from '../../models/calendar.js';
import { Child, ChildcareBooking, Facility, Person, VolunteerAssignment } from '../../models/index.js';
import { bookChildcare } from '../../src/commands/childcareBookings.js';
import { findChildcareSession } from '../../src/commands/childcareSessions.js';
import { loadAuthUser } from '../../src/middlewares/authenticate.js';
import { seedDemo } from '../../src/seed/demo.js';
import { HEALTHY, makeAssignment, makeSessionNow, makeTask } from '../factories/index.js';
import { testConfig, testEnvironment } from '../support/env.js';
import { createTestLogger } from '../support/logs.js';
import { useCleanStorage } from '../support/storage.js';
import { shot, signIn, startConsoleRig, type ConsoleRig } from './browser.js';

const PASSWORD = 'demo-console-pass';

describe('staff console in Chromium: childcare, volunteers, dashboard', () => {
  useCleanStorage();

  let rig: ConsoleRig;
  let page: Page;

  before(async () => {
    await seedDemo(createTestLogger(), { password: PASSWORD });
    rig = await startConsoleRig();
    ({ page } = await rig.newPage());
    await signIn(page, rig.baseUrl, 'staff', PASSWORD);
  });

  after(async () => {
    await rig?.close();
  });

  it('records a drop-off with the health check on the printable attendance sheet', async () => {
    const nursery = await Facility.findOne({ kind: 'childcare_centre' }).orFail();
    const child = await Child.findOne({ name: '林朵朵' }).orFail();
    const parent = await Person.findById(child.parents[0]).orFail();
    const session = await makeSessionNow(nursery, { classType: '托小班' });
    const booked = await bookChildcare({ rules: testConfig().childcare, redis: testEnvironment().redis }, await loadAuthUser(String(parent._id), 'test'),
      await findChildcareSession(String(session._id)), child, { healthDeclaration: HEALTHY }, new Date(Date.now() - 2 * 86_400_000));
    expect(booked.kind).to.equal('booked');

    await page.goto(`${rig.baseUrl}/console/childcare/${session._id}/attendance`);
    const row = page.locator('[data-child="林朵朵"]');
    await row.getByText('待入托').waitFor();
    await row.getByRole('button', { name: '入托晨检' }).click();
    await page.getByRole('dialog').getByPlaceholder('如：精神好').fill('精神好');
    await page.locator('[data-test=drop-off]').click();
    await page.getByText('已登记入托').waitFor();
    await row.getByText('在园').waitFor();
    await row.getByText('36.5℃').waitFor();
    const stored = await ChildcareBooking.findOne({ session: session._id, child: child._id }).orFail();
    expect(stored.status).to.equal('dropped_off');
    expect(stored.healthCheck?.temperature).to.equal(36.5);
    await page.emulateMedia({ media: 'print' });
    await shot(page, 'attendance-print');
    await page.emulateMedia({ media: 'screen' });
  });

  it('approves a volunteer\'s hours and exports them as .xlsx', async () => {
    const centre = await Facility.findOne({ kind: 'community_centre' }).orFail();
    const volunteer = await Person.findOne({ name: '吴海燕' }).orFail();
    const task = await makeTask(centre, { title: '陪伴长者读报', start: new Date(Date.now() - 5 * 3_600_000) });
    const assignment = await makeAssignment(task, volunteer, { status: 'checked_out', approvedMinutes: undefined, attendedMinutes: 120, hoursEligible: true });

    await page.getByRole('menuitem', { name: '志愿服务时长' }).click();
    const row = page.locator('[data-test=hours] tr', { hasText: '陪伴长者读报' });
    await row.getByText('吴海燕').waitFor();
    await row.locator('[data-test=approve-hours]').click();
    await page.getByText('已确认 吴海燕 的 2 小时').waitFor();
    const approved = await VolunteerAssignment.findById(assignment._id).orFail();
    expect(approved.status).to.equal('approved');
    expect(approved.approvedMinutes).to.equal(120);

    await page.getByText('已确认', { exact: true }).click();
    await page.locator('[data-test=hours] tr', { hasText: '陪伴长者读报' }).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test=export-hours]').click()]);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile((await download.path())!);
    const ws = wb.getWorksheet('服务时长')!;
    expect(ws.getRow(1).values).to.deep.equal([undefined, '志愿者', '任务', '开始', '实际时长（小时）', '认定时长（小时）', '状态']);
    expect(ws.getRow(2).getCell(1).value).to.equal('吴海燕');
    expect(ws.getRow(2).getCell(5).value).to.equal(2);
  });

  it('draws the dashboard from the dashboard endpoint', async () => {
    await page.getByRole('menuitem', { name: '数据看板' }).click();
    await page.locator('[data-test=visit-rate]').waitFor();
    await page.locator('[data-test=charts] canvas').first().waitFor();
    expect(await page.locator('[data-test=charts] canvas').count()).to.be.greaterThanOrEqual(6);
    await shot(page, 'dashboard');
  });

  it('switches the dashboard to this month: the API is asked for the 1st to today', async () => {
    const today = shanghaiDay(new Date());
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/dashboard?') && r.status() === 200),
      page.locator('[data-test=dashboard-span]').getByText('本月').click(),
    ]);
    expect(new URL(answer.url()).searchParams.get('from')).to.equal(`${today.slice(0, 8)}01`);
    await page.getByText(`${today.slice(0, 8)}01 至 ${today}`).waitFor();
    expect(await page.locator('[data-test=charts] canvas').count()).to.be.greaterThanOrEqual(6);
  });
});
