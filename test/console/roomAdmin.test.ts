import { expect } from 'chai';
import ExcelJS from 'exceljs';
import type { Locator, Page } from 'playwright-core';
import { atShanghai, dayjs, shanghaiDay } from '../../models/calendar.js';
import {
  Blackout, Facility, Identity, MealMenu, MealOrder, Person, Room, RoomBooking, type FacilityDoc, type PersonDoc, type RoomDoc,
} from '../../models/index.js';
import { seedDemo } from '../../src/seed/demo.js';
import { bearerFor } from '../support/auth.js';
import { createTestLogger } from '../support/logs.js';
import { useCleanStorage } from '../support/storage.js';
import { shot, signIn, startConsoleRig, type ConsoleRig } from './browser.js';

const PASSWORD = 'demo-console-pass';

/** The next Monday–Friday at least two days ahead (书画室 opens Monday to Saturday). */
function nextWeekday(): string {
  let d = dayjs.utc(shanghaiDay(new Date())).add(2, 'day');
  while (d.day() === 0 || d.day() === 6) d = d.add(1, 'day');
  return d.format('YYYY-MM-DD');
}

describe('staff console in Chromium: rooms and opening hours, ratings, blackouts on the grid, a booking\'s history', () => {
  useCleanStorage();

  let rig: ConsoleRig;
  let page: Page;
  let centre: FacilityDoc;
  let resident: PersonDoc;
  let staff: PersonDoc;
  let painting: RoomDoc;
  let dance: RoomDoc;
  const day = nextWeekday();

  /** The open 新增 / 编辑 dialog of 活动室管理. */
  const roomForm = () => page.getByRole('dialog').filter({ has: page.locator('[data-test=room-name]') });

  /** The input of an Element Plus field, whether `data-test` landed on the input or on its wrapper. */
  const field = (scope: Locator, name: string) => scope.locator(`[data-test=${name}]`).locator('xpath=descendant-or-self::input').first();
  const openBox = (scope: Locator, weekday: number) => scope.locator(`tr[data-weekday="${weekday}"] input[type=checkbox]`);

  /** Goes to the room grid and shows `day`. */
  const gridOn = async (d: string) => {
    // From another page, so the grid loads afresh (today) and then changes to `d`.
    await page.getByRole('menuitem', { name: '待审核预约' }).click();
    await page.waitForURL(/\/console\/approvals/);
    await page.getByRole('menuitem', { name: '活动室日程' }).click();
    await page.locator('.el-date-editor input').first().fill(d);
    await page.locator('.el-date-editor input').first().press('Enter');
    await page.locator('[data-test=room-grid]').waitFor();
  };

  before(async () => {
    await seedDemo(createTestLogger(), { password: PASSWORD });
    rig = await startConsoleRig();
    centre = await Facility.findOne({ kind: 'community_centre' }).orFail();
    painting = await Room.findOne({ facility: centre._id, name: '书画室' }).orFail();
    dance = await Room.findOne({ facility: centre._id, name: '舞蹈室' }).orFail();
    resident = await Person.findOne({ phone: '13800000005' }).orFail(); // 王建国
    const login = await Identity.findOne({ provider: 'staff_password', subject: 'staff' }).orFail();
    staff = await Person.findById(login.person).orFail();
    ({ page } = await rig.newPage());
    await signIn(page, rig.baseUrl, 'staff', PASSWORD);
  });

  after(async () => {
    await rig?.close();
  });

  it('creates a room with its opening hours, showing a refused day under the table and keeping what was typed', async () => {
    await page.getByRole('menuitem', { name: '活动室管理' }).click();
    await page.locator('[data-test=rooms]').getByText('书画室', { exact: true }).waitFor();
    await page.locator('[data-test=room-new]').click();
    const form = roomForm();
    await field(form, 'room-name').fill('手工室');
    await field(form, 'room-capacity').fill('12');
    await field(form, 'room-capacity').press('Tab');
    await form.locator('[data-test=room-equipment]').click();
    await page.keyboard.type('缝纫机');
    await page.keyboard.press('Enter');
    await field(form, 'room-name').click(); // closes the picker (Escape would close the dialog)
    for (const weekday of [1, 2, 3, 4, 5, 6, 0]) {
      if (!(await form.locator(`[data-test=open-${weekday}] input`).isChecked())) await form.locator(`[data-test=open-${weekday}]`).click();
    }
    await field(form, 'open-time-1-0').fill('08:00');
    await field(form, 'close-time-1-0').fill('12:00'); // four hours: under the 8-hour floor
    await form.locator('[data-test=room-save]').click();
    await form.locator('[data-test=hours-error]').getByText('星期一（4 小时）开放时间不足 8 小时').waitFor();
    await shot(page, 'room-admin-refused');
    expect(await field(form, 'room-name').inputValue()).to.equal('手工室');
    expect(await field(form, 'close-time-1-0').inputValue()).to.equal('12:00');
    expect(await Room.countDocuments({ facility: centre._id, name: '手工室' })).to.equal(0);

    await field(form, 'close-time-1-0').fill('18:00');
    await form.locator('[data-test=room-save]').click();
    await page.getByText('已新增「手工室」').waitFor();
    await page.locator('[data-test=rooms] tr', { hasText: '手工室' }).getByText('缝纫机').waitFor();
    const made = await Room.findOne({ facility: centre._id, name: '手工室' }).orFail();
    expect(made.capacity).to.equal(12);
    expect(made.equipment).to.deep.equal(['缝纫机']);
    expect(made.openingHours.filter((h) => h.weekday === 1).map((h) => [h.open, h.close])).to.deep.equal([['08:00', '18:00']]);
    expect(new Set(made.openingHours.map((h) => h.weekday)).size).to.equal(7);
  });

  it('edits the room: capacity and a day closed', async () => {
    await page.locator('[data-test=rooms] tr', { hasText: '手工室' }).locator('[data-test=room-edit]').click();
    const form = roomForm();
    expect(await field(form, 'room-name').inputValue()).to.equal('手工室');
    await field(form, 'room-capacity').fill('15');
    await field(form, 'room-capacity').press('Tab');
    await form.locator('tr[data-weekday="0"] .el-checkbox').click(); // closed on Sundays
    expect(await openBox(form, 0).isChecked()).to.equal(false);
    await form.locator('.el-switch').first().click(); // every booking needs approval
    await form.locator('[data-test=room-save]').click();
    await page.getByText('已保存「手工室」').waitFor();
    await page.locator('[data-test=rooms] tr', { hasText: '手工室' }).getByText('需要审核').waitFor();
    const edited = await Room.findOne({ facility: centre._id, name: '手工室' }).orFail();
    expect(edited.capacity).to.equal(15);
    expect(edited.approvalRequired).to.equal(true);
    expect(edited.openingHours.some((h) => h.weekday === 0)).to.equal(false);
    expect(edited.openingHours.some((h) => h.weekday === 6)).to.equal(true);
  });

  it('shows room and meal ratings made through the API, and exports them as .xlsx with Chinese headers', async () => {
    // A room used this morning, rated bad by its resident through the API.
    const start = new Date(Date.now() - 2 * 3_600_000);
    const used = await RoomBooking.create({
      room: painting._id, facility: centre._id, community: centre.community, bookedFor: resident._id, bookedBy: resident._id,
      start, end: new Date(start.getTime() + 3_600_000), purpose: '书法练习', attendees: 4, status: 'checked_in', quotaWeek: '2000-W01',
    });
    const residentAuth = await bearerFor(resident);
    await rig.app.request.post(`/api/v1/room-bookings/${used._id}/rating`).set('Authorization', residentAuth)
      .send({ good: false, comment: '空调太冷' }).expect(201);
    // A delivered meal, rated good.
    const kitchen = await Facility.findOne({ kind: 'kitchen' }).orFail();
    const menu = await MealMenu.findOne({ kitchen: kitchen._id }).orFail();
    const order = await MealOrder.create({
      menu: menu._id, kitchen: kitchen._id, community: kitchen.community, date: shanghaiDay(new Date()), meal: 'lunch',
      bookedFor: resident._id, bookedBy: resident._id, mode: 'delivery', quantity: 1, status: 'delivered',
      breakdown: { unitPrice: 1200, quantity: 1, tier: null, subsidisedPrice: 1200, subsidy: 0, deliveryFee: 0, toPay: 1200 },
    });
    await rig.app.request.post(`/api/v1/meal-orders/${order._id}/rating`).set('Authorization', residentAuth)
      .send({ good: true, comment: '饭菜可口' }).expect(201);

    await page.getByRole('menuitem', { name: '评价' }).click();
    await page.locator('[data-test=room-comments]').getByText('空调太冷').waitFor();
    await page.locator('[data-test=room-totals]').getByText('差评 1').waitFor();
    await page.locator('[data-test=room-ratings] tr', { hasText: '书画室' }).getByText('0%').waitFor();
    await page.locator('[data-test=meal-comments]').getByText('饭菜可口').waitFor();
    await page.locator('[data-test=meal-ratings] tr', { hasText: kitchen.name }).getByText('100%').waitFor();
    await shot(page, 'ratings');

    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test=export-ratings]').click()]);
    expect(download.suggestedFilename()).to.match(/^评价-\d{4}-\d{2}-\d{2}至\d{4}-\d{2}-\d{2}\.xlsx$/);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile((await download.path())!);
    expect(wb.worksheets.map((w) => w.name)).to.deep.equal(['活动室评价', '活动室留言', '助餐评价', '助餐留言']);
    const values = (sheet: string, row: number) => (wb.getWorksheet(sheet)!.getRow(row).values as unknown[]).slice(1);
    expect(values('活动室评价', 1)).to.deep.equal(['活动室', '好评', '差评', '好评率']);
    expect(values('活动室评价', 2)).to.deep.equal(['书画室', 0, 1, '0%']);
    expect(values('活动室留言', 1)).to.deep.equal(['日期', '活动室', '评价', '留言']);
    expect(values('活动室留言', 2)).to.deep.equal([shanghaiDay(start), '书画室', '差评', '空调太冷']);
    expect(values('助餐留言', 2)).to.deep.equal([shanghaiDay(new Date()), kitchen.name, '好评', '饭菜可口']);
  });

  it('shows a blackout as a band over its room and hours, with its reason, and deletes it from the list', async () => {
    const res = await rig.app.request.post(`/api/v1/facilities/${centre._id}/blackouts`).set('Authorization', await bearerFor(staff))
      .send({ roomId: String(painting._id), start: atShanghai(day, '13:30'), end: atShanghai(day, '16:00'), reason: '线路检修' }).expect(201);
    const id = res.body.blackout.id as string;
    await gridOn(day);
    const band = page.locator(`[data-test=blackout-band][data-blackout="${id}"]`);
    await band.waitFor();
    expect(await band.getAttribute('title')).to.include('停用：线路检修');
    // Over 书画室's row, from 13:30 for 2.5 hours (five 30-minute units of 36 px).
    const [bandBox, rowBox] = [(await band.boundingBox())!, (await page.locator(`[data-room="${painting._id}"]`).boundingBox())!];
    expect(Math.abs(bandBox.y - rowBox.y)).to.be.below(2);
    expect(Math.round(bandBox.width)).to.equal(5 * 36);
    await band.hover();
    await shot(page, 'room-grid-blackout-band');

    const row = page.locator('[data-test=blackout-list] tr', { hasText: '线路检修' });
    await row.getByText('书画室').waitFor();
    await row.locator('[data-test=blackout-delete]').click();
    await page.getByRole('dialog', { name: '删除停用时段' }).getByRole('button', { name: '删除' }).click();
    await page.getByText('已删除').first().waitFor();
    await band.waitFor({ state: 'detached' });
    await row.waitFor({ state: 'detached' });
    expect(await Blackout.countDocuments({ _id: id })).to.equal(0);
  });

  it('shows a moved booking\'s history in the drawer: booked, moved from where, by whom, why', async () => {
    const booked = await rig.app.request.post(`/api/v1/rooms/${painting._id}/bookings`).set('Authorization', await bearerFor(resident))
      .set('Idempotency-Key', `e2e-history-${Date.now()}`)
      .send({ start: atShanghai(day, '09:00'), end: atShanghai(day, '10:00'), purpose: '国画兴趣班', attendees: 6 }).expect(201);
    await rig.app.request.post(`/api/v1/room-bookings/${booked.body.id}/move`).set('Authorization', await bearerFor(staff))
      .send({ roomId: String(dance._id), start: atShanghai(day, '16:30'), end: atShanghai(day, '17:30'), reason: '书画室线路检修' }).expect(200);
    await gridOn(day);
    await page.locator(`[data-booking="${booked.body.id}"]`).click();
    const history = page.locator('[data-test=history]');
    await history.getByText('调整时间或活动室').waitFor();
    const entries = history.locator('[data-test=history-entry]');
    expect(await entries.count()).to.equal(2);
    expect(await entries.nth(0).innerText()).to.include('预约（已确认）').and.include('居民 王建国');
    const moved = await entries.nth(1).innerText();
    expect(moved).to.include(`工作人员 ${staff.name}`).and.include('原因：书画室线路检修');
    expect(await entries.nth(1).locator('[data-test=history-was]').innerText()).to.match(/原为 书画室 .* 09:00 – 10:00/);
    await shot(page, 'booking-history');
  });
});
