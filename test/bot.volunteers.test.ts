import { expect } from 'chai';
import { trusted } from 'mongoose';
import type { mock } from 'wechaty-puppet-mock';
import { atShanghai, dayjs, shanghaiDay } from '../models/calendar.js';
import { Person, VolunteerAssignment, VolunteerTask, type CommunityDoc, type FacilityDoc, type PersonDoc } from '../models/index.js';
import { makeAssignment, makeCommunity, makeFacility, makeResident, makeTask, makeVolunteer } from './factories/index.js';
import { startTestBot, type TestBot } from './support/bot.js';
import { useCleanStorage } from './support/storage.js';

const dayAhead = (n: number) => dayjs.utc(shanghaiDay(new Date())).add(n, 'day').format('YYYY-MM-DD');

describe('bot: volunteers in conversation', () => {
  useCleanStorage();

  let tb: TestBot;
  let community: CommunityDoc;
  let centre: FacilityDoc;
  let volunteer: PersonDoc;
  let contact: mock.ContactMock;

  before(async () => {
    tb = await startTestBot();
    community = await makeCommunity();
    centre = await makeFacility(community);
    volunteer = await makeVolunteer({ community: community._id, name: '吴志愿' });
    contact = await tb.contactOf(volunteer);
  });

  after(async () => {
    await tb?.stop();
  });

  const claims = () => VolunteerAssignment.find({ volunteer: volunteer._id, status: 'claimed' }).lean();

  describe('volunteer.tasks → claim', () => {
    it('lists the open tasks by number and claims the one picked after 确认', async () => {
      const visit = await makeTask(centre, { title: '探访独居老人', start: atShanghai(dayAhead(3), '09:00'), end: atShanghai(dayAhead(3), '11:00') });
      await makeTask(centre, { title: '活动室布置', type: 'room_setup', skillsRequired: [], start: atShanghai(dayAhead(4), '14:00'), end: atShanghai(dayAhead(4), '15:00') });

      const list = await tb.ask(contact, '最近有啥志愿活动');
      expect(list).to.include('探访独居老人').and.include('活动室布置').and.include('回复数字即可');
      const number = list.split('\n').find((l) => l.includes('探访独居老人'))!.split('.')[0]!;
      expect(await tb.ask(contact, number)).to.include('报名「探访独居老人」');
      expect(await tb.ask(contact, '确认')).to.include('报名成功');
      const [claim] = await claims();
      expect(String(claim!.task)).to.equal(String(visit._id));
    });

    it('claims the task of the day named in one message, and refuses a second overlapping one with the reason', async () => {
      await makeTask(centre, { title: '送餐', type: 'meal_delivery', skillsRequired: ['送餐'], start: atShanghai(dayAhead(5), '11:00'), end: atShanghai(dayAhead(5), '12:00') });
      const ask = await tb.ask(contact, `${dayjs(dayAhead(5)).month() + 1}月${dayjs(dayAhead(5)).date()}号的送餐我报名`);
      expect(ask).to.include('报名「送餐」');
      expect(await tb.ask(contact, '确认')).to.include('报名成功');

      await makeTask(centre, { title: '同时段探访', start: atShanghai(dayAhead(5), '11:30'), end: atShanghai(dayAhead(5), '12:30') });
      await tb.ask(contact, `${dayjs(dayAhead(5)).month() + 1}月${dayjs(dayAhead(5)).date()}号的探访我报名`);
      expect(await tb.ask(contact, '确认')).to.include('时间重叠');
    });
  });

  describe('volunteer.claim over several turns', () => {
    it('goes back (返回) from the summary to the list and claims the task picked then', async () => {
      await makeTask(centre, { title: '周末义诊引导', type: 'event', skillsRequired: [], start: atShanghai(dayAhead(6), '09:00'), end: atShanghai(dayAhead(6), '10:00') });
      await makeTask(centre, { title: '周末图书整理', type: 'event', skillsRequired: [], start: atShanghai(dayAhead(6), '14:00'), end: atShanghai(dayAhead(6), '15:00') });
      const list = await tb.ask(contact, '我想报名志愿活动');
      const pick = (title: string, text: string) => text.split('\n').find((l) => l.includes(title))!.split('.')[0]!;
      expect(await tb.ask(contact, pick('周末义诊引导', list))).to.include('周末义诊引导');
      const again = await tb.ask(contact, '返回');
      expect(again).to.include('周末图书整理');
      expect(await tb.ask(contact, pick('周末图书整理', again))).to.include('报名「周末图书整理」');
      expect(await tb.ask(contact, '确认')).to.include('报名成功');
      const tasks = await VolunteerTask.find({ title: trusted({ $in: ['周末义诊引导', '周末图书整理'] }) }).lean();
      const claimed = await VolunteerAssignment.find({ volunteer: volunteer._id, task: trusted({ $in: tasks.map((t) => t._id) }) }).lean();
      expect(claimed.map((a) => String(a.task))).to.deep.equal([String(tasks.find((t) => t.title === '周末图书整理')!._id)]);
    });
  });

  describe('volunteer.unclaim', () => {
    it('releases the claim of the day named after 确认', async () => {
      const before = (await claims()).length;
      const ask = await tb.ask(contact, `${dayjs(dayAhead(5)).month() + 1}月${dayjs(dayAhead(5)).date()}号的送餐我去不了，帮我退出`);
      expect(ask).to.include('确定退出');
      expect(await tb.ask(contact, '确认')).to.include('已退出');
      expect(await claims()).to.have.length(before - 1);
    });
  });

  describe('volunteer.checkin and volunteer.checkout', () => {
    it('checks in with the site code asked for, refuses a wrong one, and checks out', async () => {
      const soon = new Date(Math.ceil((Date.now() + 20 * 60_000) / 60_000) * 60_000);
      const task = await makeTask(centre, { title: '现场帮忙', skillsRequired: [], start: soon, end: new Date(soon.getTime() + 3_600_000) });
      await tb.ask(contact, '志愿活动');
      const list = await tb.ask(contact, '志愿活动');
      const number = list.split('\n').find((l) => l.includes('现场帮忙'))!.split('.')[0]!;
      await tb.ask(contact, number);
      expect(await tb.ask(contact, '确认')).to.include('报名成功');

      expect(await tb.ask(contact, '我到了')).to.include('签到码');
      const wrong = task.siteCode === '000000' ? '111111' : '000000';
      expect(await tb.ask(contact, wrong)).to.include('签到码不正确');
      // The conversation survives the wrong code: asked again, and the right code sent next checks in.
      expect(await tb.ask(contact, '我到了')).to.include('签到码');
      expect(await tb.ask(contact, wrong)).to.include('签到码不正确');
      expect(await tb.ask(contact, task.siteCode)).to.include('签到成功');
      expect(await tb.ask(contact, '我做完了，签退')).to.include('签退成功');
      const done = await VolunteerAssignment.findOne({ task: task._id }).lean();
      expect(done!.status).to.equal('checked_out');
    });
  });

  describe('volunteer.hours', () => {
    it('tells hours, points, stars and the time bank', async () => {
      const past = await makeTask(centre, { start: new Date(Date.now() - 5 * 86_400_000), end: new Date(Date.now() - 5 * 86_400_000 + 3_600_000) });
      await makeAssignment(past, volunteer, { approvedMinutes: 100 * 60, points: 1000 });
      const answer = await tb.ask(contact, '我现在几星了');
      expect(answer).to.include('100 小时').and.include('1 星').and.include('时间银行');
    });
  });

  describe('volunteer.register', () => {
    it('registers a resident after 确认, for staff to verify', async () => {
      const resident = await makeResident({ community: community._id });
      const residentContact = await tb.contactOf(resident);
      expect(await tb.ask(residentContact, '我要注册志愿者')).to.include('确认');
      expect(await tb.ask(residentContact, '确认')).to.include('已提交注册');
      const stored = await Person.findById(resident._id).lean();
      expect(stored!.roles).to.include('volunteer');
      expect(stored!.volunteer?.verified).to.equal(false);
    });
  });
});
