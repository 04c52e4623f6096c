import { expect } from 'chai';
import { trusted } from 'mongoose';
import type { mock } from 'wechaty-puppet-mock';
import { replies } from '../bots/replies.js';
import { atShanghai, dayjs, shanghaiDay } from '../models/calendar.js';
import { CapacityClaim, Notification, RoomBooking, type CommunityDoc, type FacilityDoc, type PersonDoc, type RoomDoc } from '../models/index.js';
import { makeCommunity, makeFacility, makeProxyLink, makeResident, makeRoom, makeStaff } from './factories/index.js';
import { refreshScheduleEntries } from '../src/booking/scheduleProjection.js';
import { startTestBot, type TestBot } from './support/bot.js';
import { testEnvironment } from './support/env.js';
import { useCleanStorage } from './support/storage.js';

/** The Shanghai day `n` days from today, and how residents say it. */
const dayAhead = (n: number) => dayjs.utc(shanghaiDay(new Date())).add(n, 'day').format('YYYY-MM-DD');

describe('bot: community-centre rooms in conversation', () => {
  useCleanStorage();

  let tb: TestBot;
  let community: CommunityDoc;
  let centre: FacilityDoc;
  let hall: RoomDoc;
  let resident: PersonDoc;
  let contact: mock.ContactMock;

  before(async () => {
    tb = await startTestBot();
    community = await makeCommunity();
    centre = await makeFacility(community, { name: '幸福里党群服务中心' });
    hall = await makeRoom(centre, { name: '多功能厅', capacity: 30 });
    resident = await makeResident({ community: community._id, name: '陈阿姨' });
    contact = await tb.contactOf(resident);
  });

  after(async () => {
    await tb?.stop();
  });

  /**
   * Removes a person's bookings and the claims that hold their rooms, as if never made; the
   * grid's Redis projection (which the bot's free-room list reads) is told they are gone.
   */
  async function forgetBookings(person: PersonDoc) {
    const ids = (await RoomBooking.find({ bookedFor: person._id }, { _id: 1 }).lean()).map((b) => b._id);
    await RoomBooking.updateMany({ _id: trusted({ $in: ids }) }, { $set: { status: 'cancelled' } });
    await refreshScheduleEntries(testEnvironment().redis, ids);
    await CapacityClaim.deleteMany({ holder: trusted({ $in: ids }) });
    await RoomBooking.deleteMany({ _id: trusted({ $in: ids }) });
  }
  const bookingsOf = (person: PersonDoc) => RoomBooking.find({ bookedFor: person._id, status: 'confirmed' }).sort({ start: 1 }).lean();

  describe('room.book', () => {
    it('books from one free-text message after 确认', async () => {
      const summary = await tb.ask(contact, '后天下午两点到四点借多功能厅，10个人');
      expect(summary).to.include('请确认').and.include('多功能厅').and.include('14:00–16:00').and.include('10人');
      expect(await RoomBooking.countDocuments({ bookedFor: resident._id })).to.equal(0);

      expect(await tb.ask(contact, '确认')).to.include('预约成功');
      const [booking] = await bookingsOf(resident);
      expect(booking!.start.toISOString()).to.equal(atShanghai(dayAhead(2), '14:00').toISOString());
      expect(booking!.end.toISOString()).to.equal(atShanghai(dayAhead(2), '16:00').toISOString());
      expect(booking!.attendees).to.equal(10);
      expect(String(booking!.room)).to.equal(String(hall._id));
      expect(String(booking!.bookedBy)).to.equal(String(resident._id));
      await forgetBookings(resident);
    });

    it('builds a booking over several turns, asks only for what is missing, and takes a correction (改)', async () => {
      const small = await makeRoom(centre, { name: '书画室', capacity: 12 });
      expect(await tb.ask(contact, '我想借个活动室')).to.include('哪天');
      expect(await tb.ask(contact, `${dayjs(dayAhead(3)).month() + 1}月${dayjs(dayAhead(3)).date()}号`)).to.include('几点');
      expect(await tb.ask(contact, '下午3点到5点')).to.include('几个人');
      const rooms = await tb.ask(contact, '8个人');
      expect(rooms).to.include('书画室').and.include('多功能厅').and.include('回复数字即可');
      const lines = rooms.split('\n');
      const choice = lines.find((l) => l.includes('书画室'))!.split('.')[0]!;
      const summary = await tb.ask(contact, choice);
      expect(summary).to.include('书画室').and.include('15:00–17:00');

      expect(await tb.ask(contact, '改')).to.include('要改哪一项').and.include('时间');
      expect(await tb.ask(contact, '2')).to.include('几点');
      const corrected = await tb.ask(contact, '上午9点到11点');
      // The room was chosen for the old time: it is asked again, or kept when it is the only fit.
      const finalSummary = corrected.includes('请确认') ? corrected : await tb.ask(contact, corrected.split('\n').find((l) => l.includes('书画室'))!.split('.')[0]!);
      expect(finalSummary).to.include('09:00–11:00');
      expect(await tb.ask(contact, '确认')).to.include('预约成功');
      const [booking] = await bookingsOf(resident);
      expect(booking!.start.toISOString()).to.equal(atShanghai(dayAhead(3), '09:00').toISOString());
      expect(String(booking!.room)).to.equal(String(small._id));
      await forgetBookings(resident);
      await small.deleteOne();
    });

    it('books for a linked elder (帮我妈…): booked by the son, for the mother', async () => {
      const mother = await makeResident({ community: community._id, name: '李奶奶' });
      const son = await makeResident({ community: community._id, name: '李先生' });
      await makeProxyLink(son, mother);
      const sonContact = await tb.contactOf(son);

      const summary = await tb.ask(sonContact, '帮我妈借后天上午9点到10点的多功能厅，5个人');
      expect(summary).to.include('李奶奶');
      expect(await tb.ask(sonContact, '确认')).to.include('预约成功');
      const [booking] = await bookingsOf(mother);
      expect(String(booking!.bookedBy)).to.equal(String(son._id));
    });

    it('says why when nothing fits, in Chinese, and books nothing', async () => {
      const other = await makeResident({ community: community._id });
      const otherContact = await tb.contactOf(other);
      await tb.ask(otherContact, '后天下午两点到四点借多功能厅，10个人');
      expect(await tb.ask(otherContact, '确认')).to.include('预约成功');

      const refused = await tb.ask(contact, '后天下午两点到四点借多功能厅，10个人');
      expect(refused).to.include('没有合适的空活动室').and.include('14:00–16:00');
      expect(await RoomBooking.countDocuments({ bookedFor: resident._id })).to.equal(0);
      expect(await tb.ask(contact, '取消')).to.equal(replies.cancelled);
    });

    it('checks the summary again on a correction: a room taken meanwhile is said before 确认, with the nearest free times (read from the grid)', async () => {
      expect(await tb.ask(contact, '大后天上午十点到十一点借多功能厅，5个人')).to.include('请确认');
      const neighbour = await makeResident({ community: community._id, name: '李叔' });
      const other = await tb.contactOf(neighbour);
      await tb.ask(other, '大后天上午九点到十一点借多功能厅，10个人');
      expect(await tb.ask(other, '确认')).to.include('预约成功');
      const claimsBefore = await CapacityClaim.countDocuments({});

      const summary = await tb.ask(contact, '6个人');
      expect(summary).to.include('已被预约').and.not.include('请确认');
      expect(summary).to.include('1. '); // the nearest times it would accept, numbered
      expect(await CapacityClaim.countDocuments({})).to.equal(claimsBefore); // nothing claimed to check
      expect(await RoomBooking.countDocuments({ bookedFor: resident._id })).to.equal(0);
      await tb.ask(contact, '取消');
      await forgetBookings(neighbour);
    });

    it('refuses at 确认 a room booked since the summary, as the claims would, without writing a claim to take back', async () => {
      expect(await tb.ask(contact, '大后天下午两点到三点借多功能厅，5个人')).to.include('请确认');
      const neighbour = await makeResident({ community: community._id, name: '王婶' });
      const other = await tb.contactOf(neighbour);
      await tb.ask(other, '大后天下午两点到四点借多功能厅，10个人');
      expect(await tb.ask(other, '确认')).to.include('预约成功');

      // Claims are written with the driver's insert command (src/booking/claims.ts): count those.
      const db = CapacityClaim.db.db!;
      const command = db.command.bind(db);
      const inserts: string[] = [];
      db.command = ((cmd: Record<string, unknown>, options?: object) => {
        if (cmd.insert === CapacityClaim.collection.collectionName) inserts.push(String(cmd.insert));
        return command(cmd as never, options as never);
      }) as typeof db.command;
      let refused: string;
      try {
        refused = await tb.ask(contact, '确认');
      } finally {
        db.command = command;
      }
      expect(refused).to.include('已被预约').and.include('14:00');
      expect(inserts, 'claims written at 确认').to.have.length(0);
      expect(await RoomBooking.countDocuments({ bookedFor: resident._id })).to.equal(0);
      await tb.ask(contact, '取消');
      await forgetBookings(neighbour);
    });

    it('passes on a rule’s refusal: too far ahead', async () => {
      const far = dayjs(dayAhead(40));
      const answer = await tb.ask(contact, `${far.month() + 1}月${far.date()}号上午9点到10点借多功能厅，5个人`);
      const final = answer.includes('请确认') ? await tb.ask(contact, '确认') : answer;
      expect(final).to.match(/最多可提前 14 天预约|没有合适的空活动室/);
      expect(await RoomBooking.countDocuments({ bookedFor: resident._id })).to.equal(0);
      await tb.ask(contact, '取消');
    });
  });

  describe('room.cancel', () => {
    it('cancels the booking of the day named, after 确认', async () => {
      await tb.ask(contact, '后天上午10点到11点借多功能厅，3个人');
      expect(await tb.ask(contact, '确认')).to.include('预约成功');
      const ask = await tb.ask(contact, '取消后天借的活动室');
      expect(ask).to.include('确定取消').and.include('10:00–11:00');
      expect(await tb.ask(contact, '确认')).to.include('已取消');
      expect(await bookingsOf(resident)).to.have.length(0);
    });
  });

  describe('room.reschedule', () => {
    it('moves a booking to another day at the same time: the new one is booked before the old one is cancelled', async () => {
      await tb.ask(contact, '后天上午10点到11点借多功能厅，3个人');
      expect(await tb.ask(contact, '确认')).to.include('预约成功');
      const ask = await tb.ask(contact, '把后天的活动室改到大后天');
      expect(ask).to.include('改到').and.include('10:00–11:00');
      expect(await tb.ask(contact, '确认')).to.include('已改好');
      const [moved] = await bookingsOf(resident);
      expect(moved!.start.toISOString()).to.equal(atShanghai(dayAhead(3), '10:00').toISOString());
      expect(await RoomBooking.countDocuments({ bookedFor: resident._id, status: 'cancelled' })).to.be.at.least(1);
      await forgetBookings(resident);
    });
  });

  describe('booking.list and room.availability', () => {
    it('lists what is booked, and the free times of a day', async () => {
      await tb.ask(contact, '后天下午5点到6点借多功能厅，3个人');
      await tb.ask(contact, '确认');
      expect(await tb.ask(contact, '我的预约')).to.include('多功能厅').and.include('17:00–18:00');
      const free = await tb.ask(contact, '后天还有空房间吗');
      // The hour booked is the gap between two free ranges of the room.
      expect(free).to.include('多功能厅').and.include('17:00、18:00').and.not.include('17:00–18:00');
    });
  });

  describe('steering: unknown input, 取消, 返回, silence', () => {
    it('answers what it does not understand with the menu, never an error', async () => {
      expect(await tb.ask(contact, '今天股票涨了吗')).to.equal(replies.menu);
      expect(await tb.ask(contact, '你好')).to.equal(replies.menu);
    });

    it('drops the conversation on 取消, steps back on 返回, and forgets after 30 minutes', async () => {
      expect(await tb.ask(contact, '我想借活动室')).to.include('哪天');
      expect(await tb.ask(contact, '明天')).to.include('几点');
      expect(await tb.ask(contact, '返回')).to.include('哪天');
      const ttl = await testEnvironment().redis.ttl(`bot-dialogue:${contact.id}`);
      expect(ttl).to.be.greaterThan(1700).and.at.most(1800);
      expect(await tb.ask(contact, '取消')).to.equal(replies.cancelled);
      expect(await testEnvironment().redis.exists(`bot-dialogue:${contact.id}`)).to.equal(0);
    });

    it('answers two quick messages in order, without racing over the conversation', async () => {
      const replies2: string[] = [];
      const first = tb.nextReply(contact).then((r) => replies2.push(r));
      contact.say('我想借活动室').to(tb.botUser);
      await first;
      const second = new Promise<void>((resolve) => {
        let n = 0;
        const listener = (m: { self(): boolean; text(): string; listener(): { id: string } | undefined }) => {
          if (!m.self() || m.listener()?.id !== contact.id) return;
          replies2.push(m.text());
          if (++n === 2) {
            tb.bot.wechaty.off('message', listener as never);
            resolve();
          }
        };
        tb.bot.wechaty.on('message', listener as never);
      });
      contact.say('后天').to(tb.botUser);
      contact.say('下午3点到4点').to(tb.botUser);
      await second;
      expect(replies2[1]).to.include('几点');
      expect(replies2[2]).to.include('几个人');
      await tb.ask(contact, '取消');
    });
  });

  describe('人工', () => {
    it('asks the community’s staff, with the last messages, and says who will answer', async () => {
      const { person: staff } = await makeStaff({ community: community._id });
      await tb.ask(contact, '借活动室怎么收费');
      const answer = await tb.ask(contact, '叫个人来');
      expect(answer).to.include('工作人员');
      const note = await Notification.findOne({ person: staff._id, kind: 'human_request' });
      expect(note!.text).to.include('借活动室怎么收费');
    });
  });
});
