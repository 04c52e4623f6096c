import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { Child, ChildcareSession, Person, type PersonDoc } from '../../models/index.js';
import { seedDemo } from '../../src/seed/demo.js';
import { bearerFor } from '../support/auth.js';
import { createTestLogger } from '../support/logs.js';
import { useCleanStorage } from '../support/storage.js';
import { shot, signIn, startConsoleRig, type ConsoleRig } from './browser.js';

const PASSWORD = 'demo-console-pass';

describe('staff console in Chromium: childcare booking at the desk, a volunteer\'s time bank', () => {
  useCleanStorage();

  let rig: ConsoleRig;
  let page: Page;
  let staff: PersonDoc;
  let parent: PersonDoc;

  /** Types into the page's date picker: Element Plus keeps no data-test on its input. */
  async function pickDay(value: string) {
    const input = page.locator('.page-head .el-date-editor input').first();
    await input.fill(value);
    await input.press('Enter');
  }

  before(async () => {
    await seedDemo(createTestLogger(), { password: PASSWORD });
    rig = await startConsoleRig();
    staff = await Person.findOne({ phone: '13800000010' }).orFail(); // 何丽娜, the demo's staff sign-in
    parent = await Person.findOne({ phone: '13800000008' }).orFail(); // 郑晓雯, mother of 林朵朵
    ({ page } = await rig.newPage());
    await signIn(page, rig.baseUrl, 'staff', PASSWORD);
  });

  after(async () => {
    await rig?.close();
  });

  it('lists a parent\'s children for staff by name and age only, and refuses another resident', async () => {
    const res = await rig.app.request.get(`/api/v1/residents/${parent._id}/children`).set('Authorization', await bearerFor(staff));
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.items).to.have.length(1);
    expect(res.body.items[0]).to.have.keys(['id', 'name', 'ageMonths']);
    expect(res.body.items[0].name).to.equal('林朵朵');
    // Another resident, neither staff nor the parent's proxy, is refused.
    const stranger = await Person.findOne({ name: '陈桂兰' }).orFail();
    const refused = await rig.app.request.get(`/api/v1/residents/${parent._id}/children`).set('Authorization', await bearerFor(stranger));
    expect(refused.status).to.equal(403);
  });

  it('books a child at the desk, then puts her on the waitlist of a full session and shows her position', async () => {
    const child = await Child.findOne({ name: '林朵朵' }).orFail();
    // Two days on: past the day-before cut-off whatever the hour. The demo's 托小班 mornings and afternoons.
    const sessions = await ChildcareSession.find({ classType: '托小班' }).sort({ start: 1 });
    const days = [...new Set(sessions.map((s) => s.date))];
    const day = days[1]!;
    const afternoon = sessions.find((s) => s.date === day && s.start.getUTCHours() >= 5)!;
    // The afternoon is full: no places at all, so a booking joins the line.
    const full = await rig.app.request.patch(`/api/v1/childcare-sessions/${afternoon._id}`).set('Authorization', await bearerFor(staff))
      .send({ capacity: 0 });
    expect(full.status, JSON.stringify(full.body)).to.equal(200);

    await page.goto(`${rig.baseUrl}/console/childcare-desk`);
    await pickDay(day);
    await page.locator('[data-test=desk-sessions] label', { hasText: '08:30' }).filter({ hasText: '托小班' }).click();
    await page.fill('[data-test=desk-q]', '郑晓雯');
    await page.click('[data-test=desk-search]');
    await page.locator('[data-test=desk-parents] label', { hasText: '郑晓雯' }).click();
    await page.locator('[data-test=desk-children] label', { hasText: '林朵朵' }).waitFor();

    // Without the health declaration the refusal shows next to the button, nothing is sent.
    await page.click('[data-test=desk-book]');
    expect(await page.textContent('[data-test=desk-book-error]')).to.contain('健康声明');
    await page.locator('[data-test=desk-healthy]').click();
    await page.click('[data-test=desk-book]');
    await page.locator('[data-test=desk-outcome]').waitFor();
    expect(await page.textContent('[data-test=desk-outcome]')).to.contain('预约成功');
    const booked = await rig.app.request.get(`/api/v1/childcare-bookings/mine`).query({ childId: String(child._id) })
      .set('Authorization', await bearerFor(parent));
    expect(booked.body.items.map((b: { session: string }) => b.session)).to.include(String(sessions.find((s) => s.date === day && s !== afternoon && s.start < afternoon.start)!._id));

    // Booking again the same morning is refused; the API's message shows next to the button.
    await page.click('[data-test=desk-book]');
    await page.locator('[data-test=desk-book-error]').waitFor();
    expect((await page.textContent('[data-test=desk-book-error]'))!.length).to.be.greaterThan(2);

    await page.locator('[data-test=desk-sessions] label', { hasText: '14:00' }).filter({ hasText: '托小班' }).click();
    await page.click('[data-test=desk-book]');
    await page.locator('[data-test=desk-outcome]').waitFor();
    expect(await page.textContent('[data-test=desk-outcome]')).to.contain('排第 1 位');
    await shot(page, 'childcare-desk');
  });

  it('shows a volunteer\'s time-bank balance and ledger, absences and suspension', async () => {
    const volunteer = await Person.findOne({ name: '吴海燕' }).orFail(); // a verified demo volunteer
    const staffAuth = await bearerFor(staff);
    const adjusted = await rig.app.request.post(`/api/v1/volunteers/${volunteer._id}/time-bank/adjust`).set('Authorization', staffAuth)
      .set('Idempotency-Key', 'e2e-desk-adjust').send({ hours: 2.5, reason: '补记重阳节活动服务' });
    expect(adjusted.status, JSON.stringify(adjusted.body)).to.equal(201);
    const suspended = await rig.app.request.post(`/api/v1/volunteers/${volunteer._id}/suspend`).set('Authorization', staffAuth)
      .send({ reason: '多次未到岗' });
    expect(suspended.status, JSON.stringify(suspended.body)).to.equal(200);

    await page.goto(`${rig.baseUrl}/console/time-bank`);
    await page.click('[data-test=tb-volunteer]');
    await page.locator('.el-select-dropdown__item', { hasText: '吴海燕' }).click();
    await page.locator('[data-test=tb-balance]').waitFor();
    expect(await page.textContent('[data-test=tb-balance]')).to.contain(`${adjusted.body.balanceHours} 小时`);
    expect(await page.textContent('[data-test=tb-status]')).to.contain('已暂停').and.contain('多次未到岗');
    expect(await page.textContent('[data-test=tb-ledger]')).to.contain('补记重阳节活动服务').and.contain('调整');
    expect(await page.textContent('[data-test=tb-absences]')).to.contain('没有缺勤记录');
    await shot(page, 'time-bank');
  });
});
