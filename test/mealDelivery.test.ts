import { expect } from 'chai';
import { atShanghai, shanghaiDay } from '../models/calendar.js';
import {
  AuditEntry,
  Community, DeliveryRun, Facility, MealMenu, Person, MealOrder, Notification, RecurringMealOrder, WellnessAlert, WellnessVisit,
  type CommunityDoc, type FacilityDoc, type MealMenuDoc, type PersonDoc,
} from '../models/index.js';
import { cancelMealOrder, placeMealOrder, type MealOrderRequest } from '../src/commands/mealOrders.js';
import { createRecurringMealOrder, materialiseRecurringOrders, suspendRecurringMealOrder } from '../src/commands/mealRecurring.js';
import { buildKitchenSheet, floorOf, withArabicNumerals, processDueMealCutoffs, processMealCutoff, type SheetOrder } from '../src/commands/mealSheets.js';
import { DEMO_COMMUNITY_CODE, seedDemo } from '../src/seed/demo.js';
import { createTestApp } from './support/app.js';
import { createTestLogger } from './support/logs.js';
import { bearerFor } from './support/auth.js';
import { testConfig, testEnvironment } from './support/env.js';
import { useCleanStorage } from './support/storage.js';
import {
  bornYearsAgo, dayFromToday, makeCommunity, makeGridWorker, makeKitchen, makeMenu, makeProxyLink, makeResident, makeStaff,
  makeSubsidyRule, makeVolunteer,
} from './factories/index.js';

const settings = () => testConfig().meals;

describe('elderly meals: cut-off, delivery, wellness', () => {
  useCleanStorage();
  let request: ReturnType<typeof createTestApp>['request'];
  let community: CommunityDoc;
  let staff: PersonDoc;
  let auth: { staff: string };

  const resident = (overrides: Parameters<typeof makeResident>[0] = {}) => makeResident({ community: community._id, ...overrides });
  const kitchenOf = async (menu: MealMenuDoc) => (await Facility.findById(menu.kitchen))!;
  /** Places an order through the command, as the resident, at `at` (default: an hour before the cut-off). */
  const place = async (menu: MealMenuDoc, person: PersonDoc, req: Partial<MealOrderRequest> = {}, at?: Date) =>
    placeMealOrder(settings(), { id: person._id, staff: false }, menu, await kitchenOf(menu), person,
      { mode: 'dine_in', quantity: 1, ...req }, at ?? new Date(menu.cutoff.getTime() - 3_600_000));
  /** Today's lunch of a new kitchen, its cut-off a minute ago (orders placed before it). */
  const closedMenu = async (overrides: Parameters<typeof makeMenu>[1] = {}) =>
    makeMenu(await makeKitchen(community), { date: shanghaiDay(new Date()), cutoff: new Date(Date.now() - 60_000), ...overrides });

  before(async () => {
    ({ request } = createTestApp());
    community = await makeCommunity();
    await makeSubsidyRule(community);
    staff = (await makeStaff({ community: community._id })).person;
    auth = { staff: await bearerFor(staff) };
  });

  describe('the kitchen sheet', () => {
    it('counts portions per dish, per dietary need and per mode, leaving cancelled orders out', async () => {
      const menu = await makeMenu(await makeKitchen(community), { date: '2030-03-05' });
      await place(menu, await resident(), { mode: 'dine_in', quantity: 2, dietaryNeeds: [] });
      await place(menu, await resident({ dietaryNeeds: ['低盐'] }), { mode: 'pickup' });
      await place(menu, await resident({ birthDate: bornYearsAgo(85), dietaryNeeds: ['低盐', '软食'] }), { mode: 'delivery' });
      await place(menu, await resident({ tags: ['独居'] }), { mode: 'delivery', quantity: 2, dietaryNeeds: ['低糖'] });
      const gone = await place(menu, await resident(), { mode: 'dine_in', dietaryNeeds: ['清真'] });
      await cancelMealOrder({ id: gone.bookedFor, staff: false }, gone, menu, undefined, new Date(menu.cutoff.getTime() - 60_000));

      const res = await request.get(`/api/v1/meal-menus/${menu._id}/kitchen-sheet`).set('Authorization', auth.staff).expect(200);
      const sheet = res.body;
      expect(sheet).to.include({ orders: 4, portions: 6, date: '2030-03-05', meal: 'lunch' });
      expect(sheet.byMode).to.deep.equal({ dine_in: { orders: 1, portions: 2 }, pickup: { orders: 1, portions: 1 }, delivery: { orders: 2, portions: 3 } });
      expect(sheet.byDietaryNeed).to.deep.equal([
        { need: '低盐', portions: 2, byMode: { dine_in: 0, pickup: 1, delivery: 1 } },
        { need: '低糖', portions: 2, byMode: { dine_in: 0, pickup: 0, delivery: 2 } },
        { need: '软食', portions: 1, byMode: { dine_in: 0, pickup: 0, delivery: 1 } },
      ]);
      expect(sheet.none).to.deep.equal({ portions: 2, byMode: { dine_in: 2, pickup: 0, delivery: 0 } });
      // 清蒸鲈鱼 suits 低盐 and 低脂; 香菇青菜 also 低糖 and 素食.
      expect(sheet.dishes).to.deep.equal([
        { name: '清蒸鲈鱼', allergens: ['鱼'], portions: 6, byMode: { dine_in: 2, pickup: 1, delivery: 3 }, adapt: [{ need: '低糖', portions: 2 }, { need: '软食', portions: 1 }] },
        { name: '香菇青菜', allergens: [], portions: 6, byMode: { dine_in: 2, pickup: 1, delivery: 3 }, adapt: [{ need: '软食', portions: 1 }] },
      ]);
      await request.get(`/api/v1/meal-menus/${menu._id}/kitchen-sheet`).set('Authorization', await bearerFor(await resident())).expect(403);

      // Served from the cache while no order changes; a new order (a new sheet stamp) shows at once.
      const cached = await request.get(`/api/v1/meal-menus/${menu._id}/kitchen-sheet`).set('Authorization', auth.staff).expect(200);
      expect(cached.body).to.deep.equal(sheet);
      expect(await testEnvironment().redis.exists(`meal-sheets:${menu._id}`)).to.equal(1);
      await place(menu, await resident({ tags: ['独居'] }), { mode: 'delivery', dietaryNeeds: ['清真'] });
      const fresh = await request.get(`/api/v1/meal-menus/${menu._id}/kitchen-sheet`).set('Authorization', auth.staff).expect(200);
      expect(fresh.body).to.include({ orders: 5, portions: 7 });
    });

    it('is an empty sheet for a menu with no orders (pure function)', async () => {
      const menu = await makeMenu(await makeKitchen(community), { date: '2030-03-05' });
      const sheet = buildKitchenSheet(menu, [] as SheetOrder[]);
      expect(sheet).to.include({ orders: 0, portions: 0 });
      expect(sheet.byDietaryNeed).to.deep.equal([]);
      expect(sheet.dishes.every((d) => d.portions === 0 && d.adapt.length === 0)).to.equal(true);
    });
  });

  describe('delivery sheets and the cut-off', () => {
    let menu: MealMenuDoc;
    const grid1: Array<[string, string, string]> = [
      ['10栋', '2单元', '101'], ['3栋', '1单元', '1102'], ['3栋', '2单元', '201'], ['2栋', '1单元', '501'], ['3栋', '1单元', '302'],
    ];
    before(async () => {
      menu = await makeMenu(await makeKitchen(community), { date: '2030-03-06' });
      for (const [building, unit, room] of grid1) {
        await place(menu, await resident({ birthDate: bornYearsAgo(85), grid: '第一网格', address: { building, unit, room } }), { mode: 'delivery' });
      }
      await place(menu, await resident({ tags: ['失能'], grid: '第二网格', address: { building: '5栋', unit: '1单元', room: '203' } }), { mode: 'delivery', quantity: 2 });
      await place(menu, await resident({ grid: '第一网格' }), { mode: 'dine_in' });
    });

    it('groups 送餐上门 orders by grid, each in walking order (building, unit, floor, door)', async () => {
      const res = await request.get(`/api/v1/meal-menus/${menu._id}/delivery-sheets`).set('Authorization', auth.staff).expect(200);
      const sheets = res.body.items as Array<{ grid: string; portions: number; buildings: string[]; stops: Array<{ building: string; unit: string; room: string; floor: number; name: string }> }>;
      expect(sheets.map((s) => [s.grid, s.portions])).to.deep.equal([['第一网格', 5], ['第二网格', 2]]);
      expect(sheets[0]!.stops.map((s) => `${s.building}${s.unit}${s.room}`)).to.deep.equal([
        '2栋1单元501', '3栋1单元302', '3栋1单元1102', '3栋2单元201', '10栋2单元101',
      ]);
      expect(sheets[0]!.buildings).to.deep.equal(['2栋', '3栋', '10栋']);
      expect(sheets[0]!.stops[2]!.floor).to.equal(11);
      expect(sheets[0]!.stops[0]!.name).to.match(/^测试居民/);
      // Names, phones and doors of everyone on the sheet: the staff read is audited.
      expect(await AuditEntry.countDocuments({ action: 'meal.deliverySheets' })).to.equal(1);
      expect([floorOf('302'), floorOf('1102'), floorOf('12'), floorOf('B1'), floorOf(undefined)]).to.deep.equal([3, 11, 0, 0, null]);
      expect(['第十二网格', '第二网格', '第十网格', '第一网格'].sort((a, b) => withArabicNumerals(a).localeCompare(withArabicNumerals(b), 'zh', { numeric: true })))
        .to.deep.equal(['第一网格', '第二网格', '第十网格', '第十二网格']);
    });

    it('refuses to process before the cut-off, then makes one run per grid, idempotently', async () => {
      const early = await processMealCutoff(menu._id, new Date(menu.cutoff.getTime() - 60_000)).catch((e: unknown) => e);
      expect((early as { code?: string }).code).to.equal('cutoff_not_reached');
      expect(await DeliveryRun.countDocuments({ menu: menu._id })).to.equal(0);

      const at = new Date(menu.cutoff.getTime() + 60_000);
      const first = await processMealCutoff(menu._id, at);
      expect(first.created).to.equal(2);
      expect(first.kitchenSheet).to.include({ orders: 7, portions: 8 });
      expect(first.runs.map((r) => [r.grid, r.portions, r.stops.length])).to.deep.equal([['第一网格', 5, 5], ['第二网格', 2, 1]]);
      const again = await processMealCutoff(menu._id, at);
      expect(again.created).to.equal(0);
      expect(again.runs.map((r) => String(r._id))).to.deep.equal(first.runs.map((r) => String(r._id)));
      expect(await DeliveryRun.countDocuments({ menu: menu._id })).to.equal(2);

      // Staff cancel the only order of 第二网格 after the cut-off: a re-run drops that run.
      const order = (await MealOrder.findOne({ menu: menu._id, grid: '第二网格' }))!;
      await cancelMealOrder({ id: staff._id, staff: true }, order, menu, '老人住院', at);
      const third = await processMealCutoff(menu._id, at);
      expect(third.runs.map((r) => r.grid)).to.deep.equal(['第一网格']);
      expect(await DeliveryRun.countDocuments({ menu: menu._id })).to.equal(1);
      expect((await MealMenu.findById(menu._id))!.cutoffProcessedAt).to.be.instanceOf(Date);
    });

    it('processes each due menu once from the job batch', async () => {
      const due = await makeMenu(await makeKitchen(community), { date: '2030-03-07' });
      await place(due, await resident({ birthDate: bornYearsAgo(90), grid: '第三网格' }), { mode: 'delivery' });
      const at = new Date(due.cutoff.getTime() + 60_000);
      const first = await processDueMealCutoffs(at, 1000);
      expect(first.processed).to.be.at.least(1);
      expect(await DeliveryRun.countDocuments({ menu: due._id })).to.equal(1);
      const second = await processDueMealCutoffs(at, 1000);
      expect(second.processed).to.equal(0);
      expect(await DeliveryRun.countDocuments({ menu: due._id })).to.equal(1);
    });

    it('POST /api/v1/meal-menus/:menuId/cutoff: staff only, 409 before the cut-off', async () => {
      const open = await makeMenu(await makeKitchen(community), { date: dayFromToday(3) });
      const res = await request.post(`/api/v1/meal-menus/${open._id}/cutoff`).set('Authorization', auth.staff).expect(409);
      expect(res.body.error.code).to.equal('cutoff_not_reached');
      const closed = await closedMenu();
      await place(closed, await resident({ birthDate: bornYearsAgo(85), grid: '第一网格' }), { mode: 'delivery' });
      await request.post(`/api/v1/meal-menus/${closed._id}/cutoff`).set('Authorization', await bearerFor(await resident())).expect(403);
      const done = await request.post(`/api/v1/meal-menus/${closed._id}/cutoff`).set('Authorization', auth.staff).expect(200);
      expect(done.body.created).to.equal(1);
      const again = await request.post(`/api/v1/meal-menus/${closed._id}/cutoff`).set('Authorization', auth.staff).expect(200);
      expect(again.body.created).to.equal(0);
      const runs = await request.get(`/api/v1/meal-menus/${closed._id}/delivery-runs`).set('Authorization', auth.staff).expect(200);
      expect(runs.body.items).to.have.length(1);
      expect(runs.body.items[0].stops).to.have.length(1);
    });

    it('leaves the contact of a deleted (anonymised) resident off the sheets', async () => {
      const m = await makeMenu(await makeKitchen(community), { date: '2030-03-08' });
      const gone = await resident({ birthDate: bornYearsAgo(85), name: '将注销', grid: '第一网格', address: { building: '1栋', unit: '1单元', room: '101' } });
      await place(m, gone, { mode: 'delivery' });
      await request.post('/api/v1/me/deletion').set('Authorization', await bearerFor(gone)).send({ confirm: '确认注销' }).expect((r) => expect(r.status).to.be.oneOf([200, 202, 204]));
      const res = await request.get(`/api/v1/meal-menus/${m._id}/delivery-sheets`).set('Authorization', auth.staff).expect(200);
      expect(res.body.items[0].stops[0]).to.include({ name: null, phone: null, unit: null, room: null, building: '1栋' });
    });
  });

  describe('POST /api/v1/meal-orders/:orderId/outcome and the wellness alert', () => {
    let elder: PersonDoc;
    let son: PersonDoc;
    let daughter: PersonDoc;
    let gridWorker: PersonDoc;
    let otherGridWorker: PersonDoc;
    let farGridWorker: PersonDoc;
    let neighbourSon: PersonDoc;
    let volunteer: PersonDoc;
    before(async () => {
      elder = await resident({ name: '陈桂兰', birthDate: bornYearsAgo(86), tags: ['独居'], grid: '第一网格', address: { building: '3栋', unit: '1单元', room: '302' } });
      son = await resident({ birthDate: bornYearsAgo(55) });
      daughter = await resident({ birthDate: bornYearsAgo(50) });
      await makeProxyLink(son, elder);
      await makeProxyLink(daughter, elder, { status: 'revoked', revokedAt: new Date() });
      gridWorker = await makeGridWorker(community, ['第一网格', '第四网格']);
      otherGridWorker = await makeGridWorker(community, ['第二网格']);
      farGridWorker = await makeGridWorker(await makeCommunity(), ['第一网格']);
      const neighbour = await resident({ birthDate: bornYearsAgo(84), grid: '第一网格' });
      neighbourSon = await resident();
      await makeProxyLink(neighbourSon, neighbour);
      volunteer = await makeVolunteer({ community: community._id });
    });
    const outcome = (orderId: unknown, body: object, authorization = auth.staff) =>
      request.post(`/api/v1/meal-orders/${orderId}/outcome`).set('Authorization', authorization).send(body);

    it('"not at home" alerts the family contact and the grid worker at once, and nobody else', async () => {
      const menu = await closedMenu();
      const order = await place(menu, elder, { mode: 'delivery' });
      const before = await Notification.countDocuments();
      const res = await outcome(order._id, { outcome: 'not_at_home', note: '敲门无人应答' }).expect(200);
      expect(res.body).to.include({ status: 'not_at_home' });
      expect(res.body.outcome).to.include({ outcome: 'not_at_home', note: '敲门无人应答' });

      const alert = (await WellnessAlert.findOne({ order: order._id }))!;
      expect(alert).to.include({ kind: 'not_at_home', status: 'open' });
      expect(alert.recipients.map(String).sort()).to.deep.equal([String(son._id), String(gridWorker._id)].sort());
      const sent = await Notification.find({ kind: 'wellness_alert' });
      expect(sent.map((n) => String(n.person)).sort()).to.deep.equal([String(son._id), String(gridWorker._id)].sort());
      expect(await Notification.countDocuments()).to.equal(before + 2);
      for (const n of sent) {
        expect(n.text).to.include('陈桂兰（3栋1单元302）');
        expect(n.text).to.include('不在家');
        expect(n.text).to.include('敲门无人应答');
      }
      for (const nobody of [daughter, otherGridWorker, farGridWorker, neighbourSon, elder, staff]) {
        expect(await Notification.countDocuments({ person: nobody._id, kind: 'wellness_alert' }), String(nobody.name)).to.equal(0);
      }
      // Not at home is no visit; the meal was not handed over.
      expect(await WellnessVisit.countDocuments({ order: order._id })).to.equal(0);

      // The recipients and staff see it; others do not.
      const forSon = await request.get('/api/v1/wellness-alerts?status=open').set('Authorization', await bearerFor(son)).expect(200);
      expect(forSon.body.items.map((a: { id: string }) => a.id)).to.deep.equal([String(alert._id)]);
      const forOther = await request.get('/api/v1/wellness-alerts').set('Authorization', await bearerFor(otherGridWorker)).expect(200);
      expect(forOther.body.items).to.deep.equal([]);
      const forStaff = await request.get('/api/v1/wellness-alerts').set('Authorization', auth.staff).expect(200);
      expect(forStaff.body.items.map((a: { id: string }) => a.id)).to.include(String(alert._id));

      // Closed once, with what happened; the other recipient is told.
      const close = (authorization: string) => request.post(`/api/v1/wellness-alerts/${alert._id}/close`).set('Authorization', authorization);
      await close(await bearerFor(otherGridWorker)).send({ resolution: '已联系' }).expect(403);
      const missing = await close(await bearerFor(gridWorker)).send({}).expect(400);
      expect(missing.body.error.message).to.include('处理情况');
      const closed = await close(await bearerFor(gridWorker)).send({ resolution: '已电话联系，老人在女儿家，平安' }).expect(200);
      expect(closed.body).to.include({ status: 'closed', closedBy: String(gridWorker._id), resolution: '已电话联系，老人在女儿家，平安' });
      const told = await Notification.find({ kind: 'wellness_alert_closed' });
      expect(told.map((n) => String(n.person))).to.deep.equal([String(son._id)]);
      const twice = await close(await bearerFor(son)).send({ resolution: '好的' }).expect(409);
      expect(twice.body.error.code).to.equal('invalid_transition');

      // A second knock delivers it: that is the month's visit.
      await outcome(order._id, { outcome: 'delivered' }).expect(200);
      expect(await WellnessVisit.countDocuments({ order: order._id, source: 'meal_delivery' })).to.equal(1);
    });

    it('"needs attention" needs a note, alerts the same people and counts as a visit', async () => {
      const menu = await closedMenu();
      const order = await place(menu, elder, { mode: 'delivery' });
      const noNote = await outcome(order._id, { outcome: 'needs_attention' }).expect(400);
      expect(noNote.body.error.code).to.equal('note_required');
      await outcome(order._id, { outcome: 'needs_attention', note: '老人说头晕，已请邻居陪同' }, await bearerFor(volunteer)).expect(200);
      const alert = (await WellnessAlert.findOne({ order: order._id }))!;
      expect(alert.kind).to.equal('needs_attention');
      expect(alert.recipients.map(String).sort()).to.deep.equal([String(son._id), String(gridWorker._id)].sort());
      expect(await WellnessVisit.countDocuments({ order: order._id })).to.equal(1);
      const again = await outcome(order._id, { outcome: 'delivered' }).expect(409);
      expect(again.body.error.code).to.equal('invalid_transition');
    });

    it('tells the community\'s staff at once when the elder has no family link and no grid worker', async () => {
      const alone = await resident({ name: '孤老', birthDate: bornYearsAgo(88), grid: '第九网格', address: { building: '5栋', unit: '2单元', room: '501' } });
      const order = await place(await closedMenu(), alone, { mode: 'delivery' });
      await outcome(order._id, { outcome: 'needs_attention', note: '老人说胸闷' }).expect(200);
      const alert = (await WellnessAlert.findOne({ order: order._id }))!;
      expect(alert.recipients.map(String)).to.include(String(staff._id));
      const told = await Notification.find({ kind: 'wellness_alert', key: new RegExp(`^wellness-alert:${alert._id}:`) });
      expect(told.map((n) => String(n.person))).to.include(String(staff._id));
      expect(told[0]!.text).to.include('没有登记家属或网格员');
      expect(told[0]!.dueAt.getTime()).to.be.at.most(Date.now());
    });

    it('refuses a dine-in order (409 not_a_delivery), a meal of another day (409 meal_not_due), residents (403) and an unknown outcome (400)', async () => {
      const menu = await closedMenu();
      const dineIn = await place(menu, await resident(), { mode: 'dine_in' });
      expect((await outcome(dineIn._id, { outcome: 'delivered' }).expect(409)).body.error.code).to.equal('not_a_delivery');
      const delivery = await place(menu, await resident({ birthDate: bornYearsAgo(81) }), { mode: 'delivery' });
      await outcome(delivery._id, { outcome: 'delivered' }, await bearerFor(delivery.bookedFor as unknown as PersonDoc)).expect(403);
      await outcome(delivery._id, { outcome: 'left_at_door' }).expect(400);
      await outcome('65a1b2c3d4e5f6a7b8c9d0e1', { outcome: 'delivered' }).expect(404);
      const tomorrow = await makeMenu(await makeKitchen(community), { date: dayFromToday(1) });
      const early = await place(tomorrow, await resident({ birthDate: bornYearsAgo(81) }), { mode: 'delivery' });
      expect((await outcome(early._id, { outcome: 'delivered' }).expect(409)).body.error.code).to.equal('meal_not_due');
    });
  });

  describe('monthly wellness visits', () => {
    let visits: CommunityDoc;
    let alone: PersonDoc;
    let hardship: PersonDoc;
    let fed: PersonDoc;
    let worker: PersonDoc;
    let visitsStaff: PersonDoc;
    before(async () => {
      visits = await makeCommunity();
      await makeSubsidyRule(visits);
      const r = (o: Parameters<typeof makeResident>[0]) => makeResident({ community: visits._id, ...o });
      alone = await r({ name: '独居甲', tags: ['独居'], grid: '第一网格' });
      hardship = await r({ name: '特困乙', tags: ['特困'], grid: '第二网格' });
      fed = await r({ name: '独居丙', tags: ['独居'], grid: '第二网格', birthDate: bornYearsAgo(88) });
      await r({ name: '普通丁', grid: '第一网格' });
      worker = await makeGridWorker(visits, ['第一网格']);
      visitsStaff = (await makeStaff({ community: visits._id })).person;
    });
    const visit = (elder: PersonDoc, body: object, authorization: string) =>
      request.post(`/api/v1/residents/${elder._id}/wellness-visits`).set('Authorization', authorization).send(body);

    it('records a visit by the grid worker of the elder\'s grid, refusing others', async () => {
      const res = await visit(alone, { note: '上门探访，老人精神好' }, await bearerFor(worker)).expect(201);
      expect(res.body).to.include({ elder: String(alone._id), by: String(worker._id), source: 'visit', month: shanghaiDay(new Date()).slice(0, 7) });
      await visit(hardship, { note: '探访' }, await bearerFor(worker)).expect(403);
      await visit(hardship, { note: '探访' }, await bearerFor(await makeResident({ community: visits._id }))).expect(403);
      const future = await visit(hardship, { note: '探访', at: new Date(Date.now() + 86_400_000).toISOString() }, await bearerFor(visitsStaff)).expect(400);
      expect(future.body.error.code).to.equal('visit_in_future');
      await visit(hardship, {}, await bearerFor(visitsStaff)).expect(400);
    });

    it('reports the 特困 and 独居 elders with no visit yet this month; a delivered meal counts', async () => {
      const kitchen = await makeKitchen(visits);
      const menu = await makeMenu(kitchen, { date: shanghaiDay(new Date()), cutoff: new Date(Date.now() - 60_000) });
      const order = await placeMealOrder(settings(), { id: fed._id, staff: false }, menu, kitchen as FacilityDoc, fed,
        { mode: 'delivery', quantity: 1 }, new Date(menu.cutoff.getTime() - 60_000));
      await request.post(`/api/v1/meal-orders/${order._id}/outcome`).set('Authorization', await bearerFor(visitsStaff)).send({ outcome: 'delivered' }).expect(200);

      const url = `/api/v1/communities/${visits._id}/wellness-visits/report`;
      await request.get(url).set('Authorization', await bearerFor(worker)).expect(403);
      const res = await request.get(url).set('Authorization', await bearerFor(visitsStaff)).expect(200);
      expect(res.body).to.include({ elders: 3, visited: 2 });
      expect(res.body.missing.map((m: { id: string }) => m.id)).to.deep.equal([String(hardship._id)]);
      expect(res.body.missing[0]).to.include({ name: '特困乙', grid: '第二网格', lastVisitAt: null });
      expect(res.body.visitedElders.map((e: { id: string }) => e.id)).to.have.members([String(alone._id), String(fed._id)]);
      expect(res.body.visitedElders.every((e: { visits: number; lastVisitAt: string }) => e.visits >= 1 && e.lastVisitAt)).to.equal(true);
      const lastMonth = await request.get(`${url}?month=2020-01`).set('Authorization', await bearerFor(visitsStaff)).expect(200);
      expect(lastMonth.body.visited).to.equal(0);
      expect(lastMonth.body.missing).to.have.length(3);
      expect(lastMonth.body.visitedElders).to.deep.equal([]);
      await request.get(`${url}?month=2020-13`).set('Authorization', await bearerFor(visitsStaff)).expect(400);
    });

    it('gives each elder\'s last visit from lastVisitAt, kept by the visits and rebuilt from history when missing', async () => {
      const own = await makeCommunity();
      const ownStaff = (await makeStaff({ community: own._id })).person;
      const r = (o: Parameters<typeof makeResident>[0]) => makeResident({ community: own._id, ...o });
      const both = await r({ name: '两项戊', tags: ['特困', '独居'], grid: '第一网格' });
      const legacy = await r({ name: '旧档己', tags: ['独居'], grid: '第二网格' });
      await r({ name: '待审庚', tags: ['独居'], status: 'pending' });
      const authorization = await bearerFor(ownStaff);
      const lastMonth = new Date(Date.now() - 40 * 86_400_000);
      const earlier = new Date(Date.now() - 70 * 86_400_000);
      await visit(both, { note: '上月探访', at: lastMonth.toISOString() }, authorization).expect(201);
      // Recorded late: an earlier visit does not move lastVisitAt back ($max).
      await visit(both, { note: '补录更早的探访', at: earlier.toISOString() }, authorization).expect(201);
      expect((await Person.findById(both._id).lean())!.lastVisitAt?.toISOString()).to.equal(lastMonth.toISOString());
      // A visit stored before lastVisitAt existed: the report reads the elder's visits and writes it back.
      await WellnessVisit.create({ elder: legacy._id, community: own._id, at: earlier, month: shanghaiDay(earlier).slice(0, 7), by: ownStaff._id, note: '旧记录', source: 'visit' });
      expect((await Person.findById(legacy._id).lean())!.lastVisitAt).to.equal(undefined);

      const url = `/api/v1/communities/${own._id}/wellness-visits/report`;
      await request.get(url).expect(401);
      const res = await request.get(url).set('Authorization', authorization).expect(200);
      // Tagged twice, counted once; the pending one is not listed.
      expect(res.body).to.include({ elders: 2, visited: 0 });
      const last = Object.fromEntries(res.body.missing.map((m: { id: string; lastVisitAt: string }) => [m.id, m.lastVisitAt]));
      expect(last).to.deep.equal({ [String(both._id)]: lastMonth.toISOString(), [String(legacy._id)]: earlier.toISOString() });
      expect((await Person.findById(legacy._id).lean())!.lastVisitAt?.toISOString()).to.equal(earlier.toISOString());

      await visit(legacy, { note: '本月探访' }, authorization).expect(201);
      const after = await request.get(url).set('Authorization', authorization).expect(200);
      expect(after.body).to.include({ elders: 2, visited: 1 });
      expect(after.body.visitedElders.map((e: { id: string }) => e.id)).to.deep.equal([String(legacy._id)]);
    });
  });

  describe('POST /api/v1/meal-orders/:orderId/rating and the rating report', () => {
    it('rates a delivered or served meal once, and staff see it per kitchen and dish', async () => {
      const kitchen = await makeKitchen(community);
      const yesterday = await makeMenu(kitchen, { date: dayFromToday(-1), cutoff: atShanghai(dayFromToday(-1), '09:30') });
      const eater = await resident();
      const eaten = await place(yesterday, eater, { mode: 'dine_in' });
      const token = await bearerFor(eater);
      const rate = (orderId: unknown, body: object, authorization = token) =>
        request.post(`/api/v1/meal-orders/${orderId}/rating`).set('Authorization', authorization).send(body);
      const unknown = await rate(eaten._id, { good: true, dishes: [{ name: '宫保鸡丁', good: true }] }).expect(400);
      expect(unknown.body.error.code).to.equal('unknown_dish');
      await rate(eaten._id, { good: true }, await bearerFor(await resident())).expect(403);
      const rated = await rate(eaten._id, { good: true, comment: '鱼很新鲜', dishes: [{ name: '香菇青菜', good: false }] }).expect(201);
      expect(rated.body).to.include({ good: true, comment: '鱼很新鲜' });
      expect((await rate(eaten._id, { good: false }).expect(409)).body.error.code).to.equal('already_rated');

      const other = await resident();
      const cancelledMenu = await makeMenu(kitchen, { date: dayFromToday(4) });
      const cancelled = await place(cancelledMenu, other);
      await cancelMealOrder({ id: other._id, staff: false }, cancelled, cancelledMenu, undefined, new Date(cancelledMenu.cutoff.getTime() - 60_000));
      expect((await rate(cancelled._id, { good: true }, await bearerFor(other)).expect(409)).body.error.code).to.equal('meal_not_rateable');
      const notYet = await place(await makeMenu(kitchen, { date: dayFromToday(5) }), other);
      await rate(notYet._id, { good: true }, await bearerFor(other)).expect(409);

      const url = `/api/v1/communities/${community._id}/meal-ratings?kitchen=${kitchen._id}&from=${dayFromToday(-7)}`;
      await request.get(url).set('Authorization', token).expect(403);
      const report = await request.get(url).set('Authorization', auth.staff).expect(200);
      expect(report.body.kitchens).to.have.length(1);
      expect(report.body.kitchens[0]).to.include({ good: 1, bad: 0 });
      expect(report.body.kitchens[0].dishes).to.deep.equal([
        { name: '清蒸鲈鱼', good: 1, bad: 0 },
        { name: '香菇青菜', good: 0, bad: 1 },
      ]);
      expect(report.body.kitchens[0].comments).to.deep.equal([{ date: dayFromToday(-1), good: true, comment: '鱼很新鲜' }]);
    });
  });

  describe('subsidy rule and monthly totals (admin)', () => {
    it('sets the rule and sums each tier\'s subsidy over the month, cancelled orders left out', async () => {
      const town = await makeCommunity();
      const admin = await makeResident({ roles: ['admin'], birthDate: undefined });
      const townStaff = (await makeStaff({ community: town._id })).person;
      const rule = {
        tiers: [
          { label: '困难老人', minAge: 60, requiresAnyTag: ['特困', '低保', '低收入'], pay: 100 },
          { label: '80岁及以上', minAge: 80, pay: 300 },
          { label: '60–79岁', minAge: 60, maxAge: 79, pay: 500 },
        ],
        deliveryFee: 200,
      };
      const ruleUrl = `/api/v1/communities/${town._id}/meal-subsidy-rule`;
      await request.put(ruleUrl).set('Authorization', await bearerFor(townStaff)).send(rule).expect(403);
      const saved = await request.put(ruleUrl).set('Authorization', await bearerFor(admin)).send(rule).expect(200);
      expect(saved.body.tiers.map((t: { label: string }) => t.label)).to.deep.equal(['困难老人', '80岁及以上', '60–79岁']);
      await request.get(ruleUrl).set('Authorization', await bearerFor(townStaff)).expect(200);

      const kitchen = await makeKitchen(town);
      const month = '2030-04';
      const menu = await makeMenu(kitchen, { date: `${month}-10` });
      const menu2 = await makeMenu(kitchen, { date: `${month}-11` });
      const r = (o: Parameters<typeof makeResident>[0]) => makeResident({ community: town._id, ...o });
      const at = (m: MealMenuDoc) => new Date(m.cutoff.getTime() - 3_600_000);
      const order = async (m: MealMenuDoc, p: PersonDoc, req: Partial<MealOrderRequest> = {}) =>
        placeMealOrder(settings(), { id: p._id, staff: false }, m, kitchen, p, { mode: 'dine_in', quantity: 1, ...req }, at(m));
      const poor = await r({ tags: ['低保'] });
      await order(menu, poor);
      await order(menu2, poor);
      await order(menu, await r({ birthDate: bornYearsAgo(85, new Date('2030-04-10T04:00:00Z')) }), { mode: 'delivery' });
      await order(menu, await r({ birthDate: bornYearsAgo(40, new Date('2030-04-10T04:00:00Z')) }), { quantity: 2 });
      const gone = await order(menu, await r({ tags: ['特困'] }));
      await cancelMealOrder({ id: gone.bookedFor, staff: false }, gone, menu, undefined, at(menu));

      const url = `/api/v1/communities/${town._id}/meal-subsidies?month=${month}`;
      await request.get(url).set('Authorization', await bearerFor(townStaff)).expect(403);
      const res = await request.get(url).set('Authorization', await bearerFor(admin)).expect(200);
      expect(res.body.tiers).to.deep.equal([
        { tier: '困难老人', orders: 2, portions: 2, subsidy: 2200, paid: 200, deliveryFees: 0 },
        { tier: '80岁及以上', orders: 1, portions: 1, subsidy: 900, paid: 500, deliveryFees: 200 },
        { tier: '无补贴（全价）', orders: 1, portions: 2, subsidy: 0, paid: 2400, deliveryFees: 0 },
      ]);
      expect(res.body.totals).to.deep.equal({ orders: 4, portions: 5, subsidy: 3100, paid: 3100, deliveryFees: 200 });
    });
  });

  describe('recurring orders and suspension', () => {
    // 2030-03-04 is a Monday. Lunch every weekday until Friday 03-08, orders placed 2 days ahead.
    const days = ['2030-03-04', '2030-03-05', '2030-03-06', '2030-03-07', '2030-03-08', '2030-03-09', '2030-03-11'];
    const clock = (day: string) => atShanghai(day, '10:00');

    it('materialises ahead of each cut-off, skips a suspension in the middle, resumes by itself, never twice', async () => {
      const kitchen = await makeKitchen(community);
      const menus = new Map<string, MealMenuDoc>();
      for (const d of days) menus.set(d, await makeMenu(kitchen, { date: d }));
      const elder = await resident({ birthDate: bornYearsAgo(84), tags: ['独居'] });

      const { recurring, placed } = await createRecurringMealOrder(settings(), { id: elder._id, staff: false }, kitchen, elder, {
        meal: 'lunch', weekdays: [1, 2, 3, 4, 5], mode: 'delivery', quantity: 1, from: '2030-03-04', until: '2030-03-08',
      }, clock('2030-03-03'));
      expect(placed).to.equal(2); // Monday and Tuesday: within 2 days of Sunday

      // In hospital from Tuesday; back home on Thursday.
      const suspended = await suspendRecurringMealOrder({ id: elder._id, staff: false }, recurring,
        { from: '2030-03-05', resumeOn: '2030-03-07', reason: '住院' }, atShanghai('2030-03-03', '11:00'));
      expect(suspended.cancelled).to.equal(1);

      const runs: Record<string, number> = {};
      for (const d of ['2030-03-04', '2030-03-05', '2030-03-06', '2030-03-06', '2030-03-07', '2030-03-08']) {
        runs[d] = (runs[d] ?? 0) + (await materialiseRecurringOrders(settings(), clock(d))).placed;
      }
      expect(runs).to.deep.equal({ '2030-03-04': 0, '2030-03-05': 1, '2030-03-06': 1, '2030-03-07': 0, '2030-03-08': 0 });

      const orders = await MealOrder.find({ recurring: recurring._id }).sort({ date: 1 });
      expect(orders.map((o) => [o.date, o.status])).to.deep.equal([
        ['2030-03-04', 'confirmed'], ['2030-03-05', 'cancelled'], ['2030-03-07', 'confirmed'], ['2030-03-08', 'confirmed'],
      ]);
      expect(orders.every((o) => o.mode === 'delivery' && String(o.bookedFor) === String(elder._id))).to.equal(true);
      await materialiseRecurringOrders(settings(), clock('2030-03-10'));
      expect((await RecurringMealOrder.findById(recurring._id))!.status).to.equal('ended');
    });

    it('skips a sold-out day once, telling the resident, and does not retry it', async () => {
      const kitchen = await makeKitchen(community);
      const menu = await makeMenu(kitchen, { date: '2030-03-12', capacity: 1, remaining: 1 });
      await placeMealOrder(settings(), { id: staff._id, staff: false }, menu, kitchen, await resident(), { mode: 'dine_in', quantity: 1 }, clock('2030-03-11'));
      const elder = await resident();
      const { recurring, placed } = await createRecurringMealOrder(settings(), { id: elder._id, staff: false }, kitchen, elder, {
        meal: 'lunch', weekdays: [2], mode: 'dine_in', quantity: 1, from: '2030-03-12', until: '2030-03-31',
      }, clock('2030-03-11'));
      expect(placed).to.equal(0);
      expect((await RecurringMealOrder.findById(recurring._id))!.skippedMenus.map((s) => s.reason)).to.deep.equal(['meal_sold_out']);
      expect(await Notification.countDocuments({ person: elder._id, kind: 'meal_recurring_skipped' })).to.equal(1);
      expect((await materialiseRecurringOrders(settings(), clock('2030-03-11'))).skipped).to.equal(0);
    });

    it('POST /api/v1/kitchens/:kitchenId/recurring-orders, suspend and end over HTTP', async () => {
      const kitchen = await makeKitchen(community);
      await makeMenu(kitchen, { date: dayFromToday(1) });
      const elder = await resident({ birthDate: bornYearsAgo(81) });
      const son = await resident();
      await makeProxyLink(son, elder);
      const token = await bearerFor(son);
      const body = { meal: 'lunch', weekdays: [0, 1, 2, 3, 4, 5, 6], mode: 'delivery', from: dayFromToday(1), until: dayFromToday(20), forPerson: String(elder._id) };
      const bad = await request.post(`/api/v1/kitchens/${kitchen._id}/recurring-orders`).set('Authorization', token)
        .send({ ...body, until: dayFromToday(0), from: dayFromToday(1) }).expect(400);
      expect(bad.body.error.code).to.equal('recurring_range_invalid');
      const res = await request.post(`/api/v1/kitchens/${kitchen._id}/recurring-orders`).set('Authorization', token).send(body).expect(201);
      expect(res.body.placed).to.equal(1);
      expect(res.body.recurring).to.include({ bookedFor: String(elder._id), bookedBy: String(son._id), status: 'active' });
      const id = res.body.recurring.id as string;
      await request.post(`/api/v1/meal-recurring/${id}/suspend`).set('Authorization', await bearerFor(await resident())).send({ resumeOn: dayFromToday(5) }).expect(403);
      const suspended = await request.post(`/api/v1/meal-recurring/${id}/suspend`).set('Authorization', token)
        .send({ from: dayFromToday(1), resumeOn: dayFromToday(5), reason: '住院' }).expect(200);
      expect(suspended.body).to.include({ cancelled: 1 });
      expect(suspended.body.recurring.suspensions).to.deep.equal([{ from: dayFromToday(1), resumeOn: dayFromToday(5), reason: '住院' }]);
      const mine = await request.get(`/api/v1/meal-recurring/mine?forPerson=${elder._id}`).set('Authorization', token).expect(200);
      expect(mine.body.items.map((r: { id: string }) => r.id)).to.deep.equal([id]);
      const ended = await request.post(`/api/v1/meal-recurring/${id}/end`).set('Authorization', token).expect(200);
      expect(ended.body.status).to.equal('ended');
    });
  });

  describe('demo seed: meals', () => {
    it('seeds a delivery area, the grid worker\'s grid, a few orders and a standing order, once', async () => {
      const now = new Date('2026-03-04T02:00:00Z'); // Wednesday 10:00 in Shanghai
      await seedDemo(createTestLogger(), { password: 'test-demo-password', now });
      const demo = (await Community.findOne({ code: DEMO_COMMUNITY_CODE }))!;
      const kitchen = (await Facility.findOne({ community: demo._id, kind: 'kitchen' }))!;
      expect([...kitchen.serviceArea!.grids!]).to.deep.equal(['第一网格', '第二网格', '第三网格']);
      const worker = (await Person.findOne({ community: demo._id, roles: 'grid_worker' }))!;
      expect([...worker.workGrids!]).to.deep.equal(['第一网格']);
      const orders = await MealOrder.find({ kitchen: kitchen._id }).sort({ date: 1, createdAt: 1 });
      expect(orders.map((o) => [o.date, o.mode])).to.deep.equal([
        ['2026-03-05', 'dine_in'], ['2026-03-05', 'delivery'], ['2026-03-05', 'pickup'], ['2026-03-05', 'delivery'], ['2026-03-06', 'delivery'],
      ]);
      expect(orders.filter((o) => o.recurring)).to.have.length(2);
      expect(String(orders[2]!.bookedBy)).to.equal(String(worker._id));
      expect(orders[2]!.breakdown.toPay).to.equal(100);
      await seedDemo(createTestLogger(), { password: 'test-demo-password', now });
      expect(await MealOrder.countDocuments({ kitchen: kitchen._id })).to.equal(5);
      expect(await RecurringMealOrder.countDocuments({ kitchen: kitchen._id })).to.equal(1);
    });
  });
});
