import { expect } from 'chai';
import { dayjs } from '../models/calendar.js';
import type { mock } from 'wechaty-puppet-mock';
import { ChildcareBooking, ChildcareWaitlistEntry, type ChildDoc, type FacilityDoc, type PersonDoc } from '../models/index.js';
import { makeChild, makeChildcareCentre, makeCommunity, makeResident, makeSession, shanghaiDayFromNow } from './factories/index.js';
import { startTestBot, type TestBot } from './support/bot.js';
import { useCleanStorage } from './support/storage.js';

describe('bot: childcare in conversation', () => {
  useCleanStorage();

  let tb: TestBot;
  let centre: FacilityDoc;
  let parent: PersonDoc;
  let child: ChildDoc;
  let contact: mock.ContactMock;
  /** Three days ahead: before the day-before cut-offs, whatever the time of the run. */
  const day = shanghaiDayFromNow(3);
  const said = `${Number(day.slice(5, 7))}月${Number(day.slice(8))}号`;

  before(async () => {
    tb = await startTestBot();
    const community = await makeCommunity();
    centre = await makeChildcareCentre(community, { name: '幸福里托育园' });
    parent = await makeResident({ community: community._id, name: '张妈妈' });
    child = await makeChild(parent, { name: '小米' });
    contact = await tb.contactOf(parent);
  });

  after(async () => {
    await tb?.stop();
  });

  describe('childcare.book', () => {
    it('books from one message: the session at the time asked, the health declaration, then 确认', async () => {
      const session = await makeSession(centre, { date: day, from: '09:00', to: '11:30' });
      await makeSession(centre, { date: day, from: '14:00', to: '17:00' });

      const health = await tb.ask(contact, `${said}上午九点托管孩子`);
      expect(health).to.include('健康申报').and.include('回复数字即可');
      const summary = await tb.ask(contact, '1');
      expect(summary).to.include('请确认托育预约').and.include('小米').and.include('09:00–11:30');
      expect(await tb.ask(contact, '确认')).to.include('预约成功');
      const booking = await ChildcareBooking.findOne({ child: child._id }).lean();
      expect(String(booking!.session)).to.equal(String(session._id));
      expect(booking!.healthDeclaration?.healthy).to.equal(true);
    });

    it('builds a booking over several turns and takes a correction of the day (改)', async () => {
      const later = shanghaiDayFromNow(4);
      await makeSession(centre, { date: later, from: '08:30', to: '11:30' });
      expect(await tb.ask(contact, '我想给孩子约托管')).to.include('哪天');
      const sessions = await tb.ask(contact, said);
      expect(sessions).to.include('选哪个时段');
      const morning = sessions.split('\n').find((l) => l.includes('09:00–11:30'))!.split('.')[0]!;
      expect(await tb.ask(contact, morning)).to.include('健康申报');
      expect(await tb.ask(contact, '1')).to.include('请确认托育预约');
      expect(await tb.ask(contact, '改')).to.include('要改哪一项');
      expect(await tb.ask(contact, '1')).to.include('哪天');
      const summary = await tb.ask(contact, `${Number(later.slice(5, 7))}月${Number(later.slice(8))}号`);
      expect(summary).to.include('请确认托育预约').and.include('08:30–11:30');
      expect(await tb.ask(contact, '确认')).to.include('预约成功');
      expect(await ChildcareBooking.countDocuments({ child: child._id, date: later, status: 'confirmed' })).to.equal(1);
    });

    it('refuses past the cut-off (book by 17:00 the day before), with the reason in Chinese', async () => {
      // A session later today, or (late in the evening) tomorrow morning: past its cut-off either way.
      const hour = Math.max(Number(dayjs().tz('Asia/Shanghai').format('H')) + 1, 8);
      const from = `${hour}:00`.padStart(5, '0');
      const [date, said2] = hour <= 21 ? [shanghaiDayFromNow(0), `今天${from}`] : [shanghaiDayFromNow(1), '明天08:00'];
      await makeSession(centre, { date, from: hour <= 21 ? from : '08:00', to: hour <= 21 ? `${hour + 1}:00`.padStart(5, '0') : '09:00' });
      await tb.ask(contact, `${said2}托管孩子`);
      await tb.ask(contact, '1');
      const refused = await tb.ask(contact, '确认');
      expect(refused).to.match(/前一天|17:00/);
      expect(await ChildcareBooking.countDocuments({ child: child._id, date })).to.equal(0);
    });

    it('puts the child on the waitlist when the session is full, and says so', async () => {
      const full = await makeSession(centre, { date: day, from: '18:00', to: '20:00', capacity: 0 });
      await tb.ask(contact, `${said}晚上6点托管孩子`);
      await tb.ask(contact, '1');
      expect(await tb.ask(contact, '确认')).to.include('已满').and.include('排队');
      expect(await ChildcareWaitlistEntry.countDocuments({ session: full._id, child: child._id })).to.equal(1);
    });

    it('refuses with the reason when the child is unwell (nothing booked)', async () => {
      const other = await makeResident({ community: parent.community!, name: '李爸爸' });
      const kid = await makeChild(other, { name: '小豆' });
      const otherContact = await tb.contactOf(other);
      await tb.ask(otherContact, `${said}上午九点托管孩子`);
      expect(await tb.ask(otherContact, '2')).to.include('先在家休息');
      expect(await ChildcareBooking.countDocuments({ child: kid._id })).to.equal(0);
    });
  });

  describe('childcare.availability and booking.list', () => {
    it('tells the free places of the day, and lists the booking', async () => {
      const answer = await tb.ask(contact, `${said}托育还有名额吗`);
      expect(answer).to.include('托小班').and.include('09:00–11:30').and.include('名额');
      expect(await tb.ask(contact, '我约过的都给我看看')).to.include('托育').and.include('09:00–11:30');
    });
  });

  describe('childcare.cancel', () => {
    it('cancels the booking of the day named, after 确认', async () => {
      expect(await tb.ask(contact, `${said}的托管不去了`)).to.include('确定取消');
      expect(await tb.ask(contact, '确认')).to.include('已取消');
      expect(await ChildcareBooking.countDocuments({ child: child._id, date: day, status: 'confirmed' })).to.equal(0);
    });
  });
});
