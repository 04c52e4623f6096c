import { expect } from 'chai';
import { Types } from 'mongoose';
import type { Page } from 'playwright-core';
import { atShanghai, dayjs, shanghaiDay } from '../../models/calendar.js';
import { Facility, Person, ProxyLink, Room, RoomBooking, WellnessAlert, type PersonDoc } from '../../models/index.js';
import { seedDemo } from '../../src/seed/demo.js';
import { makeResident } from '../factories/index.js';
import { bearerFor } from '../support/auth.js';
import { createTestLogger } from '../support/logs.js';
import { useCleanStorage } from '../support/storage.js';
import { shot, signIn, startConsoleRig, type ConsoleRig } from './browser.js';

const PASSWORD = 'demo-console-pass';

describe('staff console in Chromium: desk check-ins, weekly series, wellness alerts, residents', () => {
  useCleanStorage();

  let rig: ConsoleRig;
  let page: Page;
  let resident: PersonDoc;

  before(async () => {
    await seedDemo(createTestLogger(), { password: PASSWORD });
    rig = await startConsoleRig();
    resident = await Person.findOne({ phone: '13800000005' }).orFail(); // 王建国, an active resident
    ({ page } = await rig.newPage());
    await signIn(page, rig.baseUrl, 'staff', PASSWORD);
  });

  after(async () => {
    await rig?.close();
  });

  it('checks a resident in at the desk and lists today\'s no-shows', async () => {
    // Written straight to the store: whatever the hour of the run, one booking is open for check-in now
    // and one was released as a no-show earlier today (opening hours would refuse them through the API).
    const centre = await Facility.findOne({ kind: 'community_centre' }).orFail();
    const room = await Room.findOne({ facility: centre._id, name: '会议室' }).orFail();
    const today = shanghaiDay(new Date());
    const now = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    const base = { room: room._id, facility: centre._id, community: centre.community, bookedFor: resident._id, bookedBy: resident._id, attendees: 4, quotaWeek: 'desk-test' };
    const open = await RoomBooking.create({ ...base, start: now, end: new Date(now.getTime() + 3_600_000), purpose: '楼组长碰头会', status: 'confirmed' });
    await RoomBooking.create({ ...base, start: atShanghai(today, '00:00'), end: atShanghai(today, '00:30'), purpose: '读书会（未到）', status: 'released_no_show' });

    await page.getByRole('menuitem', { name: '今日签到' }).click();
    await page.locator('[data-test=desk-no-shows] tr', { hasText: '读书会（未到）' }).getByText('王建国').waitFor();
    const row = page.locator('[data-test=desk-waiting] tr', { hasText: '楼组长碰头会' });
    await row.getByText('会议室').waitFor();
    await row.locator('[data-test=desk-check-in]').click();
    await page.getByText('王建国 已签到').waitFor();
    await page.locator('[data-test=desk-checked-in] tr', { hasText: '楼组长碰头会' }).waitFor();
    expect((await RoomBooking.findById(open._id).orFail()).status).to.equal('checked_in');
    await shot(page, 'desk-today');
  });

  it('previews a weekly series with its conflicts, then books only the free weeks', async () => {
    const centre = await Facility.findOne({ kind: 'community_centre' }).orFail();
    const dance = await Room.findOne({ facility: centre._id, name: '舞蹈室' }).orFail();
    // The page proposes tomorrow 10:00; the resident already holds the second week's slot.
    const first = dayjs.utc(shanghaiDay(new Date())).add(1, 'day').format('YYYY-MM-DD');
    const second = dayjs.utc(first).add(7, 'day').format('YYYY-MM-DD');
    const taken = await rig.app.request.post(`/api/v1/rooms/${dance._id}/bookings`)
      .set('Authorization', await bearerFor(resident)).set('Idempotency-Key', `e2e-series-${Date.now()}`)
      .send({ start: atShanghai(second, '10:00'), end: atShanghai(second, '11:00'), purpose: '太极拳', attendees: 6 });
    expect(taken.status, JSON.stringify(taken.body)).to.equal(201);

    await page.getByRole('menuitem', { name: '每周重复预约' }).click();
    await page.locator('[data-test=series-search]').fill('王建国');
    await page.locator('[data-test=series-search]').press('Enter');
    await page.getByText('王建国', { exact: false }).first().waitFor();
    await page.locator('[data-test=series-room]').click();
    await page.getByRole('option', { name: '舞蹈室' }).click();
    await page.locator('[data-test=series-purpose]').fill('广场舞排练');
    await page.locator('[data-test=series-preview]').click();
    const summary = page.locator('[data-test=series-summary]');
    await summary.getByText('预览：共 4 次，空闲 3 次，冲突 1 次（尚未预约）').waitFor();
    const conflict = page.locator('[data-test=series-occurrences] tr', { hasText: '冲突' });
    await conflict.getByText('太极拳').waitFor();
    expect(await RoomBooking.countDocuments({ purpose: '广场舞排练' })).to.equal(0);
    await shot(page, 'series-preview');

    // All or nothing books nothing and says why, next to the list.
    await page.locator('[data-test=series-all]').click();
    await page.locator('[data-test=series-error]').waitFor();
    expect(await RoomBooking.countDocuments({ purpose: '广场舞排练' })).to.equal(0);

    await page.locator('[data-test=series-free-only]').click();
    await summary.getByText('已预约 3 次，冲突 1 次').waitFor();
    const booked = await RoomBooking.find({ purpose: '广场舞排练' });
    expect(booked).to.have.length(3);
    expect(booked.every((b) => String(b.bookedFor) === String(resident._id))).to.equal(true);
  });

  it('closes an open wellness alert with a resolution, showing who and where', async () => {
    const kitchen = await Facility.findOne({ kind: 'kitchen' }).orFail();
    const residents = await Person.find({ community: kitchen.community, roles: 'resident' });
    const elder = residents.find((p) => p.name && p.address?.building)!;
    expect(elder, 'a demo resident with an address').to.not.equal(undefined);
    const staff = await Person.findOne({ roles: 'staff' }).orFail();
    const alert = await WellnessAlert.create({
      order: new Types.ObjectId(), elder: elder._id, community: kitchen.community, kitchen: kitchen._id, kind: 'not_at_home',
      note: '敲门三次无人应答（测试）', raisedBy: staff._id, raisedAt: new Date(), recipients: [staff._id],
    });

    await page.getByRole('menuitem', { name: '关爱提醒' }).click();
    const row = page.locator('[data-test=alerts] tr', { hasText: '敲门三次无人应答（测试）' });
    await row.getByText(elder.name!).waitFor();
    await row.getByText(elder.address!.building!, { exact: false }).waitFor();
    await row.getByText('送餐时不在家').waitFor();
    // Without a resolution the page says what is missing, next to the row.
    await row.locator('[data-test=alert-close]').click();
    await row.locator('[data-test=alert-error]').getByText('请写明处理情况').waitFor();
    await row.locator('[data-test=alert-resolution]').fill('已电话联系，老人在女儿家');
    await row.locator('[data-test=alert-close]').click();
    await page.getByText(`已处理 ${elder.name} 的关爱提醒`).waitFor();
    const closed = await WellnessAlert.findById(alert._id).orFail();
    expect(closed.status).to.equal('closed');
    expect(closed.resolution).to.equal('已电话联系，老人在女儿家');
    await page.getByText('已处理', { exact: true }).click();
    await page.locator('[data-test=alerts] tr', { hasText: '已电话联系，老人在女儿家' }).waitFor();
  });

  it('sends back, then verifies, a pending resident, sets a hardship tag and links, then unlinks, a proxy', async () => {
    const centre = await Facility.findOne({ kind: 'community_centre' }).orFail();
    const newcomer = await makeResident({ community: centre.community, name: '钱桂英', status: 'pending' });

    await page.getByRole('menuitem', { name: '居民' }).click();
    const row = page.locator('[data-test=pending-residents] tr', { hasText: '钱桂英' });
    // Sent back first: a reason is required, then shown in the row.
    await row.locator('[data-test=reject]').click();
    await row.locator('[data-test=verify-error]').getByText('请写明退回原因').waitFor();
    await row.locator('[data-test=reject-reason]').fill('住址缺少门牌号');
    await row.locator('[data-test=reject]').click();
    await page.getByText('已退回 钱桂英 的认证').waitFor();
    await row.getByText('住址缺少门牌号').waitFor();
    expect((await Person.findById(newcomer._id).orFail()).verificationRejection?.reason).to.equal('住址缺少门牌号');
    await row.locator('[data-test=verify]').click();
    await page.getByText('已认证 钱桂英').waitFor();
    await row.waitFor({ state: 'detached' });
    expect((await Person.findById(newcomer._id).orFail()).status).to.equal('active');

    await page.getByRole('tab', { name: '居民资料' }).click();
    await page.locator('[data-test=resident-search]').fill('钱桂英');
    await page.locator('[data-test=resident-search]').press('Enter');
    const card = page.locator('[data-test=resident-card]');
    await card.getByText('已认证').waitFor();
    await card.locator('[data-test=tags]').getByText('独居').click();
    await card.locator('[data-test=save-tags]').click();
    await page.getByText('标签已保存').waitFor();
    expect((await Person.findById(newcomer._id).orFail()).tags).to.deep.equal(['独居']);

    await card.locator('[data-test=proxy-search]').fill('王建国');
    await card.locator('[data-test=proxy-search]').press('Enter');
    await card.locator('[data-test=proxy-choice]').getByText('王建国').waitFor();
    await card.locator('[data-test=link-proxy]').click();
    await page.getByText('已关联代办人').waitFor();
    const linkRow = card.locator('[data-test=proxy-links] tr', { hasText: '王建国' });
    await linkRow.getByText('生效中（工作人员关联）').waitFor();
    const link = await ProxyLink.findOne({ elder: newcomer._id, proxy: resident._id }).orFail();
    expect(link.status).to.equal('active');
    await shot(page, 'residents');

    await linkRow.locator('[data-test=revoke-link]').click();
    await page.getByText('已解除代办关联').waitFor();
    await linkRow.getByText('已解除').waitFor();
    expect((await ProxyLink.findById(link._id).orFail()).status).to.equal('revoked');
  });
});
