import { expect } from 'chai';
import { atShanghai } from '../models/calendar.js';
import {
  DeliveryRun, Facility, MealMenu, MealOrder, VolunteerTask, type CommunityDoc, type FacilityDoc, type MealMenuDoc, type PersonDoc,
} from '../models/index.js';
import { dropMealLines, mealLineRebuildsSettled, mealLines, mealLinesBuiltKey, mealLinesKey, type MealLinesDeps } from '../src/commands/mealLines.js';
import { cancelMealOrder, changeMealOrder, placeMealOrder, recordDeliveryOutcome, type MealOrderRequest } from '../src/commands/mealOrders.js';
import { createRecurringMealOrder, materialiseRecurringOrders, suspendRecurringMealOrder } from '../src/commands/mealRecurring.js';
import { deliveryTaskKey, loadSheetOrders, mealSheets, processMealCutoff, sheetsOf } from '../src/commands/mealSheets.js';
import { taskIdForKey } from '../src/commands/volunteerTasks.js';
import { asSelf, type AuthUser } from '../src/auth/user.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { testConfig, testEnvironment } from './support/env.js';
import { useCleanStorage } from './support/storage.js';
import { bornYearsAgo, makeCommunity, makeKitchen, makeMenu, makeResident, makeStaff, makeSubsidyRule } from './factories/index.js';

const settings = () => testConfig().meals;

describe('elderly meals: the sheets\' read model and the delivery runs\' volunteer tasks', () => {
  useCleanStorage();
  let request: ReturnType<typeof createTestApp>['request'];
  let community: CommunityDoc;
  let staff: PersonDoc;
  let staffUser: AuthUser;
  let auth: string;
  const lines = (): MealLinesDeps => ({ redis: testEnvironment().redis });
  const redis = () => testEnvironment().redis;

  const resident = (overrides: Parameters<typeof makeResident>[0] = {}) => makeResident({ community: community._id, ...overrides });
  const elder = (grid: string, room: string, overrides: Parameters<typeof makeResident>[0] = {}) =>
    resident({ birthDate: bornYearsAgo(85), grid, address: { building: '3栋', unit: '1单元', room }, ...overrides });
  const kitchenOf = async (menu: MealMenuDoc) => (await Facility.findById(menu.kitchen))!;
  const beforeCutoff = (menu: MealMenuDoc) => new Date(menu.cutoff.getTime() - 3_600_000);
  const place = async (menu: MealMenuDoc, person: PersonDoc, req: Partial<MealOrderRequest> = {}, withLines = true) =>
    placeMealOrder(settings(), { id: person._id, staff: false }, menu, await kitchenOf(menu), person,
      { mode: 'dine_in', quantity: 1, ...req }, beforeCutoff(menu), { lines: withLines ? lines() : undefined });
  const fresh = async (menu: MealMenuDoc) => (await MealMenu.findById(menu._id))!;

  /** The menu's lines as the sheets read them, and whether they came from Redis without a rebuild. */
  async function expectLinesMatchMongo(menu: MealMenuDoc, source: 'lines' | 'rebuilt' | 'any' = 'lines') {
    const m = await fresh(menu);
    const read = await mealLines(lines(), m);
    if (source !== 'any') expect(read.source).to.equal(source);
    expect(sheetsOf(m, read.orders)).to.deep.equal(sheetsOf(m, await loadSheetOrders(m)));
    return read;
  }

  before(async () => {
    ({ request } = createTestApp());
    community = await makeCommunity();
    await makeSubsidyRule(community);
    staff = (await makeStaff({ community: community._id })).person;
    staffUser = asSelf(staff);
    auth = await bearerFor(staff);
  });

  describe('the read model follows every order write', () => {
    it('place, change, cancel and the delivery outcome: each write updates its line, no rebuild needed', async () => {
      const menu = await makeMenu(await makeKitchen(community), { date: '2030-04-01' });
      const first = await expectLinesMatchMongo(menu, 'rebuilt'); // never read: built from MongoDB once
      expect(first.orders).to.have.length(0);

      const a = await place(menu, await elder('第一网格', '302', { dietaryNeeds: ['低盐'] }), { mode: 'delivery' });
      const b = await place(menu, await resident({ dietaryNeeds: ['软食'] }), { mode: 'pickup', quantity: 2 });
      const c = await place(menu, await elder('第二网格', '1102'), { mode: 'delivery', note: '请敲门大声些' });
      await expectLinesMatchMongo(menu);

      const k = await kitchenOf(menu);
      await changeMealOrder(settings(), { id: b.bookedFor, staff: false }, b, await fresh(menu), k, { quantity: 1, mode: 'dine_in', dietaryNeeds: [] },
        undefined, beforeCutoff(menu), lines());
      const read = await expectLinesMatchMongo(menu);
      expect(read.orders.find((o) => String(o._id) === String(b._id))).to.include({ quantity: 1, mode: 'dine_in' });

      await cancelMealOrder({ id: c.bookedFor, staff: false }, c, await fresh(menu), undefined, beforeCutoff(menu), lines());
      await expectLinesMatchMongo(menu);

      const outcome = await recordDeliveryOutcome(staffUser, a, { outcome: 'delivered' }, atShanghai(menu.date, '11:30'), lines());
      expect(outcome.status).to.equal('delivered');
      const after = await expectLinesMatchMongo(menu);
      expect(after.orders.find((o) => String(o._id) === String(a._id))).to.include({ status: 'delivered' });
      const sheets = sheetsOf(await fresh(menu), after.orders);
      expect(sheets.kitchen).to.include({ orders: 2, portions: 2 });
      expect(sheets.delivery.map((s) => [s.grid, s.stops.length])).to.deep.equal([['第一网格', 1]]);
    });

    it('recurring orders: materialisation and a suspension write their lines', async () => {
      const kitchen = await makeKitchen(community);
      // 2030-04-08 is a Monday.
      const mon = await makeMenu(kitchen, { date: '2030-04-08' });
      const tue = await makeMenu(kitchen, { date: '2030-04-09' });
      const wed = await makeMenu(kitchen, { date: '2030-04-10' });
      for (const m of [mon, tue, wed]) await expectLinesMatchMongo(m, 'rebuilt');
      const person = await elder('第一网格', '501', { tags: ['独居'] });
      const { recurring, placed } = await createRecurringMealOrder(settings(), { id: person._id, staff: false }, kitchen, person, {
        meal: 'lunch', weekdays: [1, 2, 3], mode: 'delivery', quantity: 1, from: '2030-04-08', until: '2030-04-10',
      }, atShanghai('2030-04-07', '10:00'), lines());
      expect(placed).to.equal(2);
      for (const m of [mon, tue]) expect((await expectLinesMatchMongo(m)).orders).to.have.length(1);

      const later = await materialiseRecurringOrders(settings(), atShanghai('2030-04-08', '10:00'), 500, lines());
      expect(later.placed).to.equal(1);
      expect((await expectLinesMatchMongo(wed)).orders).to.have.length(1);

      await suspendRecurringMealOrder({ id: person._id, staff: false }, recurring, { from: '2030-04-10', resumeOn: '2030-04-11' },
        atShanghai('2030-04-08', '10:00'), lines());
      const read = await expectLinesMatchMongo(wed);
      expect(read.orders[0]!.status).to.equal('cancelled');
    });

    it('a write made without Redis (a script, the seed) is noticed: the next read rebuilds from MongoDB', async () => {
      const menu = await makeMenu(await makeKitchen(community), { date: '2030-04-02' });
      await place(menu, await resident());
      await expectLinesMatchMongo(menu, 'any');
      await place(menu, await resident(), {}, false);
      const read = await expectLinesMatchMongo(menu, 'rebuilt');
      expect(read.orders).to.have.length(2);
      await place(menu, await resident());
      expect((await expectLinesMatchMongo(menu, 'lines')).orders).to.have.length(3);
    });

    it('racing orders leave the lines equal to MongoDB (rebuilt when the stamps raced)', async () => {
      const menu = await makeMenu(await makeKitchen(community), { date: '2030-04-03' });
      await expectLinesMatchMongo(menu, 'rebuilt');
      const people = await Promise.all(Array.from({ length: 12 }, (_, i) => elder(`第${'一二三'[i % 3]}网格`, `${i + 1}01`)));
      await Promise.all(people.map((p, i) => place(menu, p, { mode: i % 2 ? 'delivery' : 'dine_in' })));
      expect((await expectLinesMatchMongo(menu, 'any')).orders).to.have.length(12);
      expect((await expectLinesMatchMongo(menu, 'lines')).orders).to.have.length(12);
    });

    it('is rebuilt after Redis loses it, and refreshed in the background when its built mark expires', async () => {
      const menu = await makeMenu(await makeKitchen(community), { date: '2030-04-04' });
      await expectLinesMatchMongo(menu, 'rebuilt');
      for (let i = 0; i < 3; i += 1) await place(menu, await elder('第一网格', `${i + 2}02`), { mode: 'delivery' });
      await expectLinesMatchMongo(menu, 'lines');

      await dropMealLines(redis(), [menu._id]);
      expect(await redis().exists(mealLinesKey(menu._id))).to.equal(0);
      expect((await expectLinesMatchMongo(menu, 'rebuilt')).orders).to.have.length(3);
      expect(await redis().ttl(mealLinesKey(menu._id))).to.be.within(2 * 24 * 3600 - 60, 2 * 24 * 3600);

      await redis().del(mealLinesBuiltKey(menu._id));
      await expectLinesMatchMongo(menu, 'lines'); // served: its stamp vouches for it
      await mealLineRebuildsSettled();
      expect(await redis().ttl(mealLinesBuiltKey(menu._id))).to.be.greaterThan(0);
    });

    it('erasure (注销) overwrites the person\'s lines and drops the cached sheets; both paths give equal sheets over HTTP', async () => {
      const menu = await makeMenu(await makeKitchen(community), { date: '2030-04-05' });
      const gone = await elder('第一网格', '702', { name: '将注销老人', phone: '13912345678' });
      const stays = await elder('第一网格', '802', { name: '留下的老人' });
      await place(menu, gone, { mode: 'delivery' });
      await place(menu, stays, { mode: 'delivery' });
      const before1 = await request.get(`/api/v1/meal-menus/${menu._id}/delivery-sheets`).set('Authorization', auth).expect(200);
      expect(JSON.stringify(before1.body)).to.include('13912345678');
      expect((await redis().hvals(mealLinesKey(menu._id))).join()).to.include('13912345678');
      expect(await redis().exists(`meal-sheets:${menu._id}`)).to.equal(1);

      await request.post('/api/v1/me/deletion').set('Authorization', await bearerFor(gone)).send({ confirm: '确认注销' })
        .expect((r) => expect(r.status).to.be.oneOf([200, 202, 204]));
      const raw = (await redis().hvals(mealLinesKey(menu._id))).join();
      expect(raw).not.to.include('13912345678');
      expect(raw).not.to.include('将注销老人');
      expect(raw).to.include('留下的老人');
      expect(await redis().exists(`meal-sheets:${menu._id}`)).to.equal(0);

      const m = await fresh(menu);
      const http = await request.get(`/api/v1/meal-menus/${menu._id}/delivery-sheets`).set('Authorization', auth).expect(200);
      const fromMongo = sheetsOf(m, await loadSheetOrders(m));
      expect(http.body.items).to.deep.equal(JSON.parse(JSON.stringify(fromMongo.delivery)));
      expect(http.body.items[0].stops.map((s: { name: string | null }) => s.name)).to.deep.equal([null, '留下的老人']);
      const kitchenSheet = await request.get(`/api/v1/meal-menus/${menu._id}/kitchen-sheet`).set('Authorization', auth).expect(200);
      expect(kitchenSheet.body).to.deep.equal(JSON.parse(JSON.stringify(fromMongo.kitchen)));
      // Generated from the lines with the finished cache bypassed: the same pair.
      expect(await mealSheets(m, redis(), { finished: false })).to.deep.equal(fromMongo);
    });
  });

  describe('delivery runs become volunteer tasks', () => {
    it('the cut-off makes one meal_delivery task per run, once; a re-run makes none', async () => {
      const kitchen = await makeKitchen(community);
      const menu = await makeMenu(kitchen, { date: '2030-04-15' });
      for (let i = 0; i < 16; i += 1) await place(menu, await elder('第一网格', `${i + 1}01`), { mode: 'delivery' });
      await place(menu, await elder('第二网格', '301'), { mode: 'delivery' });
      const at = new Date(menu.cutoff.getTime() + 60_000);

      const first = await processMealCutoff(menu._id, at, redis());
      expect(first.created).to.equal(2);
      const tasks = await VolunteerTask.find({ source: 'meals', facility: kitchen._id }).sort({ title: 1 });
      expect(tasks.map((t) => [t.title, t.peopleNeeded])).to.deep.equal([['4月15日午餐送餐 第一网格', 2], ['4月15日午餐送餐 第二网格', 1]]);
      const [one] = tasks;
      expect(one).to.deep.include({ type: 'meal_delivery', place: `${(kitchen as FacilityDoc).name}（取餐点）`, status: 'open' });
      expect([...one!.skillsRequired]).to.deep.equal(['送餐']);
      expect(one!.start.toISOString()).to.equal(atShanghai('2030-04-15', '10:45').toISOString());
      expect(one!.end.toISOString()).to.equal(atShanghai('2030-04-15', '12:30').toISOString());
      expect(String(one!.community)).to.equal(String(community._id));
      expect(one!.description).not.to.match(/测试居民/);
      expect(String(one!._id)).to.equal(String(taskIdForKey(deliveryTaskKey(menu._id, '第一网格'))));
      const runs = await DeliveryRun.find({ menu: menu._id }).sort({ grid: 1 });
      expect(runs.map((r) => String(r.volunteerTask))).to.have.members(tasks.map((t) => String(t._id)));

      const again = await processMealCutoff(menu._id, at, redis());
      expect(again.created).to.equal(0);
      expect(await VolunteerTask.countDocuments({ source: 'meals', facility: kitchen._id })).to.equal(2);
      expect((await DeliveryRun.find({ menu: menu._id })).map((r) => String(r.volunteerTask))).to.have.members(tasks.map((t) => String(t._id)));

      // A run lost its task link (an older record): the re-run finds the same task by its key.
      await DeliveryRun.updateMany({ menu: menu._id }, { $unset: { volunteerTask: 1 } });
      await processMealCutoff(menu._id, at, redis());
      expect(await VolunteerTask.countDocuments({ source: 'meals', facility: kitchen._id })).to.equal(2);
      expect((await DeliveryRun.find({ menu: menu._id })).every((r) => r.volunteerTask)).to.equal(true);
    });

    it('processed once the delivery window has begun: the run is made without a task', async () => {
      const kitchen = await makeKitchen(community);
      const menu = await makeMenu(kitchen, { date: '2030-04-16' });
      await place(menu, await elder('第一网格', '101'), { mode: 'delivery' });
      const result = await processMealCutoff(menu._id, atShanghai('2030-04-16', '11:00'), redis());
      expect(result.runs).to.have.length(1);
      expect(result.runs[0]!.volunteerTask).to.equal(undefined);
      expect(await VolunteerTask.countDocuments({ facility: kitchen._id })).to.equal(0);
      expect(await MealOrder.countDocuments({ menu: menu._id })).to.equal(1);
    });
  });
});
