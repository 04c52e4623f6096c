import { expect } from 'chai';
import ExcelJS from 'exceljs';
import type { Page } from 'playwright-core';
import { replies } from '../../bots/replies.js';
import { Facility, Identity, Person, type PersonDoc } from '../../models/index.js';
import { seedDemo } from '../../src/seed/demo.js';
import { makeResident } from '../factories/index.js';
import { bearerFor } from '../support/auth.js';
import { startTestBot, type TestBot } from '../support/bot.js';
import { testConfig } from '../support/env.js';
import { createTestLogger } from '../support/logs.js';
import { useCleanStorage } from '../support/storage.js';
import { shot, signIn, startConsoleRig, type ConsoleRig } from './browser.js';

const PASSWORD = 'demo-console-pass';

describe('staff console in Chromium: binding codes and the audit trail (居民, 查阅记录)', () => {
  useCleanStorage();

  let rig: ConsoleRig;
  let tb: TestBot;
  let staffPage: Page;
  let adminPage: Page;
  let staff: PersonDoc;
  let elder: PersonDoc;

  before(async () => {
    await seedDemo(createTestLogger(), { password: PASSWORD });
    // Two binding codes per staff member and window: the third is refused (429), as the page must show.
    rig = await startConsoleRig({ config: testConfig({ RATE_LIMIT_BINDING: '2/600' }) });
    tb = await startTestBot();
    staff = await Person.findOne({ phone: '13800000010' }).orFail(); // 何丽娜, the demo's staff sign-in
    const centre = await Facility.findOne({ kind: 'community_centre' }).orFail();
    elder = await makeResident({ community: centre.community, name: '孔秀梅' });
    ({ page: staffPage } = await rig.newPage());
    await signIn(staffPage, rig.baseUrl, 'staff', PASSWORD);
    ({ page: adminPage } = await rig.newPage());
    await signIn(adminPage, rig.baseUrl, 'admin', PASSWORD);
  });

  after(async () => {
    await tb?.stop();
    await rig?.close();
  });

  async function openResident(page: Page, name: string) {
    await page.getByRole('menuitem', { name: '居民' }).click();
    await page.getByRole('tab', { name: '居民资料' }).click();
    await page.locator('[data-test=resident-search]').fill(name);
    await page.locator('[data-test=resident-search]').press('Enter');
    const card = page.locator('[data-test=resident-card]');
    await card.getByText(name).first().waitFor();
    return card;
  }

  it('issues a binding code that binds a WeChat contact through the bot, shows the binding, then unbinds it after a confirmation', async () => {
    const page = staffPage;
    let card = await openResident(page, '孔秀梅');
    await card.locator('[data-test=bot-bound]').getByText('还没有绑定微信').waitFor();

    await card.locator('[data-test=issue-code]').click();
    const box = card.locator('[data-test=binding-code-box]');
    await box.getByText('有效至').waitFor();
    await box.getByText('把这 6 位数字直接发给机器人').waitFor();
    const code = (await box.locator('[data-test=binding-code]').innerText()).trim();
    expect(code).to.match(/^\d{6}$/);
    await shot(page, 'residents-binding-code');

    // The elder sends the code to the bot from WeChat.
    const contact = tb.mocker.createContact({ name: '孔秀梅的微信' });
    expect(await tb.ask(contact, code)).to.equal(replies.bindingSucceeded('孔秀梅'));
    expect(String((await Identity.findOne({ provider: 'wechat_bot', subject: contact.id }).orFail()).person)).to.equal(String(elder._id));

    // Found again, the card says the bot is bound.
    card = await openResident(page, '孔秀梅');
    await card.locator('[data-test=bot-bound]').getByText('已绑定微信').waitFor();

    // 解除绑定 asks first: cancelling changes nothing.
    await card.locator('[data-test=unbind-bot]').click();
    await page.getByRole('dialog').getByRole('button', { name: '取消' }).click();
    expect(await Identity.countDocuments({ provider: 'wechat_bot', person: elder._id })).to.equal(1);
    await card.locator('[data-test=unbind-bot]').click();
    await page.getByRole('dialog').getByRole('button', { name: '解除绑定' }).click();
    await page.getByText('已解除 孔秀梅 的微信绑定').waitFor();
    await card.locator('[data-test=bot-bound]').getByText('还没有绑定微信').waitFor();
    expect(await Identity.countDocuments({ provider: 'wechat_bot', person: elder._id })).to.equal(0);
  });

  it('shows a refused binding code (429) next to the button and keeps the code already shown', async () => {
    const page = staffPage;
    const card = await openResident(page, '孔秀梅');
    // The first test used one code of two: one more, then the API refuses.
    await card.locator('[data-test=issue-code]').click();
    const code = card.locator('[data-test=binding-code]');
    await code.waitFor();
    const shown = await code.innerText();
    await card.locator('[data-test=issue-code]').click();
    await card.locator('[data-test=binding-error]').getByText(/操作太频繁了，请 \d+ 秒后再试/).waitFor();
    expect(await code.innerText()).to.equal(shown);
  });

  it('shows an admin the audit trail: a staff read of a resident with both names, filtered, and exported', async () => {
    const page = adminPage;
    await page.getByRole('menuitem', { name: '查阅记录' }).click();
    await page.waitForURL(/\/console\/audit/);
    const read = page.locator('[data-test=audit-entries] tr', { hasText: '查看居民资料' }).filter({ hasText: '孔秀梅' }).first();
    await read.getByText('何丽娜').waitFor();
    await read.getByText(String(elder._id)).waitFor();
    await read.getByText(String(staff._id)).waitFor();
    // The code issued and the unbinding are there too.
    await page.locator('[data-test=audit-entries] tr', { hasText: '生成微信绑定码' }).first().waitFor();
    await page.locator('[data-test=audit-entries] tr', { hasText: '解除微信绑定' }).first().waitFor();

    // Filtered to the resident (by a click on her name) and to one action.
    await read.locator('[data-test=audit-subject-link]').click();
    await page.locator('[data-test=audit-filters]').getByText('居民：孔秀梅').waitFor();
    await page.locator('[data-test=audit-action]').click();
    await page.getByRole('option', { name: '查看居民资料' }).click();
    await page.locator('[data-test=audit-entries] tr', { hasText: '查看代办关联' }).first().waitFor({ state: 'detached' });
    const rows = page.locator('[data-test=audit-entries] tbody tr');
    const count = await rows.count();
    expect(count).to.be.greaterThan(0);
    for (let i = 0; i < count; i += 1) expect(await rows.nth(i).innerText()).to.include('孔秀梅').and.include('查看居民资料');
    await shot(page, 'audit-trail');

    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test=export-audit]').click()]);
    expect(download.suggestedFilename()).to.match(/^查阅记录-\d{4}-\d{2}-\d{2}\.xlsx$/);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile((await download.path())!);
    const ws = wb.getWorksheet('查阅记录')!;
    expect(ws.getRow(1).values).to.deep.equal([undefined, '时间', '操作人', '操作人ID', '操作', '操作代码', '居民', '居民ID', '字段', '请求号']);
    expect(ws.rowCount).to.equal(count + 1);
    expect(ws.getRow(2).getCell(2).value).to.equal('何丽娜');
    expect(ws.getRow(2).getCell(5).value).to.equal('resident.read');
    expect(ws.getRow(2).getCell(6).value).to.equal('孔秀梅');
  });

  it('hides 查阅记录 from staff who are not admins; the API refuses them and the page says so', async () => {
    const page = staffPage;
    await page.getByRole('menuitem', { name: '居民' }).waitFor();
    expect(await page.getByRole('menuitem', { name: '查阅记录' }).count()).to.equal(0);
    const refused = await rig.app.request.get('/api/v1/audit-entries').set('Authorization', await bearerFor(staff));
    expect(refused.status).to.equal(403);
    expect(refused.body.error.code).to.equal('forbidden');
    // Typed into the address bar: the API's refusal instead of a table.
    await page.goto(`${rig.baseUrl}/console/audit`);
    await page.locator('[data-test=audit-error]').getByText(refused.body.error.message).waitFor();
    expect(await page.locator('[data-test=audit-entries] tbody tr').count()).to.equal(0);
  });
});
