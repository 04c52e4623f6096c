import { expect } from 'chai';
import type { mock } from 'wechaty-puppet-mock';
import { MealOrder, MealRating, type CommunityDoc, type FacilityDoc, type MealMenuDoc, type PersonDoc } from '../models/index.js';
import {
  bornYearsAgo, dayFromToday, makeCommunity, makeKitchen, makeMenu, makeProxyLink, makeResident, makeStaff, makeSubsidyRule,
} from './factories/index.js';
import { startTestBot, type TestBot } from './support/bot.js';
import { useCleanStorage } from './support/storage.js';

describe('bot: elderly meals in conversation', () => {
  useCleanStorage();

  let tb: TestBot;
  let community: CommunityDoc;
  let kitchen: FacilityDoc;
  let lunch: MealMenuDoc;
  let elder: PersonDoc;
  let contact: mock.ContactMock;
  /** Two days ahead, so the 09:30 cut-off is far whatever the hour of the run. */
  const day = dayFromToday(2);

  before(async () => {
    tb = await startTestBot();
    community = await makeCommunity();
    kitchen = await makeKitchen(community, { name: '幸福里长者饭堂' });
    await makeSubsidyRule(community);
    lunch = await makeMenu(kitchen, { date: day, meal: 'lunch' });
    await makeMenu(kitchen, { date: day, meal: 'dinner' });
    elder = await makeResident({ community: community._id, name: '周大爷', birthDate: bornYearsAgo(82) });
    contact = await tb.contactOf(elder);
  });

  after(async () => {
    await tb?.stop();
  });

  const ordersOf = (p: PersonDoc) => MealOrder.find({ bookedFor: p._id, status: 'confirmed' }).lean();

  describe('meal.book', () => {
    it('orders from one message, with the subsidised price in the summary, after 确认', async () => {
      const summary = await tb.ask(contact, '后天中午送一份饭到我家');
      expect(summary).to.include('请确认订餐').and.include('送餐上门').and.include('补贴').and.include('应付 3 元');
      expect(await tb.ask(contact, '确认')).to.include('订好了');
      const [order] = await ordersOf(elder);
      expect(order!.mode).to.equal('delivery');
      expect(String(order!.menu)).to.equal(String(lunch._id));
      expect(order!.breakdown.toPay).to.equal(300);
    });

    it('builds an order over several turns and takes corrections (改 the mode; 两份 at the summary)', async () => {
      expect(await tb.ask(contact, '我想订饭')).to.include('哪天');
      expect(await tb.ask(contact, '后天')).to.include('午饭还是晚饭');
      expect(await tb.ask(contact, '2')).to.include('怎么用餐');
      expect(await tb.ask(contact, '1')).to.include('堂食');
      expect(await tb.ask(contact, '改')).to.include('要改哪一项');
      expect(await tb.ask(contact, '3')).to.include('怎么用餐');
      expect(await tb.ask(contact, '2')).to.include('自取');
      const two = await tb.ask(contact, '要两份');
      expect(two).to.include('× 2 份');
      expect(await tb.ask(contact, '确认')).to.include('订好了');
      const dinner = (await ordersOf(elder)).find((o) => o.meal === 'dinner')!;
      expect([dinner.mode, dinner.quantity]).to.deep.equal(['pickup', 2]);
    });

    it('orders for a linked elder (帮我爸订…), with the dietary needs said', async () => {
      const father = await makeResident({ community: community._id, name: '吴老伯', birthDate: bornYearsAgo(75) });
      const son = await makeResident({ community: community._id, name: '吴先生' });
      await makeProxyLink(son, father);
      const sonContact = await tb.contactOf(son);
      await tb.ask(sonContact, '帮我爸订后天中午的饭，要少油少盐');
      const summary = await tb.ask(sonContact, '1');
      expect(summary).to.include('吴老伯').and.include('低脂').and.include('低盐');
      expect(await tb.ask(sonContact, '确认')).to.include('订好了');
      const [order] = await ordersOf(father);
      expect(String(order!.bookedBy)).to.equal(String(son._id));
      expect(order!.dietaryNeeds).to.have.members(['低脂', '低盐']);
    });

    it('refuses after the cut-off with the reason in Chinese, and orders nothing', async () => {
      const today = dayFromToday(0);
      await makeMenu(kitchen, { date: today, meal: 'lunch', cutoff: new Date(Date.now() - 60_000) });
      await tb.ask(contact, '今天中午要一份');
      const refused = await tb.ask(contact, '1');
      expect(refused).to.include('截止');
      expect(await MealOrder.countDocuments({ bookedFor: elder._id, date: today })).to.equal(0);
    });
  });

  describe('meal.menu, meal.list, booking.list', () => {
    it('tells the menu of the day, and lists the orders', async () => {
      expect(await tb.ask(contact, '后天中午吃什么')).to.include('清蒸鲈鱼');
      expect(await tb.ask(contact, '我订的饭有哪些')).to.include('午餐').and.include('送餐上门');
      expect(await tb.ask(contact, '我的预约')).to.include('订餐');
    });
  });

  describe('meal.cancel', () => {
    it('cancels the meal named, after 确认', async () => {
      expect(await tb.ask(contact, '后天的午饭帮我取消')).to.include('确定取消');
      expect(await tb.ask(contact, '确认')).to.include('已取消');
      expect((await ordersOf(elder)).filter((o) => o.meal === 'lunch')).to.have.length(0);
    });
  });

  describe('rating a meal (好差评)', () => {
    it('rates the last meal served, by number', async () => {
      const yesterday = dayFromToday(-1);
      const past = await makeMenu(kitchen, { date: yesterday, meal: 'lunch' });
      await MealOrder.create({
        menu: past._id, kitchen: kitchen._id, community: community._id, date: yesterday, meal: 'lunch', bookedFor: elder._id, bookedBy: elder._id,
        mode: 'dine_in', quantity: 1, breakdown: { unitPrice: 1200, quantity: 1, tier: null, subsidisedPrice: 1200, subsidy: 0, deliveryFee: 0, toPay: 1200 },
      });
      expect(await tb.ask(contact, '我要评价一下')).to.include('吃得怎么样');
      expect(await tb.ask(contact, '1')).to.include('好评');
      expect(await MealRating.countDocuments({ person: elder._id, good: true })).to.equal(1);
    });
  });

  describe('staff', () => {
    it('tells a kitchen’s staff today’s counts and the open delivery alerts', async () => {
      const { person: staff } = await makeStaff({ community: community._id });
      const staffContact = await tb.contactOf(staff, '厨房主管');
      await makeMenu(kitchen, { date: dayFromToday(0), meal: 'dinner' });
      expect(await tb.ask(staffContact, '今天订了多少份饭')).to.include('晚餐').and.include('共 0 份');
      expect(await tb.ask(staffContact, '有没有送餐异常')).to.include('没有未处理的送餐提醒');
    });
  });
});
