import { expect } from 'chai';
import { Types } from 'mongoose';
import { JOBS, runJobTick } from '../jobs/index.js';
import { atShanghai } from '../models/calendar.js';
import {
  CHILDCARE_CLASS_TYPES, ChildcareBooking, MealOrder, MealRating, MonthlyReport, Notification, RoomBooking,
  type ChildcareBookingStatus, type CommunityDoc, type FacilityDoc, type MealOrderStatus, type PersonDoc, type RoomBookingStatus,
} from '../models/index.js';
import { generateMonthlyReport, monthlyStatistics } from '../src/commands/monthlyReports.js';
import { currentMonth } from '../src/commands/wellness.js';
import {
  makeAssignment, makeChildcareCentre, makeCommunity, makeFacility, makeKitchen, makeResident, makeRoom, makeStaff, makeTask, makeVolunteer,
} from './factories/index.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { startInstances } from './support/instances.js';
import { useCleanStorage } from './support/storage.js';

const MONTH = '2030-03';
const job = JOBS.find((j) => j.name === 'reports.monthlyStatistics')!;
const at = (day: string, time: string) => atShanghai(day, time);

describe('monthly statistics for staff', () => {
  useCleanStorage();

  let request: ReturnType<typeof createTestApp>['request'];
  let community: CommunityDoc;
  let quiet: CommunityDoc;
  let kitchen: FacilityDoc;
  let staff: PersonDoc;
  let admin: PersonDoc;
  let resident: PersonDoc;

  /** One meal order of `community`, written directly with its breakdown (fen). */
  const order = (date: string, mode: 'dine_in' | 'pickup' | 'delivery', quantity: number, status: MealOrderStatus, subsidy: number, tier: string | null, fee = 0) =>
    MealOrder.create({
      menu: new Types.ObjectId(), kitchen: kitchen._id, community: community._id, date, meal: 'lunch',
      bookedFor: resident._id, bookedBy: resident._id, mode, quantity, status,
      breakdown: {
        unitPrice: 1200, quantity, tier, subsidisedPrice: 1200 - subsidy, subsidy, deliveryFee: fee, toPay: 1200 * quantity - subsidy + fee,
      },
    });
  const rating = (date: string, good: boolean) => MealRating.create({
    order: new Types.ObjectId(), menu: new Types.ObjectId(), kitchen: kitchen._id, community: community._id, date,
    person: resident._id, by: resident._id, good,
  });

  before(async () => {
    ({ request } = createTestApp());
    community = await makeCommunity();
    quiet = await makeCommunity();
    kitchen = await makeKitchen(community, { name: '幸福食堂' });
    staff = (await makeStaff({ community: community._id })).person;
    admin = (await makeStaff({ community: community._id, roles: ['admin'], staffScope: {} })).person;
    resident = await makeResident({ community: community._id });

    // Meals: the cancelled order and April's are left out.
    await order('2030-03-04', 'dine_in', 2, 'confirmed', 1100, '特困');
    await order('2030-03-05', 'pickup', 1, 'confirmed', 0, null);
    await order('2030-03-06', 'delivery', 1, 'delivered', 900, '80岁及以上', 200);
    await order('2030-03-07', 'delivery', 1, 'not_at_home', 900, '80岁及以上', 200);
    await order('2030-03-08', 'dine_in', 1, 'cancelled', 1100, '特困');
    await order('2030-04-01', 'dine_in', 1, 'confirmed', 1100, '特困');
    await Promise.all([rating('2030-03-04', true), rating('2030-03-05', true), rating('2030-03-06', false), rating('2030-04-01', true)]);

    // Childcare: attended sessions count (2.5 h + 2.5 h + 3 h), no-shows and cancellations do not.
    const centre = await makeChildcareCentre(community);
    const [x, y] = [new Types.ObjectId(), new Types.ObjectId()];
    const session = (child: Types.ObjectId, day: string, from: string, to: string, status: ChildcareBookingStatus) => ChildcareBooking.create({
      session: new Types.ObjectId(), centre: centre._id, community: community._id, child, bookedFor: resident._id, bookedBy: resident._id,
      date: day, start: at(day, from), end: at(day, to), classType: CHILDCARE_CLASS_TYPES[0], month: day.slice(0, 7), status,
      healthDeclaration: { healthy: true, declaredAt: at(day, '07:00'), declaredBy: resident._id },
    });
    await session(x, '2030-03-11', '09:00', '11:30', 'picked_up');
    await session(x, '2030-03-12', '09:00', '11:30', 'picked_up');
    await session(y, '2030-03-12', '14:00', '17:00', 'dropped_off');
    await session(y, '2030-03-13', '09:00', '12:00', 'no_show');
    await session(x, '2030-03-14', '09:00', '12:00', 'cancelled');
    await session(x, '2030-04-02', '09:00', '12:00', 'picked_up');

    // Rooms: 08:00–20:00 every day (31 × 12 h) and Mondays 09:00–12:00 (4 Mondays in March 2030).
    const centreRooms = await makeFacility(community);
    const hall = await makeRoom(centreRooms, { name: '多功能厅' });
    const studio = await makeRoom(centreRooms, { name: '书画室', openingHours: [{ weekday: 1, open: '09:00', close: '12:00' }] });
    const booking = (room: typeof hall, day: string, from: string, to: string, status: RoomBookingStatus) => RoomBooking.create({
      room: room._id, facility: centreRooms._id, community: community._id, bookedFor: resident._id, bookedBy: resident._id,
      start: at(day, from), end: at(day, to), purpose: '活动', attendees: 5, status, quotaWeek: '2030-W10',
    });
    await booking(hall, '2030-03-02', '09:00', '11:00', 'confirmed');
    await booking(hall, '2030-03-03', '09:00', '12:00', 'completed');
    await booking(hall, '2030-03-04', '09:00', '10:00', 'checked_in');
    await booking(hall, '2030-03-05', '09:00', '13:00', 'cancelled');
    await booking(hall, '2030-03-06', '09:00', '10:00', 'released_no_show');
    await booking(studio, '2030-03-11', '09:00', '12:00', 'completed');
    await booking(studio, '2030-04-01', '09:00', '12:00', 'completed');

    // Volunteers: approved minutes (90 + 120); a declined assignment and April's do not count.
    const [v1, v2] = await Promise.all([makeVolunteer({ community: community._id }), makeVolunteer({ community: community._id })]);
    const task = (day: string) => makeTask(centreRooms, { start: at(day, '09:00'), end: at(day, '11:00') });
    await makeAssignment(await task('2030-03-09'), v1!, { approvedMinutes: 90 });
    await makeAssignment(await task('2030-03-10'), v2!, { approvedMinutes: 120 });
    await makeAssignment(await task('2030-03-10'), v1!, { status: 'declined', approvedMinutes: 0 });
    await makeAssignment(await task('2030-04-03'), v2!, { approvedMinutes: 60 });
  });

  describe('monthlyStatistics', () => {
    const cases: Array<{ figure: string; expected: Record<string, unknown> }> = [
      { figure: 'meals', expected: { orders: 4, portions: 5, served: 4, notAtHome: 1, byMode: { dine_in: 2, pickup: 1, delivery: 2 } } },
      { figure: 'subsidies', expected: { orders: 4, portions: 5, subsidy: 2900, paid: 3500, deliveryFees: 400 } },
      { figure: 'childcare', expected: { attendances: 3, children: 2, hours: 8 } },
      { figure: 'rooms', expected: { bookings: 4, bookedHours: 9, openHours: 384, utilisation: 0.023 } },
      { figure: 'volunteers', expected: { assignments: 2, volunteers: 2, hours: 3.5 } },
      { figure: 'ratings', expected: { good: 2, bad: 1 } },
    ];
    for (const { figure, expected } of cases) {
      it(`computes ${figure} from the month's records`, async () => {
        const figures = await monthlyStatistics(community._id, MONTH);
        expect(figures[figure as keyof typeof figures]).to.deep.include(expected);
      });
    }

    it('breaks rooms, tiers and kitchens down', async () => {
      const f = await monthlyStatistics(community._id, MONTH);
      expect(f.rooms.byRoom.map(({ name, bookedHours, openHours, utilisation }) => ({ name, bookedHours, openHours, utilisation }))).to.deep.equal([
        { name: '多功能厅', bookedHours: 6, openHours: 372, utilisation: 0.016 },
        { name: '书画室', bookedHours: 3, openHours: 12, utilisation: 0.25 },
      ]);
      expect(f.subsidies.tiers.map((t) => [t.tier, t.subsidy])).to.deep.equal([['80岁及以上', 1800], ['特困', 1100], ['无补贴（全价）', 0]]);
      expect(f.ratings.byKitchen).to.deep.equal([{ kitchen: String(kitchen._id), name: '幸福食堂', good: 2, bad: 1 }]);
    });

    it('is all zeros for a community with no records', async () => {
      const f = await monthlyStatistics(quiet._id, MONTH);
      expect(f.meals.served).to.equal(0);
      expect(f.rooms).to.deep.include({ bookings: 0, openHours: 0, utilisation: 0 });
      expect(f.childcare.hours + f.volunteers.hours + f.ratings.good + f.subsidies.subsidy).to.equal(0);
    });
  });

  describe('reports.monthlyStatistics (job)', () => {
    it('stores the previous month once per community on the 1st, replacing a partial one, and tells the staff once', async () => {
      const { instances, close } = await startInstances(3);
      try {
        // Generated on demand while March was running: partial.
        const early = await generateMonthlyReport(community._id, MONTH, at('2030-03-20', '10:00'));
        expect(early.report.partial).to.equal(true);

        const tick = async (now: Date) => {
          const reports = await Promise.all(instances.map((i) => runJobTick(i.deps, job, now, now)));
          expect(reports.filter((r) => r.status === 'ok')).to.have.length(1);
          return reports.find((r) => r.status === 'ok')!;
        };
        const first = await tick(at('2030-04-01', '00:15'));
        expect(first.counts).to.include({ generated: 2 });
        const again = await tick(at('2030-04-01', '01:15'));
        expect(again.counts).to.include({ generated: 0, notified: 0 });

        const stored = await MonthlyReport.find({ month: MONTH }).lean();
        expect(stored).to.have.length(2);
        expect(stored.every((r) => r.partial === false)).to.equal(true);
        const mine = stored.find((r) => r.community.equals(community._id))!;
        expect((mine.figures as { meals: { served: number } }).meals.served).to.equal(4);
        const notes = await Notification.find({ kind: 'monthly_report_ready' }).lean();
        expect(notes.map((n) => String(n.person))).to.deep.equal([String(staff._id)]);
        expect(notes[0]!.text).to.include('2030-03').and.include('助餐 4 份').and.include('志愿服务 3.5 小时');
      } finally {
        await close();
      }
    });
  });

  describe('GET /api/v1/communities/:id/monthly-reports/:month', () => {
    const path = (c: CommunityDoc | string, month = MONTH) => `/api/v1/communities/${typeof c === 'string' ? c : c._id}/monthly-reports/${month}`;

    it('shows the stored report to the community staff and admins', async () => {
      await generateMonthlyReport(community._id, MONTH, at('2030-04-01', '00:15'));
      for (const person of [staff, admin]) {
        const res = await request.get(path(community)).set('Authorization', await bearerFor(person)).expect(200);
        expect(res.body).to.deep.include({ community: String(community._id), month: MONTH, partial: false });
        expect(res.body.meals.served).to.equal(4);
        expect(res.body.rooms.utilisation).to.equal(0.023);
      }
    });

    it('refuses without a token (401), to residents and other communities\' staff (403)', async () => {
      await request.get(path(community)).expect(401);
      await request.get(path(community)).set('Authorization', await bearerFor(resident)).expect(403);
      const other = (await makeStaff({ community: quiet._id })).person;
      await request.get(path(community)).set('Authorization', await bearerFor(other)).expect(403);
    });

    it('answers 404 for an unknown community or a month not generated, 400 for a malformed month', async () => {
      const auth = await bearerFor(admin);
      await request.get(path(String(new Types.ObjectId()))).set('Authorization', auth).expect(404);
      const res = await request.get(path(community, '2029-12')).set('Authorization', auth).expect(404);
      expect(res.body.error.message).to.include('还没有生成');
      const bad = await request.get(path(community, '2030-13')).set('Authorization', auth).expect(400);
      expect(bad.body.error.message).to.include('月份');
    });
  });

  describe('POST /api/v1/communities/:id/monthly-reports/:month', () => {
    const path = (month: string) => `/api/v1/communities/${community._id}/monthly-reports/${month}`;

    it('generates the running month so far (partial), again at each request', async () => {
      const auth = await bearerFor(staff);
      const month = currentMonth();
      const first = await request.post(path(month)).set('Authorization', auth).expect(200);
      expect(first.body).to.include({ month, partial: true });
      const second = await request.post(path(month)).set('Authorization', auth).expect(200);
      expect(new Date(second.body.generatedAt).getTime()).to.be.at.least(new Date(first.body.generatedAt).getTime());
      expect(await MonthlyReport.countDocuments({ community: community._id, month })).to.equal(1);
      await request.get(path(month)).set('Authorization', auth).expect(200);
    });

    it('refuses a future month (400), residents (403) and anonymous callers (401)', async () => {
      const res = await request.post(path('2999-01')).set('Authorization', await bearerFor(admin)).expect(400);
      expect(res.body.error.code).to.equal('month_in_future');
      await request.post(path(currentMonth())).set('Authorization', await bearerFor(resident)).expect(403);
      await request.post(path(currentMonth())).expect(401);
    });
  });
});
