import { expect } from 'chai';
import { JOBS, type JobContext, type JobDeps } from '../jobs/index.js';
import mongoose, { Types } from 'mongoose';
import { atShanghai, dayjs, shanghaiDay } from '../models/calendar.js';
import { DailyFigures, RoomBooking, type CommunityDoc, type FacilityDoc, type MealMenuDoc, type PersonDoc } from '../models/index.js';
import { asSelf } from '../src/auth/user.js';
import {
  backfillDays, computeDayFigures, dayToken, markDaysChanged, readDailyFigures, storeDayFigures, unitsOf, WARM_DAYS, warmDailyFigures,
} from '../src/commands/dailyFigures.js';
import { dashboardStatistics } from '../src/commands/dashboard.js';
import { mealSubsidyReport } from '../src/commands/mealReports.js';
import { cancelMealOrder, changeMealOrder, placeMealOrder } from '../src/commands/mealOrders.js';
import { cancelRoomBooking, createRoomBooking, findRoom, moveRoomBooking } from '../src/commands/roomBookings.js';
import { approveHours, checkInAssignment, checkOutAssignment, claimVolunteerTask } from '../src/commands/volunteerAssignments.js';
import { VOLUNTEER_DEFAULTS } from '../src/config.js';
import { makeCommunity, makeFacility, makeKitchen, makeMenu, makeResident, makeRoom, makeStaff, makeTask, makeVolunteer } from './factories/index.js';
import { testConfig, testEnvironment } from './support/env.js';
import { createTestLogger } from './support/logs.js';
import { useCleanStorage } from './support/storage.js';

const settings = () => testConfig().meals;
const roomDeps = () => ({ rules: testConfig().booking, redis: testEnvironment().redis });
const inDays = (n: number) => dayjs.utc(shanghaiDay(new Date())).add(n, 'day').format('YYYY-MM-DD');

describe('DailyFigures: the staff reports\' per-day read model stays exact', () => {
  useCleanStorage();

  let community: CommunityDoc;
  let kitchen: FacilityDoc;
  let menu: MealMenuDoc;
  let staff: PersonDoc;
  const MONTH = '2030-04';
  const DAY = `${MONTH}-10`;
  const beforeCutoff = (m: MealMenuDoc) => new Date(m.cutoff.getTime() - 3_600_000);
  const order = async (person: PersonDoc, quantity = 1) =>
    placeMealOrder(settings(), { id: person._id, staff: false }, menu, kitchen, person, { mode: 'dine_in', quantity }, beforeCutoff(menu));
  const portions = async () => (await mealSubsidyReport(community._id, MONTH)).totals.portions;
  const dashboardMeals = async () => (await dashboardStatistics(community._id, DAY, DAY)).meals.portions;

  before(async () => {
    community = await makeCommunity();
    kitchen = await makeKitchen(community);
    menu = await makeMenu(kitchen, { date: DAY });
    staff = (await makeStaff({ community: community._id })).person;
  });

  describe('meal orders → subsidy report and dashboard', () => {
    it('counts an order placed, changed and cancelled after the day was read', async () => {
      expect(await portions()).to.equal(0);
      expect(await dashboardMeals()).to.equal(0);
      expect(await DailyFigures.exists({ _id: `${community._id}:${DAY}` })).to.not.equal(null);

      const placed = await order(await makeResident({ community: community._id }));
      expect(await portions()).to.equal(1);
      expect(await dashboardMeals()).to.equal(1);

      const changed = await changeMealOrder(settings(), { id: placed.bookedFor, staff: false }, placed, menu, kitchen, { quantity: 3 }, undefined, beforeCutoff(menu));
      expect(await portions()).to.equal(3);
      expect(await dashboardMeals()).to.equal(3);

      await cancelMealOrder({ id: changed.bookedFor, staff: false }, changed, menu, undefined, beforeCutoff(menu));
      expect(await portions()).to.equal(0);
      expect((await mealSubsidyReport(community._id, MONTH)).tiers).to.deep.equal([]);
      expect(await dashboardMeals()).to.equal(0);
    });
  });

  describe('room bookings → dashboard', () => {
    it('counts a booking made, moved to another day and cancelled', async () => {
      const centre = await makeFacility(community);
      const room = await makeRoom(centre);
      const resident = await makeResident({ community: community._id });
      const [d1, d2] = [inDays(3), inDays(4)];
      const booked = async () => (await dashboardStatistics(community._id, d1, d2)).rooms.byRoom.find((r) => r.room === String(room._id))!.bookedHours;
      const perDay = async () => (await readDailyFigures(community._id, [d1, d2])).map((f) => f.rooms.reduce((s, r) => s + r.bookedMs, 0) / 3_600_000);
      expect(await booked()).to.equal(0);

      const made = await createRoomBooking(roomDeps(), asSelf(resident), await findRoom(String(room._id)), resident,
        { start: atShanghai(d1, '09:00'), end: atShanghai(d1, '10:30'), purpose: '合唱', attendees: 5 });
      expect(made.day).to.equal(d1);
      expect(await booked()).to.equal(1.5);
      expect(await perDay()).to.deep.equal([1.5, 0]);

      const moved = await moveRoomBooking(roomDeps(), asSelf(staff), (await RoomBooking.findById(made._id))!, await findRoom(String(room._id)),
        atShanghai(d2, '14:00'), atShanghai(d2, '15:00'), '场地调整');
      expect(moved.day).to.equal(d2);
      expect(await perDay()).to.deep.equal([0, 1]);

      await cancelRoomBooking(roomDeps(), asSelf(resident), moved, false, undefined);
      expect(await perDay()).to.deep.equal([0, 0]);
      expect(await booked()).to.equal(0);
    });
  });

  describe('volunteer hours → dashboard', () => {
    it('counts hours once staff approve them', async () => {
      const facility = await makeFacility(community);
      const volunteer = (await makeVolunteer({ community: community._id }))!;
      const start = new Date(Math.ceil((Date.now() + 50 * 3_600_000) / 900_000) * 900_000);
      const day = shanghaiDay(start);
      const task = await makeTask(facility, { start, end: new Date(start.getTime() + 120 * 60_000) });
      const hours = async () => (await dashboardStatistics(community._id, day, day)).volunteers.hours;
      const claimed = await claimVolunteerTask(task, volunteer, asSelf(volunteer));
      const inA = await checkInAssignment(claimed, task, task.siteCode, asSelf(volunteer), VOLUNTEER_DEFAULTS, start);
      const out = await checkOutAssignment(inA, volunteer._id, VOLUNTEER_DEFAULTS, new Date(start.getTime() + 90 * 60_000));
      expect(await hours()).to.equal(0);
      await approveHours(out, asSelf(staff), undefined, VOLUNTEER_DEFAULTS, new Date(start.getTime() + 100 * 60_000));
      expect(await hours()).to.equal(1.5);
    });
  });

  describe('races', () => {
    it('a recompute that read the day before a write never serves the old figures after it', async () => {
      const day = '2030-04-11';
      const units = await unitsOf(community._id);
      // A read takes the token, then reads the records…
      const token = await dayToken(community._id, day);
      const old = await computeDayFigures(community._id, day, units);
      // …a write lands and marks the day (after its write)…
      const later = await makeMenu(kitchen, { date: day });
      const person = await makeResident({ community: community._id });
      await placeMealOrder(settings(), { id: person._id, staff: false }, later, kitchen, person, { mode: 'pickup', quantity: 2 }, beforeCutoff(later));
      // …and only then the read stores what it computed.
      await storeDayFigures(community._id, day, token, old);
      const [fresh] = await readDailyFigures(community._id, [day]);
      expect(fresh!.meals.pickup).to.equal(2);
    });

    it('racing orders, cancels and reports leave every day exact', async () => {
      const day = '2030-04-12';
      const busy = await makeMenu(kitchen, { date: day, capacity: 100 });
      const people = await Promise.all(Array.from({ length: 12 }, () => makeResident({ community: community._id })));
      const place = (p: PersonDoc) =>
        placeMealOrder(settings(), { id: p._id, staff: false }, busy, kitchen, p, { mode: 'pickup', quantity: 1 }, beforeCutoff(busy));
      const placed = await Promise.all([
        ...people.map(place),
        ...Array.from({ length: 8 }, () => readDailyFigures(community._id, [day]).then(() => null)),
      ]);
      const orders = placed.filter((o) => o !== null);
      await Promise.all([
        ...orders.slice(0, 5).map((o) => cancelMealOrder({ id: o.bookedFor, staff: false }, o, busy, undefined, beforeCutoff(busy))),
        ...Array.from({ length: 8 }, () => mealSubsidyReport(community._id, MONTH)),
      ]);
      const live = await computeDayFigures(community._id, day, await unitsOf(community._id));
      const [served] = await readDailyFigures(community._id, [day]);
      expect(live.meals.pickup).to.equal(7);
      expect(served).to.deep.equal(live);
    });
  });

  describe('backfillDays (records older than the day field)', () => {
    it('gives them their day and makes the day recomputed', async () => {
      const day = inDays(6);
      const centre = await makeFacility(community);
      const room = await makeRoom(centre);
      const resident = await makeResident({ community: community._id });
      expect((await readDailyFigures(community._id, [day]))[0]!.rooms).to.deep.equal([]);
      const _id = new Types.ObjectId();
      await RoomBooking.collection.insertOne({
        _id, room: room._id, facility: centre._id, community: community._id, bookedFor: resident._id, bookedBy: resident._id,
        start: atShanghai(day, '10:00'), end: atShanghai(day, '11:00'), purpose: '旧记录', attendees: 3, status: 'confirmed',
        quotaWeek: day, version: 0, history: [],
      });
      expect(await backfillDays()).to.equal(1);
      expect((await RoomBooking.findById(_id).lean())!.day).to.equal(day);
      expect((await readDailyFigures(community._id, [day]))[0]!.rooms).to.deep.equal([{ room: String(room._id), bookedMs: 3_600_000 }]);
      expect(await backfillDays()).to.equal(0);
    });
  });

  describe('reports.warmDailyFigures (job): marked days recomputed soon after the mark', () => {
    it('computes the last 31 days once, then only the days marked since, newest first, within the limit', async () => {
      const warm = await makeCommunity();
      const warmKitchen = await makeKitchen(warm);
      const today = shanghaiDay(new Date());
      const todayMenu = await makeMenu(warmKitchen, { date: today, cutoff: new Date(Date.now() + 3_600_000) });
      const place = async () => {
        const person = await makeResident({ community: warm._id });
        return placeMealOrder(settings(), { id: person._id, staff: false }, todayMenu, warmKitchen, person, { mode: 'dine_in', quantity: 1 }, new Date());
      };
      await place();
      const now = new Date();
      const stored = async () => (await DailyFigures.findById(`${warm._id}:${today}`).lean());

      // A limit per run: 31 days to do, 20 now and 11 at the next run, then nothing.
      expect(await warmDailyFigures(now, 20, [warm._id])).to.deep.equal({ communities: 1, stale: 31, recomputed: 20 });
      expect((await stored())!.figures.meals.dine_in).to.equal(1);
      expect(await warmDailyFigures(now, 20, [warm._id])).to.deep.equal({ communities: 1, stale: 11, recomputed: 11 });
      expect(await warmDailyFigures(now, 20, [warm._id])).to.deep.equal({ communities: 1, stale: 0, recomputed: 0 });
      expect(await DailyFigures.countDocuments({ community: warm._id })).to.equal(WARM_DAYS);

      // An order marks today: the next run recomputes today only, with the day's current token.
      await place();
      expect(await warmDailyFigures(now, 20, [warm._id])).to.deep.equal({ communities: 1, stale: 1, recomputed: 1 });
      const warmed = (await stored())!;
      expect(warmed.figures.meals.dine_in).to.equal(2);
      expect(warmed.stamp).to.equal(await dayToken(warm._id, today));
      // The dashboard's first view reads the stored day: nothing recomputed.
      expect((await dashboardStatistics(warm._id, today, today)).meals.portions).to.equal(2);
      expect((await stored())!.computedAt.getTime()).to.equal(warmed.computedAt.getTime());

      // The job itself: every community, logged, safe to re-run.
      await place();
      const job = JOBS.find((j) => j.name === 'reports.warmDailyFigures')!;
      const run = () => job.run({ logger: createTestLogger() } as unknown as JobDeps, { now: new Date() } as JobContext);
      // (60 days a run over every community of this file: a few runs, each recomputing some.)
      const runs: number[] = [];
      for (let n = (await run()).recomputed; n > 0 && runs.length < 20; n = (await run()).recomputed) runs.push(n);
      expect(runs.length).to.be.greaterThan(0);
      expect(runs.every((n) => n <= 60)).to.equal(true);
      expect((await stored())!.figures.meals.dine_in).to.equal(3);
      expect((await run()).recomputed).to.equal(0);
    });
  });

  describe('markDaysChanged', () => {
    it('takes days as strings or instants (Shanghai) and marks each once', async () => {
      const day = '2030-04-20';
      await readDailyFigures(community._id, [day]);
      const before = await dayToken(community._id, day);
      await markDaysChanged(community._id, day, atShanghai(day, '23:30'));
      const after = await dayToken(community._id, day);
      expect(after).to.be.a('string').and.not.equal(before);
      // Figures stored under the old token are recomputed (and stored again under the new one).
      await readDailyFigures(community._id, [day]);
      expect((await DailyFigures.findById(`${community._id}:${day}`).lean())!.stamp).to.equal(after);
    });

    it('marks of one day asked at the same moment share writes: 40 callers, 2 writes, each followed by a new token', async () => {
      const day = '2030-04-21';
      const before = await dayToken(community._id, day);
      const writes: string[] = [];
      mongoose.set('debug', (collection: string, method: string) => {
        if (collection === 'dailystamps' && method !== 'findOne') writes.push(method);
      });
      try {
        // The first runs at once; the 39 that come while it runs wait for the next one, not it:
        // when the first is done, they are still waiting (for a write of their own).
        const first = markDaysChanged(community._id, day);
        let othersDone = false;
        const others = Promise.all(Array.from({ length: 39 }, () => markDaysChanged(community._id, day))).then(() => {
          othersDone = true;
        });
        await first;
        expect(othersDone).to.equal(false);
        const afterFirst = await dayToken(community._id, day);
        await others;
        expect(writes).to.deep.equal(['updateOne', 'updateOne']);
        expect(afterFirst).to.be.a('string').and.not.equal(before);
        expect(await dayToken(community._id, day)).to.be.a('string').and.not.equal(before);
      } finally {
        mongoose.set('debug', false);
      }
      // Once all are done, a new caller writes again at once.
      const settled = await dayToken(community._id, day);
      await markDaysChanged(community._id, day);
      expect(await dayToken(community._id, day)).to.be.a('string').and.not.equal(settled);
    });

    it('racing room bookings of one day and reports leave the day exact', async () => {
      const day = inDays(5);
      const centre = await makeFacility(community);
      const rooms = await Promise.all(Array.from({ length: 3 }, () => makeRoom(centre)));
      const people = await Promise.all(Array.from({ length: 24 }, () => makeResident({ community: community._id })));
      const booked = await Promise.all([
        ...people.map(async (p, i) => {
          const room = await findRoom(String(rooms[i % 3]!._id));
          const hour = 9 + Math.floor(i / 3) % 8;
          const start = atShanghai(day, `${String(hour).padStart(2, '0')}:00`);
          return createRoomBooking(roomDeps(), asSelf(p), room, p, { start, end: new Date(start.getTime() + 3_600_000), purpose: '开会', attendees: 3 })
            .then(() => 1, () => 0);
        }),
        ...Array.from({ length: 8 }, () => readDailyFigures(community._id, [day]).then(() => 0)),
      ]);
      const live = await computeDayFigures(community._id, day, await unitsOf(community._id));
      const [served] = await readDailyFigures(community._id, [day]);
      expect(booked.reduce((a, b) => a + b, 0)).to.equal(24);
      expect(live.rooms.reduce((a, r) => a + r.bookedMs, 0)).to.equal(24 * 3_600_000);
      expect(served).to.deep.equal(live);
    });
  });
});
