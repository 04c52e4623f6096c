import { expect } from 'chai';
import type { mock } from 'wechaty-puppet-mock';
import { volunteerGroupBoard } from '../bots/flows/volunteerGroup.js';
import { JOBS, runJobTick } from '../jobs/index.js';
import { VolunteerAssignment } from '../models/index.js';
import { makeCommunity, makeFacility, makeTask, makeVolunteer } from './factories/index.js';
import { startTestBot, type TestBot } from './support/bot.js';
import { testEnvironment } from './support/env.js';
import { startInstances } from './support/instances.js';
import { useCleanStorage } from './support/storage.js';

const GROUP = '幸福里志愿者群';

describe('bot: the volunteers’ group', () => {
  useCleanStorage();

  let tb: TestBot;
  let group: mock.RoomMock;
  let member: mock.ContactMock;
  let stranger: mock.ContactMock;

  before(async () => {
    tb = await startTestBot({ BOT_VOLUNTEER_GROUP: GROUP });
    const community = await makeCommunity();
    const volunteer = await makeVolunteer({ community: community._id, name: '钱志愿' });
    member = await tb.contactOf(volunteer);
    stranger = tb.mocker.createContact({ name: '群友' });
    group = tb.mocker.createRoom({ topic: GROUP, memberIdList: [tb.botUser.id, member.id, stranger.id] });
    const centre = await makeFacility(community);
    await makeTask(centre, { title: '明早送餐', type: 'meal_delivery', skillsRequired: ['送餐'], start: new Date(Date.now() + 10 * 3_600_000), peopleNeeded: 2 });
    await makeTask(centre, { title: '周末义诊引导', type: 'event', skillsRequired: [], start: new Date(Date.now() + 4 * 86_400_000) });
  });

  after(async () => {
    await tb?.stop();
  });

  it('posts the unfilled and the new tasks once, however many instances run the job, and a reply of the number claims', async () => {
    const { instances, close } = await startInstances(3);
    try {
      const board = volunteerGroupBoard(tb.bot.wechaty, testEnvironment().redis, GROUP);
      const job = JOBS.find((j) => j.name === 'volunteers.announceTasks')!;
      const post = tb.nextReply(group);
      const now = new Date();
      await Promise.all(instances.map((i) => runJobTick({ ...i.deps, taskBoard: board }, job, now, now)));
      const text = await post;
      expect(text).to.include('还缺人').and.include('1. 明早送餐').and.include('新的志愿任务').and.include('2. 周末义诊引导');
      // Nothing new: the next run posts nothing.
      const silent = tb.staysSilent(group);
      await Promise.all(instances.map((i) => runJobTick({ ...i.deps, taskBoard: board }, job, new Date(now.getTime() + 900_000), new Date(now.getTime() + 900_000))));
      expect(await silent).to.equal(true);
    } finally {
      await close();
    }

    const answer = tb.nextReply(group);
    member.say('1').to(group); // no @ needed for a number in the volunteers' group
    expect(await answer).to.include('报名成功').and.include('明早送餐');
    expect(await VolunteerAssignment.countDocuments({ status: 'claimed' })).to.equal(1);

    const unbound = tb.nextReply(group);
    stranger.say('2').to(group);
    expect(await unbound).to.include('绑定');
  });

  it('stays silent on other talk in the group, and on numbers in other groups', async () => {
    const silent = tb.staysSilent(group);
    member.say('大家辛苦了').to(group);
    expect(await silent).to.equal(true);
    const other = tb.mocker.createRoom({ topic: '楼栋群', memberIdList: [tb.botUser.id, member.id] });
    const quiet = tb.staysSilent(other);
    member.say('2').to(other);
    expect(await quiet).to.equal(true);
  });
});
