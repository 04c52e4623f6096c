import { expect } from 'chai';
import { trusted, type Types } from 'mongoose';
import { JOBS, runJobTick } from '../jobs/index.js';
import { atShanghai } from '../models/calendar.js';
import { Facility, MealOrder, Notification, NotificationResult, WellnessAlert, type CommunityDoc, type MealMenuDoc, type PersonDoc } from '../models/index.js';
import { asSelf } from '../src/auth/user.js';
import { cancelMealOrder, changeMealOrder, placeMealOrder, recordDeliveryOutcome, type MealOrderRequest } from '../src/commands/mealOrders.js';
import { closeWellnessAlert } from '../src/commands/wellness.js';
import {
  dayFromToday, makeCommunity, makeGridWorker, makeKitchen, makeMenu, makeProxyLink, makeResident, makeStaff, makeSubsidyRule,
} from './factories/index.js';
import { testConfig } from './support/env.js';
import { startInstances } from './support/instances.js';
import { useCleanStorage } from './support/storage.js';

const job = (name: string) => JOBS.find((j) => j.name === name)!;
const HOUR = 3_600_000;

describe('the jobs of elderly meals', () => {
  useCleanStorage();

  let close: () => Promise<void>;
  let instances: Awaited<ReturnType<typeof startInstances>>['instances'];
  let config: ReturnType<typeof testConfig>;
  let community: CommunityDoc;

  before(async () => {
    config = testConfig();
    ({ instances, close } = await startInstances(3));
    community = await makeCommunity();
    await makeSubsidyRule(community);
  });

  after(async () => close());

  /** Runs one tick of `name` on all three instances at once: it must run on exactly one. */
  async function tickEverywhere(name: string, now: Date) {
    const reports = await Promise.all(instances.map((i) => runJobTick(i.deps, job(name), now, now)));
    expect(reports.filter((r) => r.status === 'ok'), `${name} ran once`).to.have.length(1);
    return reports.find((r) => r.status === 'ok')!;
  }

  const place = async (menu: MealMenuDoc, person: PersonDoc, req: Partial<MealOrderRequest> = {}) =>
    placeMealOrder(config.meals, { id: person._id, staff: false }, menu, (await Facility.findById(menu.kitchen))!, person,
      { mode: 'dine_in', quantity: 1, ...req }, new Date());
  const notesOf = (person: PersonDoc, kind: string) => Notification.find({ person: person._id, kind }).sort({ dueAt: 1, key: 1 }).lean();
  const withdrawnCount = async (ids: Types.ObjectId[]) =>
    NotificationResult.countDocuments({ notification: trusted({ $in: ids }), outcome: 'withdrawn' });

  describe('meals.enqueueReminders', () => {
    it('reminds each resident the evening before and an hour before the meal, once, in the words of the mode', async () => {
      const day = dayFromToday(2);
      const kitchen = await makeKitchen(community, { name: '幸福食堂' });
      const menu = await makeMenu(kitchen, { date: day, meal: 'lunch' });
      const diner = await makeResident({ community: community._id });
      const elder = await makeResident({ community: community._id, tags: ['独居'] });
      await place(menu, diner, { mode: 'dine_in' });
      await place(menu, elder, { mode: 'delivery' });

      const start = atShanghai(day, '11:00');
      const runAt = new Date(start.getTime() - 30 * HOUR);
      await tickEverywhere('meals.enqueueReminders', runAt);
      await tickEverywhere('meals.enqueueReminders', new Date(runAt.getTime() + 300_000));

      const evening = atShanghai(dayFromToday(1), config.reminders.eveningTime);
      const dineIn = await notesOf(diner, 'meal_order_reminder');
      expect(dineIn.map((n) => n.dueAt.toISOString())).to.deep.equal([evening, atShanghai(day, '10:00')].map((d) => d.toISOString()));
      expect(dineIn.map((n) => n.staleAfter?.toISOString())).to.deep.equal([start.toISOString(), start.toISOString()]);
      expect(dineIn[0]!.text).to.include('明天午餐').and.include('请按时到「幸福食堂」用餐');
      expect(dineIn[1]!.text).to.include('今天午餐');
      const delivery = await notesOf(elder, 'meal_order_reminder');
      expect(delivery).to.have.length(2);
      expect(delivery[0]!.text).to.include('明天中午送餐上门，请在家等候');
      expect(delivery[1]!.text).to.include('今天中午送餐上门，请在家等候');
    });

    it('withdraws the reminders of a cancelled order, and of the old mode when the mode changes', async () => {
      const day = dayFromToday(2);
      const menu = await makeMenu(await makeKitchen(community, { name: '长者饭堂' }), { date: day, meal: 'dinner' });
      const [a, b] = await Promise.all([makeResident({ community: community._id, tags: ['独居'] }), makeResident({ community: community._id, tags: ['独居'] })]);
      const cancelled = await place(menu, a!, { mode: 'pickup' });
      const changed = await place(menu, b!, { mode: 'delivery' });
      const runAt = new Date(atShanghai(day, '17:00').getTime() - 30 * HOUR);
      await tickEverywhere('meals.enqueueReminders', runAt);

      const first = await notesOf(a!, 'meal_order_reminder');
      expect(first).to.have.length(2);
      expect(first[0]!.text).to.include('请按时到「长者饭堂」取餐');
      await cancelMealOrder({ id: a!._id, staff: false }, cancelled, menu, undefined, runAt);
      expect(await withdrawnCount(first.map((n) => n._id))).to.equal(2);

      const before = await notesOf(b!, 'meal_order_reminder');
      expect(before[0]!.text).to.include('明天傍晚送餐上门');
      await changeMealOrder(config.meals, { id: b!._id, staff: false }, changed, menu, (await Facility.findById(menu.kitchen))!, { mode: 'dine_in' }, undefined, runAt);
      expect(await withdrawnCount(before.map((n) => n._id))).to.equal(2);
      await tickEverywhere('meals.enqueueReminders', new Date(runAt.getTime() + 300_000));
      const after = (await notesOf(b!, 'meal_order_reminder')).filter((n) => !before.some((o) => o._id.equals(n._id)));
      expect(after.map((n) => n.text)).to.have.length(2);
      expect(after[0]!.text).to.include('请按时到「长者饭堂」用餐');
      // The cancelled order gets nothing new.
      expect(await notesOf(a!, 'meal_order_reminder')).to.have.length(2);
    });
  });

  describe('meals.escalateWellness', () => {
    it('tells the grid workers and the kitchen staff of a delivery with no outcome an hour after the meal window, once', async () => {
      const day = dayFromToday(3);
      const kitchen = await makeKitchen(community);
      const menu = await makeMenu(kitchen, { date: day, meal: 'lunch' });
      const worker = await makeGridWorker(community, ['第七网格']);
      const otherWorker = await makeGridWorker(community, ['第八网格']);
      const kitchenStaff = (await makeStaff({ community: community._id, staffScope: { community: community._id, facilities: [kitchen._id] } })).person;
      const elsewhere = (await makeStaff({ community: community._id, staffScope: { community: community._id, facilities: [(await makeKitchen(community))._id] } })).person;
      const silent = await makeResident({ community: community._id, tags: ['独居'], grid: '第七网格', name: '王阿婆' });
      const delivered = await makeResident({ community: community._id, tags: ['独居'], grid: '第七网格' });
      const missing = await place(menu, silent, { mode: 'delivery' });
      const done = await place(menu, delivered, { mode: 'delivery' });
      await recordDeliveryOutcome(asSelf(kitchenStaff), done, { outcome: 'delivered' }, atShanghai(day, '11:40'));

      const kind = 'meal_delivery_no_outcome';
      const ofThisMeal = async () => (await Notification.find({ kind }).lean())
        .filter((n) => [missing, done].some((o) => n.key.startsWith(`meal-order:${o._id}:`)));
      await tickEverywhere('meals.escalateWellness', atShanghai(day, '13:59'));
      expect(await ofThisMeal()).to.have.length(0);

      await tickEverywhere('meals.escalateWellness', atShanghai(day, '14:00'));
      await tickEverywhere('meals.escalateWellness', atShanghai(day, '14:05'));
      const notes = await ofThisMeal();
      expect(notes.map((n) => String(n.person)).sort()).to.deep.equal([String(worker._id), String(kitchenStaff._id)].sort());
      expect(notes.every((n) => n.key.startsWith(`meal-order:${missing._id}:no-outcome:`))).to.equal(true);
      expect(notes[0]!.text).to.include('王阿婆').and.include('仍没有送达记录');
      expect(notes.some((n) => n.person.equals(otherWorker._id) || n.person.equals(elsewhere._id))).to.equal(false);
      expect((await MealOrder.findById(missing._id).lean())!.noOutcomeEscalatedAt).to.be.instanceOf(Date);
    });

    it('escalates an alert nobody closed in two hours to the community staff and admins, once, and leaves closed ones alone', async () => {
      // A community of its own: every staff member of it is told.
      const home = await makeCommunity();
      const other = await makeCommunity();
      const day = dayFromToday(4);
      const kitchen = await makeKitchen(home);
      const menu = await makeMenu(kitchen, { date: day, meal: 'dinner' });
      const staff = (await makeStaff({ community: home._id })).person;
      const admin = (await makeStaff({ community: home._id, roles: ['staff', 'admin'] })).person;
      const globalAdmin = (await makeStaff({ community: undefined, roles: ['admin'], staffScope: {} })).person;
      const otherStaff = (await makeStaff({ community: other._id })).person;
      const elder = await makeResident({ community: home._id, tags: ['独居'], name: '李阿公' });
      const handled = await makeResident({ community: home._id, tags: ['独居'] });
      const daughter = await makeResident({ community: home._id });
      await makeProxyLink(daughter, elder);
      const raisedAt = atShanghai(day, '17:30');
      const open = await place(menu, elder, { mode: 'delivery' });
      const closed = await place(menu, handled, { mode: 'delivery' });
      await recordDeliveryOutcome(asSelf(staff), open, { outcome: 'not_at_home' }, raisedAt);
      await recordDeliveryOutcome(asSelf(staff), closed, { outcome: 'needs_attention', note: '老人说腿疼' }, raisedAt);
      const closedAlert = (await WellnessAlert.findOne({ order: closed._id }))!;
      await closeWellnessAlert(asSelf(staff), closedAlert, '已陪同就医', new Date(raisedAt.getTime() + HOUR));

      const kind = 'wellness_alert_escalated';
      await tickEverywhere('meals.escalateWellness', new Date(raisedAt.getTime() + 2 * HOUR - 60_000));
      expect(await Notification.countDocuments({ kind })).to.equal(0);
      await tickEverywhere('meals.escalateWellness', new Date(raisedAt.getTime() + 2 * HOUR));
      await tickEverywhere('meals.escalateWellness', new Date(raisedAt.getTime() + 2 * HOUR + 300_000));
      const notes = await Notification.find({ kind }).lean();
      const alert = (await WellnessAlert.findOne({ order: open._id }).lean())!;
      expect(notes.map((n) => String(n.person)).sort()).to.deep.equal([staff, admin, globalAdmin].map((p) => String(p._id)).sort());
      expect(notes.every((n) => n.key.startsWith(`wellness-alert:${alert._id}:escalated:`))).to.equal(true);
      expect(notes[0]!.text).to.include('李阿公').and.include('仍没有人处理');
      expect(notes.some((n) => n.person.equals(otherStaff._id) || n.person.equals(daughter._id))).to.equal(false);
      expect(alert.escalatedAt).to.be.instanceOf(Date);
    });
  });
});
