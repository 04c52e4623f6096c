import { expect } from 'chai';
import type { mock } from 'wechaty-puppet-mock';
import { atShanghai, dayjs, shanghaiDay } from '../models/calendar.js';
import { ChildcareBooking, MealOrder, RoomBooking, VolunteerAssignment, type CommunityDoc, type FacilityDoc, type PersonDoc } from '../models/index.js';
import { asSelf } from '../src/auth/user.js';
import { claimVolunteerTask } from '../src/commands/volunteerAssignments.js';
import {
  makeChild, makeChildcareCentre, makeCommunity, makeFacility, makeKitchen, makeMenu, makeResident, makeRoom, makeSession,
  makeStaff, makeTask, makeVolunteer,
} from './factories/index.js';
import { startTestBot, type TestBot } from './support/bot.js';
import { useCleanStorage } from './support/storage.js';

const dayAhead = (n: number) => dayjs.utc(shanghaiDay(new Date())).add(n, 'day').format('YYYY-MM-DD');

describe('bot: volunteers withdraw and claim by kind; words for options; 人工 with the phone', () => {
  useCleanStorage();

  let tb: TestBot;
  let community: CommunityDoc;
  let centre: FacilityDoc;
  let volunteer: PersonDoc;
  let contact: mock.ContactMock;

  before(async () => {
    tb = await startTestBot();
    community = await makeCommunity({ dutyPhone: '020-82661234' });
    centre = await makeFacility(community);
    await makeStaff({ community: community._id });
  });

  beforeEach(async () => {
    volunteer = await makeVolunteer({ community: community._id, name: '吴志愿' });
    contact = await tb.contactOf(volunteer);
  });

  after(async () => {
    await tb?.stop();
  });

  const claimed = () => VolunteerAssignment.find({ volunteer: volunteer._id, status: 'claimed' }).lean();
  const claim = async (title: string, day: number, type: 'elderly_visit' | 'meal_delivery' = 'elderly_visit') => {
    const task = await makeTask(centre, {
      title, type, skillsRequired: [], start: atShanghai(dayAhead(day), '09:00'), end: atShanghai(dayAhead(day), '11:00'),
    });
    await claimVolunteerTask(task, volunteer, asSelf(volunteer));
    return task;
  };

  describe('volunteer.unclaim', () => {
    it('「文艺汇演我去不了」 picks that task among two claimed, and withdraws after 确认', async () => {
      const show = await claim('文艺汇演', 5);
      await claim('探访独居老人', 6);
      const summary = await tb.ask(contact, '文艺汇演我去不了');
      expect(summary).to.include('确定退出').and.include('文艺汇演');
      expect(await tb.ask(contact, '确认')).to.include('已退出');
      const left = await claimed();
      expect(left).to.have.length(1);
      expect(String(left[0]!.task)).not.to.equal(String(show._id));
    });

    it('「退出」 alone, the word the claim confirmation tells them to send, withdraws the one task', async () => {
      await claim('探访', 5);
      expect(await tb.ask(contact, '退出')).to.include('确定退出');
      expect(await tb.ask(contact, '确认')).to.include('已退出');
      expect(await claimed()).to.have.length(0);
    });

    it('「退出」 with nothing claimed says so (and orders nothing)', async () => {
      expect(await tb.ask(contact, '退出')).to.include('没有可以退出的志愿任务');
    });
  });

  describe('volunteer.claim by kind', () => {
    it('「后天送餐算我一个」 claims the delivery task of that day, not a meal order', async () => {
      const kitchen = await makeKitchen(community);
      await makeMenu(kitchen, { date: dayAhead(2), meal: 'lunch' });
      const delivery = await makeTask(centre, {
        title: '午餐送餐', type: 'meal_delivery', skillsRequired: [], start: atShanghai(dayAhead(2), '11:00'), end: atShanghai(dayAhead(2), '12:00'),
      });
      await makeTask(centre, { title: '同日探访', skillsRequired: [], start: atShanghai(dayAhead(2), '14:00'), end: atShanghai(dayAhead(2), '15:00') });
      expect(await tb.ask(contact, '后天送餐算我一个')).to.include('报名「午餐送餐」');
      expect(await tb.ask(contact, '确认')).to.include('报名成功');
      const [a] = await claimed();
      expect(String(a!.task)).to.equal(String(delivery._id));
      expect(await MealOrder.countDocuments({ bookedFor: volunteer._id })).to.equal(0);
    });
  });

  describe('words for options', () => {
    it('staff answer 「通过还是拒绝？」 with 通过', async () => {
      const room = await makeRoom(centre, { name: '报告厅', capacity: 50, approvalRequired: true });
      const resident = await makeResident({ community: community._id });
      const residentContact = await tb.contactOf(resident);
      await tb.ask(residentContact, `${Number(dayAhead(2).slice(5, 7))}月${Number(dayAhead(2).slice(8))}号9点到10点借报告厅，20个人`);
      expect(await tb.ask(residentContact, '确认')).to.include('需要工作人员审核');
      const staff = (await makeStaff({ community: community._id })).person;
      const staffContact = await tb.contactOf(staff);
      await tb.ask(staffContact, '待审核');
      expect(await tb.ask(staffContact, '第一个')).to.include('通过还是拒绝');
      expect(await tb.ask(staffContact, '通过')).to.include('已通过');
      expect((await RoomBooking.findOne({ room: room._id }).lean())!.status).to.equal('confirmed');
    });

    it('a parent picks 上午的那个 and answers the health question with 「孩子很健康 没发烧」', async () => {
      const kids = await makeChildcareCentre(community);
      const parent = await makeResident({ community: community._id, name: '张妈妈' });
      const child = await makeChild(parent, { name: '小米' });
      const morning = await makeSession(kids, { date: dayAhead(3), from: '09:00', to: '11:30' });
      await makeSession(kids, { date: dayAhead(3), from: '14:00', to: '17:00' });
      const c = await tb.contactOf(parent);
      const ask = await tb.ask(c, `${Number(dayAhead(3).slice(5, 7))}月${Number(dayAhead(3).slice(8))}号托管孩子`);
      expect(ask).to.include('选哪个时段');
      expect(await tb.ask(c, '上午的那个')).to.include('健康申报');
      expect(await tb.ask(c, '孩子很健康 没发烧')).to.include('请确认托育预约').and.include('09:00–11:30');
      expect(await tb.ask(c, '确认')).to.include('预约成功');
      const booking = await ChildcareBooking.findOne({ child: child._id }).lean();
      expect(String(booking!.session)).to.equal(String(morning._id));
    });
  });

  describe('人工', () => {
    it('gives the community\'s phone number', async () => {
      expect(await tb.ask(contact, '人工')).to.include('020-82661234');
    });
  });
});
