import { expect } from 'chai';
import ExcelJS from 'exceljs';
import type { Page } from 'playwright-core';
import { dayjs, shanghaiDay } from '../../models/calendar.js';
import { Facility, MealMenu, Person, type FacilityDoc } from '../../models/index.js';
import { seedDemo } from '../../src/seed/demo.js';
import { bearerFor } from '../support/auth.js';
import { createTestLogger } from '../support/logs.js';
import { useCleanStorage } from '../support/storage.js';
import { shot, signIn, startConsoleRig, type ConsoleRig } from './browser.js';

const PASSWORD = 'demo-console-pass';

describe('staff console in Chromium: meals', () => {
  useCleanStorage();

  let rig: ConsoleRig;
  let page: Page;
  let kitchen: FacilityDoc;
  // A day past the demo's week of menus, so the console publishes a new one.
  const day = dayjs.utc(shanghaiDay(new Date())).add(9, 'day').format('YYYY-MM-DD');

  before(async () => {
    await seedDemo(createTestLogger(), { password: PASSWORD });
    rig = await startConsoleRig();
    kitchen = await Facility.findOne({ kind: 'kitchen' }).orFail();
    ({ page } = await rig.newPage());
    await signIn(page, rig.baseUrl, 'staff', PASSWORD);
  });

  after(async () => {
    await rig?.close();
  });

  it('publishes a menu, takes orders through the API, runs the cut-off and prints one A4 delivery sheet per grid', async () => {
    await page.getByRole('menuitem', { name: '助餐' }).click();
    await page.locator('[data-test=menus]').waitFor();
    await page.getByRole('button', { name: '发布菜单' }).click();
    const dialog = page.getByRole('dialog', { name: '发布菜单' });
    await dialog.locator('input[type=text]').first().fill(day);
    await dialog.locator('input[type=text]').first().press('Enter');
    await dialog.locator('[data-test=menu-dishes]').fill('清蒸鲈鱼、蒜蓉菜心、米饭');
    await dialog.locator('[data-test=menu-publish]').click();
    await page.getByText('菜单已发布').waitFor();
    const menu = await MealMenu.findOne({ kitchen: kitchen._id, date: day, meal: 'lunch' }).orFail();
    expect(menu.dishes.map((d) => d.name)).to.deep.equal(['清蒸鲈鱼', '蒜蓉菜心', '米饭']);
    expect(menu.capacity).to.equal(50);

    // Two elders who get meals delivered (独居, 失能) order through the API, in two grids.
    for (const name of ['陈桂兰', '孙德福']) {
      const elder = await Person.findOne({ name }).orFail();
      const res = await rig.app.request.post(`/api/v1/meal-menus/${menu._id}/orders`)
        .set('Authorization', await bearerFor(elder)).set('Idempotency-Key', `e2e-meal-${elder._id}`)
        .send({ mode: 'delivery', quantity: 1 });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
    }
    // Time passes: the order window closes.
    await MealMenu.updateOne({ _id: menu._id }, { $set: { cutoff: new Date(Date.now() - 60_000) } });

    await page.locator('.el-date-editor input').first().fill(day);
    await page.locator('.el-date-editor input').first().press('Enter');
    await page.locator(`[data-test=cutoff-${day}-lunch]`).click();
    await page.getByText('截止处理完成：2 条送餐路线').waitFor();

    await page.locator(`[data-test=sheets-${day}-lunch]`).click();
    const sheets = page.locator('[data-test=delivery-sheet]');
    await sheets.first().waitFor();
    expect(await sheets.count()).to.equal(2);
    await sheets.getByText('陈桂兰').waitFor();
    await page.emulateMedia({ media: 'print' });
    await shot(page, 'delivery-sheets-print');
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? []).length;
    expect(pages).to.equal(2);
    await page.emulateMedia({ media: 'screen' });

    // Recording an outcome before the meal's day: the API's refusal appears next to that stop.
    const stop = sheets.locator('tr', { hasText: '陈桂兰' });
    await stop.getByRole('button', { name: '送达' }).click();
    await stop.getByText('这份餐还没到送餐的日子').waitFor();
  });

  it('downloads the orders of a menu as .xlsx with Chinese headers', async () => {
    await page.getByRole('menuitem', { name: '助餐' }).click();
    await page.locator('.el-date-editor input').first().fill(day);
    await page.locator('.el-date-editor input').first().press('Enter');
    await page.locator('[data-test=menus] tr', { hasText: `${day} 午餐` }).getByRole('button', { name: '订单' }).click();
    await page.getByText('孙德福').waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test=export-orders]').click()]);
    expect(download.suggestedFilename()).to.equal(`订单-${day}-午餐.xlsx`);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile((await download.path())!);
    const ws = wb.getWorksheet('订单')!;
    expect(ws.getRow(1).values).to.deep.equal([undefined, '日期', '餐次', '居民', '方式', '份数', '补贴（元）', '应付（元）', '状态', '备注']);
    const names = [ws.getRow(2).getCell(3).value, ws.getRow(3).getCell(3).value];
    expect(names).to.have.members(['陈桂兰', '孙德福']);
    expect(ws.getRow(2).getCell(4).value).to.equal('送餐上门');
  });
});
