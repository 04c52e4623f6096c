import { expect } from 'chai';
import ExcelJS from 'exceljs';
import type { Page } from 'playwright-core';
import { atShanghai, shanghaiDay, dayjs } from '../../models/calendar.js';
import { Facility, Identity, Notification, Person, Room, RoomBooking, type PersonDoc, type RoomDoc } from '../../models/index.js';
import { seedDemo } from '../../src/seed/demo.js';
import { bearerFor } from '../support/auth.js';
import { createTestLogger } from '../support/logs.js';
import { useCleanStorage } from '../support/storage.js';
import { shot, signIn, startConsoleRig, type ConsoleRig } from './browser.js';

const PASSWORD = 'demo-console-pass';

/** The next Monday–Friday at least two days ahead (the demo 会议室 opens on weekdays). */
function nextWeekday(): string {
  let d = dayjs.utc(shanghaiDay(new Date())).add(2, 'day');
  while (d.day() === 0 || d.day() === 6) d = d.add(1, 'day');
  return d.format('YYYY-MM-DD');
}

describe('staff console in Chromium: rooms', () => {
  useCleanStorage();

  let rig: ConsoleRig;
  let page: Page;
  let resident: PersonDoc;
  let meeting: RoomDoc;
  let painting: RoomDoc;
  const day = nextWeekday();

  const book = async (room: RoomDoc, from: string, to: string, purpose: string) => {
    const res = await rig.app.request.post(`/api/v1/rooms/${room._id}/bookings`)
      .set('Authorization', await bearerFor(resident)).set('Idempotency-Key', `e2e-${Date.now()}-${Math.random().toString(36).slice(2)}`)
      .send({ start: atShanghai(day, from), end: atShanghai(day, to), purpose, attendees: 6 });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body as { id: string; status: string };
  };

  before(async () => {
    await seedDemo(createTestLogger(), { password: PASSWORD });
    rig = await startConsoleRig();
    const centre = await Facility.findOne({ kind: 'community_centre' }).orFail();
    meeting = await Room.findOne({ facility: centre._id, name: '会议室' }).orFail();
    painting = await Room.findOne({ facility: centre._id, name: '书画室' }).orFail();
    resident = await Person.findOne({ phone: '13800000005' }).orFail(); // 王建国, an active resident
    ({ page } = await rig.newPage());
  });

  after(async () => {
    await rig?.close();
  });

  it('refuses a wrong password with the API\'s Chinese message', async () => {
    await page.goto(`${rig.baseUrl}/`); // / redirects to the console
    await page.waitForURL(/\/console\/login/);
    await page.getByLabel('用户名').fill('staff');
    await page.getByLabel('密码', { exact: true }).fill('not-the-password');
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByText('用户名或密码不正确').waitFor();
  });

  it('signs staff in and shows the demo facility\'s rooms in the grid', async () => {
    await signIn(page, rig.baseUrl, 'staff', PASSWORD);
    const grid = page.locator('[data-test=room-grid]');
    await grid.waitFor();
    for (const name of ['多功能活动室', '书画室', '舞蹈室', '会议室']) await grid.getByText(name, { exact: true }).waitFor();
    await shot(page, 'room-grid-day');
  });

  it('approves a pending booking from the queue, and the resident is told', async () => {
    const pending = await book(meeting, '10:00', '11:00', '业主代表会议');
    expect(pending.status).to.equal('pending');
    await page.getByRole('menuitem', { name: '待审核预约' }).click();
    const row = page.locator('[data-test=approvals] tr', { hasText: '业主代表会议' });
    await row.getByText('王建国').waitFor();
    await row.getByRole('button', { name: '处理' }).click();
    await page.locator('[data-test=approve]').click();
    await page.getByText('已通过，居民会收到通知').waitFor();
    // The drawer shows what the resident was told, from the API.
    await page.locator('[data-test=told]').getByText('已通过审核').waitFor();
    await page.locator('[data-test=status]').getByText('已确认').waitFor();
    await shot(page, 'booking-approved');
    await page.keyboard.press('Escape');
    expect((await RoomBooking.findById(pending.id).orFail()).status).to.equal('confirmed');
    const told = await Notification.findOne({ person: resident._id, kind: 'room_booking_approved' }).orFail();
    expect(told.text).to.include('已通过审核');
  });

  it('moves a booking by dragging it to another time', async () => {
    const booking = await book(painting, '09:00', '10:00', '书法练习');
    await page.getByRole('menuitem', { name: '活动室日程' }).click();
    await page.locator('.el-date-editor input').first().fill(day);
    await page.locator('.el-date-editor input').first().press('Enter');
    const block = page.locator(`[data-booking="${booking.id}"]`);
    await block.waitFor();
    const row = page.locator(`[data-room="${painting._id}"]`);
    const box = (await block.boundingBox())!;
    const rowBox = (await row.boundingBox())!;
    // Four 30-minute units to the right: 09:00 → 11:00.
    await block.dragTo(row, { targetPosition: { x: box.x - rowBox.x + 4 * 36 + 4, y: rowBox.height / 2 } });
    await page.getByRole('button', { name: '调整' }).click();
    await page.getByText('已调整，居民会收到通知').waitFor();
    const moved = await RoomBooking.findById(booking.id).orFail();
    expect(moved.start.toISOString()).to.equal(atShanghai(day, '11:00').toISOString());
    expect(moved.end.toISOString()).to.equal(atShanghai(day, '12:00').toISOString());
  });

  it('creates a blackout over a room and lists the booking it flags', async () => {
    await book(painting, '14:00', '15:00', '国画兴趣班');
    await page.getByRole('button', { name: '设置停用' }).click();
    const dialog = page.getByRole('dialog', { name: '设置停用时段' });
    await dialog.locator('[data-test=blackout-rooms]').click();
    await page.getByRole('option', { name: '书画室' }).click();
    await dialog.getByPlaceholder('停用开始时间').fill(`${day} 13:30`);
    await dialog.getByPlaceholder('停用开始时间').press('Enter');
    await dialog.getByPlaceholder('停用结束时间').fill(`${day} 16:00`);
    await dialog.getByPlaceholder('停用结束时间').press('Enter');
    await dialog.locator('[data-test=blackout-reason]').fill('消防检查');
    await dialog.locator('[data-test=blackout-submit]').click();
    await dialog.locator('[data-test=flagged]').getByText('国画兴趣班').waitFor();
    await shot(page, 'blackout-flagged');
    await dialog.getByRole('button', { name: '关闭' }).first().click();
    await dialog.waitFor({ state: 'hidden' });
    await page.locator('.block.flagged').first().waitFor();
    await shot(page, 'room-grid-flagged');
  });

  it('exports the bookings the grid shows as .xlsx with Chinese headers, the flagged one marked', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test=export-bookings]').click()]);
    expect(download.suggestedFilename()).to.match(new RegExp(`^活动室预约-.+-${day}\\.xlsx$`));
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile((await download.path())!);
    const ws = wb.getWorksheet('活动室预约')!;
    expect(ws.getRow(1).values).to.deep.equal([undefined, '活动室', '开始时间', '结束时间', '状态', '预约人', '电话', '用途', '人数', '停用影响']);
    const rows = ws.getSheetValues().slice(2).map((r) => (r as unknown[]).slice(1));
    const painting = rows.find((r) => r[6] === '国画兴趣班')!;
    expect(painting.slice(0, 1)).to.deep.equal(['书画室']);
    expect(painting[4]).to.equal('王建国');
    expect(painting[8]).to.equal('受停用影响：消防检查');
    expect(rows.map((r) => r[6])).to.include('业主代表会议');
  });

  it('refuses a resident\'s token: the API says no, whatever the browser claims', async () => {
    const { page: other } = await rig.newPage();
    const token = (await bearerFor(resident)).slice('Bearer '.length);
    const identityCount = await Identity.countDocuments({ person: resident._id, provider: 'staff_password' });
    expect(identityCount).to.equal(0);
    await other.goto(`${rig.baseUrl}/console/login`);
    // A resident who edits the stored session to claim the staff role still meets the API's policies.
    await other.evaluate(([t, id]) => {
      (globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } }).sessionStorage.setItem('csb-console-session', JSON.stringify({
        tokens: { accessToken: t, refreshToken: 'x'.repeat(32), expiresAt: Date.now() + 600_000 },
        person: { id, name: '王建国', phone: null, community: null, roles: ['staff'] },
      }));
    }, [token, String(resident._id)]);
    const centre = await Facility.findOne({ kind: 'community_centre' }).orFail();
    const schedule = await rig.app.request.get(`/api/v1/facilities/${centre._id}/schedule?date=${day}`).set('Authorization', `Bearer ${token}`);
    expect(schedule.status).to.equal(403);
    await other.goto(`${rig.baseUrl}/console/rooms`);
    await other.getByText('您管理的场所里没有活动室').waitFor(); // scope=staff lists nothing for a resident
    const res = await other.evaluate(async ([t, id]) => {
      const r = await fetch(`/api/v1/facilities/${id}/pending-bookings`, { headers: { Authorization: `Bearer ${t}` } });
      return { status: r.status, body: (await r.json()) as { error: { message: string } } };
    }, [token, String(centre._id)]);
    expect(res.status).to.equal(403);
    expect(res.body.error.message).to.include('没有权限');
  });
});
