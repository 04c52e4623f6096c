import { expect } from 'chai';
import { trusted } from 'mongoose';
import type { mock } from 'wechaty-puppet-mock';
import { Notification, UrgentAlert, type CommunityDoc, type PersonDoc } from '../models/index.js';
import { escalateUnacknowledgedUrgentAlerts } from '../src/commands/urgentHelp.js';
import { bornYearsAgo, makeCommunity, makeKitchen, makeMenu, makeProxyLink, makeResident, makeStaff, makeSubsidyRule, dayFromToday } from './factories/index.js';
import { startTestBot, type TestBot } from './support/bot.js';
import { useCleanStorage } from './support/storage.js';

describe('bot: 紧急求助 (urgent help)', () => {
  useCleanStorage();

  let tb: TestBot;
  let community: CommunityDoc;
  let elder: PersonDoc;
  let daughter: PersonDoc;
  let gridWorker: PersonDoc;
  let staff: PersonDoc;
  let otherGridWorker: PersonDoc;
  let contact: mock.ContactMock;

  before(async () => {
    tb = await startTestBot({ RATE_LIMIT_BOT: '5/60' });
    community = await makeCommunity({ dutyPhone: '020-82661234' });
    const kitchen = await makeKitchen(community);
    await makeSubsidyRule(community);
    await makeMenu(kitchen, { date: dayFromToday(2), meal: 'lunch' });
    await makeMenu(kitchen, { date: dayFromToday(2), meal: 'dinner' });
    staff = (await makeStaff({ community: community._id, name: '值班王姐' })).person;
    gridWorker = await makeResident({ community: community._id, name: '网格员小陈', roles: ['resident', 'grid_worker'], workGrids: ['第一网格'] });
    otherGridWorker = await makeResident({ community: community._id, name: '别的网格员', roles: ['resident', 'grid_worker'], workGrids: ['第九网格'] });
  });

  beforeEach(async () => {
    // Alerts of earlier tests would answer a recipient's 收到 here.
    await UrgentAlert.deleteMany({});
    elder = await makeResident({
      community: community._id, name: '周大爷', birthDate: bornYearsAgo(82), grid: '第一网格', phone: '13900001111',
      address: { building: '3栋', unit: '2单元', room: '501' },
    });
    daughter = await makeResident({ community: community._id, name: '周女士' });
    await makeProxyLink(daughter, elder);
    contact = await tb.contactOf(elder);
  });

  after(async () => {
    await tb?.stop();
  });

  const alertsOf = (p: PersonDoc) => UrgentAlert.find({ person: p._id }).lean();
  const urgentNotes = (a: { _id: unknown }) => Notification.find({ key: new RegExp(`^urgent-alert:${a._id}:\\d+:`) }).lean();

  describe('a fall in the middle of a meal order', () => {
    it('answers with what to do and the numbers, tells family, grid worker and staff once, and keeps the order going', async () => {
      expect(await tb.ask(contact, '我想订饭')).to.include('哪天');
      const answer = await tb.ask(contact, '我摔了一跤起不来了');
      expect(answer).to.include('120').and.include('110').and.include('119').and.include('020-82661234');
      expect(answer).to.include('通知了您的家人');
      const [alert, ...more] = await alertsOf(elder);
      expect(more).to.have.length(0);
      expect(alert!.status).to.equal('open');
      expect(alert!.words).to.deep.equal(['我摔了一跤起不来了']);
      const told = (await urgentNotes(alert!)).map((n) => String(n.person)).sort();
      expect(told).to.deep.equal([daughter, gridWorker, staff].map((p) => String(p._id)).sort());
      expect(told).not.to.include(String(otherGridWorker._id));
      const note = (await urgentNotes(alert!))[0]!;
      expect(note.kind).to.equal('urgent_help');
      expect(note.text).to.include('周大爷').and.include('3栋2单元501').and.include('我摔了一跤起不来了').and.include('13900001111');
      // The conversation it interrupted is still there.
      expect(await tb.ask(contact, '后天')).to.include('午饭还是晚饭');
    });

    it('a second distress message while the alert is open adds its words and tells nobody twice', async () => {
      await tb.ask(contact, '救命');
      await tb.ask(contact, '我心口疼');
      const [alert, ...more] = await alertsOf(elder);
      expect(more).to.have.length(0);
      expect(alert!.words).to.deep.equal(['救命', '我心口疼']);
      expect(await urgentNotes(alert!)).to.have.length(3);
    });
  });

  describe('phrasings and typos', () => {
    for (const text of ['我摔倒了', '救命！', '就命啊', '我心口疼', '胸口好闷喘不上气', '头好晕 想吐', '我被困在电梯里了', '厨房着火了', '我在卫生间滑倒了 站不起来', '老伴晕倒了']) {
      it(`「${text}」 raises an alert`, async () => {
        const answer = await tb.ask(contact, text);
        expect(answer).to.include('紧急求助').and.include('120');
        expect(await alertsOf(elder)).to.have.length(1);
      });
    }

    it('「孩子很健康 没发烧」 and a meal order raise nothing', async () => {
      await tb.ask(contact, '孩子很健康 没发烧');
      await tb.ask(contact, '后天中午送一份饭到我家');
      expect(await alertsOf(elder)).to.have.length(0);
    });
  });

  describe('never rate-limited', () => {
    it('after a flood past the limit (one warning, then silence) a fall message is answered and raises its alert', async () => {
      const replies: string[] = [];
      const listener = (m: { self(): boolean; listener(): { id: string } | undefined; text(): string }) => {
        if (m.self() && m.listener()?.id === contact.id) replies.push(m.text());
      };
      tb.bot.wechaty.on('message', listener);
      try {
        for (let i = 0; i < 12; i++) {
          contact.say(`你好${i}`).to(tb.botUser);
          await new Promise((r) => setTimeout(r, 30));
        }
        await new Promise((r) => setTimeout(r, 500));
        const warnings = replies.filter((r) => r.includes('发消息太快了'));
        expect(warnings).to.have.length(1);
        expect(warnings[0]).to.match(/请 \d+ 秒后再发/).and.include('救命');
        expect(replies).to.have.length(6);
        const answer = await tb.ask(contact, '我摔倒了 起不来');
        expect(answer).to.include('120').and.include('通知了您的家人');
        expect(await alertsOf(elder)).to.have.length(1);
      } finally {
        tb.bot.wechaty.off('message', listener);
      }
    });
  });

  describe('anyone', () => {
    it('an unbound contact gets the numbers and is told nobody could be notified', async () => {
      const stranger = tb.mocker.createContact({ name: '路人' });
      const answer = await tb.ask(stranger, '救命 有人摔倒了');
      expect(answer).to.include('120').and.include('还没有绑定');
    });

    it('staff writing in distress raise their own alert', async () => {
      const colleague = (await makeStaff({ community: community._id, name: '李姐' })).person;
      const c = await tb.contactOf(colleague);
      expect(await tb.ask(c, '我肚子好疼 受不了了')).to.include('120');
      expect(await alertsOf(colleague)).to.have.length(1);
    });
  });

  describe('acknowledgement and escalation', () => {
    it('the first recipient who replies 收到 takes it; the elder and the others are told; a second 收到 goes to the dialogue', async () => {
      await tb.ask(contact, '我摔倒了');
      const gridContact = await tb.contactOf(gridWorker);
      const taken = await tb.ask(gridContact, '收到');
      expect(taken).to.include('由您处理').and.include('周大爷').and.include('13900001111');
      const [alert] = await alertsOf(elder);
      expect(alert!.status).to.equal('acknowledged');
      expect(String(alert!.acknowledgedBy)).to.equal(String(gridWorker._id));
      const acks = await Notification.find({ key: new RegExp(`^urgent-alert:${alert!._id}:ack:`) }).lean();
      const others = alert!.recipients.map(String).filter((r) => r !== String(gridWorker._id));
      expect(others).to.include(String(daughter._id)).and.include(String(staff._id));
      expect(acks.map((n) => String(n.person)).sort()).to.deep.equal([String(elder._id), ...others].sort());
      expect(acks.find((n) => String(n.person) === String(elder._id))!.text).to.include('网格员小陈');
      const staffContact = await tb.contactOf(staff);
      expect(await tb.ask(staffContact, '收到')).not.to.include('由您处理');
      // A new fall after the acknowledgement is a new alert.
      await tb.ask(contact, '又摔倒了');
      expect(await alertsOf(elder)).to.have.length(2);
    });

    it('unacknowledged after the configured minutes goes to the admins, once; an acknowledged one does not', async () => {
      const admin = await makeResident({ community: community._id, name: '管理员', roles: ['admin'] });
      const otherAdmin = await makeResident({ name: '别社区管理员', roles: ['admin'], staffScope: { community: (await makeCommunity())._id } });
      await tb.ask(contact, '救命');
      await tb.ask(await tb.contactOf(daughter), '收到');
      await tb.ask(contact, '我又摔倒了');
      const [acknowledged, alert] = await UrgentAlert.find({ person: elder._id }).sort({ createdAt: 1 }).lean();
      expect(acknowledged!.status).to.equal('acknowledged');
      const settings = { escalateAfterMinutes: 5, dutyPhone: '' };
      expect((await escalateUnacknowledgedUrgentAlerts(settings, new Date(Date.now() + 60_000))).alerts).to.equal(0);
      const later = new Date(alert!.raisedAt.getTime() + 6 * 60_000);
      const first = await escalateUnacknowledgedUrgentAlerts(settings, later);
      expect(first.alerts).to.be.at.least(1);
      const escalated = await Notification.find({ key: new RegExp(`^urgent-alert:${alert!._id}:escalated:`) }).lean();
      const people = escalated.map((n) => String(n.person));
      expect(people).to.include(String(admin._id));
      expect(people).not.to.include(String(otherAdmin._id));
      expect(escalated[0]!.text).to.include('无人响应').and.include('3栋2单元501');
      expect((await escalateUnacknowledgedUrgentAlerts(settings, later)).alerts).to.equal(0);
      expect(await UrgentAlert.countDocuments({ status: 'acknowledged', escalatedAt: trusted({ $exists: true }) })).to.equal(0);
    });
  });
});
