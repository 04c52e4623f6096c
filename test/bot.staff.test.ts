import { expect } from 'chai';
import type { mock } from 'wechaty-puppet-mock';
import { atShanghai, dayjs, shanghaiDay } from '../models/calendar.js';
import { Notification, RoomBooking, type PersonDoc, type RoomDoc } from '../models/index.js';
import { makeCommunity, makeFacility, makeResident, makeRoom, makeStaff } from './factories/index.js';
import { startTestBot, type TestBot } from './support/bot.js';
import { useCleanStorage } from './support/storage.js';

const dayAhead = (n: number) => dayjs.utc(shanghaiDay(new Date())).add(n, 'day').format('YYYY-MM-DD');

describe('bot: staff at work in chat', () => {
  useCleanStorage();

  let tb: TestBot;
  let room: RoomDoc;
  let resident: PersonDoc;
  let residentContact: mock.ContactMock;
  let staffContact: mock.ContactMock;

  before(async () => {
    tb = await startTestBot();
    const community = await makeCommunity();
    const centre = await makeFacility(community);
    room = await makeRoom(centre, { name: '报告厅', capacity: 50, approvalRequired: true });
    resident = await makeResident({ community: community._id });
    residentContact = await tb.contactOf(resident);
    const { person: staff } = await makeStaff({ community: community._id });
    staffContact = await tb.contactOf(staff, '王主任');
  });

  after(async () => {
    await tb?.stop();
  });

  /** The resident asks for 报告厅 (approval required) through the bot; resolves with the booking. */
  async function residentAsks(hour: number) {
    await tb.ask(residentContact, `${Number(dayAhead(2).slice(5, 7))}月${Number(dayAhead(2).slice(8))}号${hour}点到${hour + 1}点借报告厅，20个人`);
    expect(await tb.ask(residentContact, '确认')).to.include('需要工作人员审核');
    return (await RoomBooking.findOne({ bookedFor: resident._id, start: atShanghai(dayAhead(2), `${hour}:00`.padStart(5, '0')) }).lean())!;
  }

  describe('待审核', () => {
    it('lists pending bookings by number and approves the one picked; the resident is told', async () => {
      const booking = await residentAsks(9);
      const list = await tb.ask(staffContact, '待审核');
      expect(list).to.include('报告厅').and.include('09:00–10:00').and.include('回复数字即可');
      expect(await tb.ask(staffContact, '1')).to.include('通过还是拒绝');
      expect(await tb.ask(staffContact, '1')).to.include('已通过');
      expect((await RoomBooking.findById(booking._id).lean())!.status).to.equal('confirmed');
      expect(await Notification.countDocuments({ key: `room-booking:${booking._id}:approved` })).to.equal(1);
    });

    it('rejects with the reason asked for, which the resident is told', async () => {
      const booking = await residentAsks(14);
      await tb.ask(staffContact, '待审核');
      await tb.ask(staffContact, '1');
      expect(await tb.ask(staffContact, '2')).to.include('原因');
      expect(await tb.ask(staffContact, '当天有社区大会')).to.include('已拒绝');
      expect((await RoomBooking.findById(booking._id).lean())!.status).to.equal('rejected');
      const note = await Notification.findOne({ key: `room-booking:${booking._id}:rejected` }).lean();
      expect(note!.text).to.include('当天有社区大会');
    });

    it('is not for residents: they get the menu', async () => {
      expect(await tb.ask(residentContact, '待审核')).not.to.include('回复数字处理');
    });
  });

  describe('活动室安排', () => {
    it('shows the day’s bookings of the centres the staff member manages', async () => {
      await RoomBooking.create({
        room: room._id, facility: room.facility, community: resident.community!, bookedFor: resident._id, bookedBy: resident._id,
        start: atShanghai(dayAhead(1), '15:00'), end: atShanghai(dayAhead(1), '16:00'), purpose: '书法班', attendees: 12, status: 'confirmed', quotaWeek: dayAhead(1),
      });
      const answer = await tb.ask(staffContact, '明天的活动室安排');
      expect(answer).to.include('15:00–16:00').and.include('报告厅').and.include('书法班');
    });
  });
});
