import { expect } from 'chai';
import type { mock } from 'wechaty-puppet-mock';
import { ChildcareBooking, MealOrder, RoomBooking, type CommunityDoc, type FacilityDoc, type MealMenuDoc, type PersonDoc } from '../models/index.js';
import {
  bornYearsAgo, dayFromToday, makeChild, makeChildcareCentre, makeCommunity, makeSession, makeFacility, makeKitchen, makeMenu, makeResident, makeRoom, makeSubsidyRule,
} from './factories/index.js';
import { understand } from '../bots/nlu/index.js';
import { dayWithWeekday } from '../bots/flows/common.js';
import { shanghaiDay } from '../models/calendar.js';
import { startTestBot, type TestBot } from './support/bot.js';
import { useCleanStorage } from './support/storage.js';

/**
 * Issue 20, the conversations that used to fail: a meal moved (booked anew, then the old one
 * cancelled), the price with this person's subsidy, rules checked at the summary with the
 * nearest alternatives, a booking asked as a question, a topic change that does not lose the
 * conversation, 返回, and the numbered help menu. Real bot, mock puppet, real DB and Redis.
 */
describe('bot: never trapped (issue 20)', () => {
  useCleanStorage();

  let tb: TestBot;
  let community: CommunityDoc;
  let kitchen: FacilityDoc;
  let centre: FacilityDoc;
  let elder: PersonDoc;
  let contact: mock.ContactMock;
  const menus: Record<string, MealMenuDoc> = {};
  /** Two and three days ahead (后天, 大后天): the 09:30 cut-off is far whatever the hour. */
  const day2 = dayFromToday(2);
  const day3 = dayFromToday(3);

  before(async () => {
    tb = await startTestBot();
    community = await makeCommunity();
    kitchen = await makeKitchen(community, { name: '幸福里长者饭堂' });
    await makeSubsidyRule(community, { deliveryFee: 200 });
    for (const day of [day2, day3, dayFromToday(4)]) menus[day] = await makeMenu(kitchen, { date: day, meal: 'lunch' });
    centre = await makeFacility(community, { name: '幸福里党群服务中心' });
    await makeRoom(centre, { name: '多功能厅', capacity: 30 });
    elder = await makeResident({ community: community._id, name: '周大爷', birthDate: bornYearsAgo(82) });
    contact = await tb.contactOf(elder);
  });

  after(async () => {
    await tb?.stop();
  });

  afterEach(async () => {
    await tb.ask(contact, '取消'); // whatever a failed test left open
  });

  const ordersOf = (p: PersonDoc) => MealOrder.find({ bookedFor: p._id, status: 'confirmed' }).sort({ date: 1 }).lean();

  async function order(day: string) {
    await tb.ask(contact, day === day2 ? '后天中午要一份，去食堂吃' : '大后天中午要一份，去食堂吃');
    expect(await tb.ask(contact, '确认')).to.include('订好了');
  }

  async function forgetOrders() {
    for (const o of await ordersOf(elder)) await tb.ask(contact, `取消${o.date === day2 ? '后天' : o.date === day3 ? '大后天' : ''}的午饭`).then(() => tb.ask(contact, '确认'));
  }

  describe('meal.reschedule', () => {
    it('「把后天的午饭改到大后天」 books the new day first, then cancels the old one', async () => {
      await order(day2);
      const summary = await tb.ask(contact, '把后天的午饭改到大后天');
      expect(summary).to.include('改到').and.include('先订新的');
      expect(await tb.ask(contact, '确认')).to.include('改好了');
      const orders = await ordersOf(elder);
      expect(orders.map((o) => o.date)).to.deep.equal([day3]);
      expect(orders[0]!.mode).to.equal('dine_in');
      expect(await MealOrder.countDocuments({ bookedFor: elder._id, date: day2, status: 'cancelled' })).to.equal(1);
    });

    it('a day already ordered is refused at the summary, with the nearest days to move to; 确认 takes the first', async () => {
      await order(day2); // day3 is ordered by the test above
      const refused = await tb.ask(contact, '把后天的午饭改到大后天');
      expect(refused).to.include('已经订过').and.include('最近还能改到的日子').and.not.include('先订新的');
      const summary = await tb.ask(contact, '确认');
      expect(summary).to.include('先订新的');
      expect(await tb.ask(contact, '确认')).to.include('改好了');
      expect((await ordersOf(elder)).map((o) => o.date)).to.deep.equal([day3, dayFromToday(4)]);
      await forgetOrders();
    });
  });

  describe('meal.price', () => {
    it('「后天中午的饭多少钱」 gives this person’s subsidy and the delivery fee', async () => {
      const answer = await tb.ask(contact, '后天中午的饭多少钱');
      // 12 元 menu price, 80+ tier pays 3 元, delivery fee 2 元.
      expect(answer).to.include('原价 12 元').and.include('补贴 −9 元').and.include('80岁及以上')
        .and.include('应付 3 元').and.include('送餐费 2 元').and.include('应付 5 元');
    });

    it('「有补贴吗」 answers with the next menu’s price for this person, never the booking prompt', async () => {
      const answer = await tb.ask(contact, '有补贴吗');
      expect(answer).to.include('补贴 −9 元').and.not.include('订哪天');
    });
  });

  describe('check before confirming', () => {
    it('a duplicate meal order is refused at the summary with the nearest days, and 确认 on them books the first', async () => {
      await order(day2);
      const refused = await tb.ask(contact, '后天中午要一份，去食堂吃');
      expect(refused).to.include('已经订过').and.include('最近还能订').and.not.include('请确认订餐');
      const summary = await tb.ask(contact, '确认');
      expect(summary).to.include('请确认订餐');
      expect(await tb.ask(contact, '确认')).to.include('订好了');
      expect((await ordersOf(elder)).map((o) => o.date)).to.deep.equal([day2, day3]);
      await forgetOrders();
    });

    it('delivery a young resident may not have is refused at the summary, with 堂食 / 自取 offered, and what was known is kept', async () => {
      const young = await makeResident({ community: community._id, name: '小李', birthDate: bornYearsAgo(40) });
      const youngContact = await tb.contactOf(young);
      const refused = await tb.ask(youngContact, '后天中午送一份饭到家');
      expect(refused).to.include('堂食').and.include('自取').and.not.include('请确认订餐');
      const summary = await tb.ask(youngContact, '2');
      expect(summary).to.include('请确认订餐').and.include('自取');
      expect(await tb.ask(youngContact, '确认')).to.include('订好了');
      expect((await ordersOf(young)).map((o) => [o.date, o.mode])).to.deep.equal([[day2, 'pickup']]);
    });
  });

  describe('room bookings', () => {
    it('「能不能借给我们多功能厅…从九点到十一点」 books, and the purpose is what it is for, not the whole message', async () => {
      const summary = await tb.ask(contact, '能不能借给我们多功能厅，后天从九点到十一点，8个人排练合唱');
      expect(summary).to.include('请确认').and.include('09:00–11:00');
      expect(await tb.ask(contact, '确认')).to.include('预约成功');
      const [booking] = await RoomBooking.find({ bookedFor: elder._id }).lean();
      expect(booking!.purpose).to.equal('排练');
      expect(booking!.attendees).to.equal(8);
    });

    it('a question in the middle of a booking is answered and the booking resumes; 返回 goes one step back', async () => {
      expect(await tb.ask(contact, '我想借个活动室')).to.include('哪天');
      expect(await tb.ask(contact, '大后天')).to.include('几点');
      const menu = await tb.ask(contact, '大后天中午吃什么');
      expect(menu).to.include('清蒸鲈鱼').and.include('接着刚才的').and.include('几点');
      expect(await tb.ask(contact, '下午3点到5点')).to.include('几个人');
      expect(await tb.ask(contact, '返回')).to.include('几点');
      expect(await tb.ask(contact, '下午2点到4点')).to.include('几个人');
      const summary = await tb.ask(contact, '8个人');
      expect(summary).to.include('请确认').and.include('14:00–16:00');
    });
  });

  describe('room rules at the summary', () => {
    const say = (day: string) => `${Number(day.slice(5, 7))}月${Number(day.slice(8, 10))}号`;

    it('past the 14-day advance limit: refused at the summary with the nearest days within reach; 确认 takes the first', async () => {
      const far = dayFromToday(20);
      const refused = await tb.ask(contact, `${say(far)}下午2点到4点借多功能厅，8个人开会`);
      expect(refused).to.include('最多可提前 14 天').and.include('最近能约的时间').and.not.include('请确认预约');
      const summary = await tb.ask(contact, '确认');
      expect(summary).to.include('请确认预约').and.include('多功能厅');
      expect(await tb.ask(contact, '确认')).to.include('预约成功');
      const [booking] = await RoomBooking.find({ bookedFor: elder._id, purpose: '开会' }).lean();
      expect(booking!.start.getTime() - Date.now()).to.be.at.most(14 * 86_400_000);
    });

    it('a weekly series with a taken week: the summary names the weeks that do not fit with their reason, and books only the others', async () => {
      const studio = await makeRoom(centre, { name: '书画室', capacity: 12 });
      // The weekday of 后天, so the weeks are 2, 9 and 16 days ahead whatever the day of the run.
      const weekday = '日一二三四五六'[new Date(`${day2}T12:00:00+08:00`).getUTCDay()]!;
      const ask = `每周${weekday}下午三点到五点借书画室，连续三周，8个人练书法`;
      const dates = understand(ask, new Date()).dates!;
      expect(dates).to.deep.equal([day2, dayFromToday(9), dayFromToday(16)]);
      const neighbour = await makeResident({ community: community._id, name: '邻居王阿姨' });
      const neighbourContact = await tb.contactOf(neighbour);
      expect(await tb.ask(neighbourContact, `${say(dates[1]!)}下午三点到五点借书画室，8个人`)).to.include('请确认');
      expect(await tb.ask(neighbourContact, '确认')).to.include('预约成功');

      // The second week is taken; the third is past the 14-day limit: the first is the one that fits.
      const summary = await tb.ask(contact, ask);
      expect(summary).to.include('这几次约不上').and.include(`${dayWithWeekday(dates[1]!)}：`).and.include('已被预约')
        .and.include(`${dayWithWeekday(dates[2]!)}：`).and.include('请确认预约').and.include('书画室').and.include(`时间：${dayWithWeekday(dates[0]!)}`);
      expect(await tb.ask(contact, '确认')).to.include('预约成功');
      const mine = await RoomBooking.find({ bookedFor: elder._id, room: studio._id, status: 'confirmed' }).lean();
      expect(mine.map((b) => shanghaiDay(b.start))).to.deep.equal([dates[0]]);
    });
  });

  describe('childcare by age', () => {
    it('a 20-month-old is offered only the class of their age (托小班), never 托大班 first', async () => {
      const parent = await makeResident({ community: community._id, name: '刘妈妈' });
      await makeChild(parent, { name: '豆豆', months: 20 });
      const nursery = await makeChildcareCentre(community, { name: '幸福里托育园' });
      const day = dayFromToday(3);
      await makeSession(nursery, { date: day, from: '08:30', to: '11:30', classType: '托大班' });
      const small = await makeSession(nursery, { date: day, from: '08:30', to: '11:30', classType: '托小班' });
      const parentContact = await tb.contactOf(parent);
      const health = await tb.ask(parentContact, `${Number(day.slice(5, 7))}月${Number(day.slice(8))}号上午九点托管孩子`);
      expect(health).to.include('健康申报').and.not.include('托大班');
      const summary = await tb.ask(parentContact, '孩子很健康 没发烧');
      expect(summary).to.include('托小班').and.not.include('托大班');
      expect(await tb.ask(parentContact, '确认')).to.include('预约成功');
      expect(String((await ChildcareBooking.findOne({ bookedFor: parent._id }).lean())!.session)).to.equal(String(small._id));
    });
  });

  describe('the help menu', () => {
    it('is numbered, and a number picks its item', async () => {
      const menu = await tb.ask(contact, '你好');
      expect(menu).to.include('1. 订饭').and.include('2. 借活动室').and.include('7. 找工作人员');
      expect(await tb.ask(contact, '1')).to.include('订哪天');
      await tb.ask(contact, '取消');
      expect(await tb.ask(contact, '2')).to.include('哪天用活动室');
    });
  });
});
