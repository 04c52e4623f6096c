import { expect } from 'chai';
import { trusted } from 'mongoose';
import { atShanghai } from '../models/calendar.js';
import { CapacityClaim, Facility, MealMenu, MealOrder, Notification, ProxyLink, type CommunityDoc, type FacilityDoc, type MealMenuDoc, type PersonDoc } from '../models/index.js';
import { portionsLeft } from '../src/commands/mealMenus.js';
import { cancelMealOrder, mealBreakdown, placeMealOrder, quoteMealOrder } from '../src/commands/mealOrders.js';
import { backfillMealOrderMonths } from '../src/commands/mealOrderList.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { testConfig } from './support/env.js';
import { useCleanStorage } from './support/storage.js';
import {
  bornYearsAgo, dayFromToday, makeCommunity, makeKitchen, makeMenu, makeProxyLink, makeResident, makeStaff, makeSubsidyRule,
} from './factories/index.js';

const settings = () => testConfig().meals;
const ZENGCHENG_TIER = '特困/低保/低收入 60岁及以上';

describe('elderly meals: menus and orders', () => {
  useCleanStorage();
  let request: ReturnType<typeof createTestApp>['request'];
  let community: CommunityDoc;
  let kitchen: FacilityDoc;
  let staff: PersonDoc;
  let resident: PersonDoc;
  let auth: { staff: string; resident: string };

  /** A published lunch of a new kitchen of the community, `days` from today (12 元, `capacity` portions). */
  const newMenu = async (days = 2, overrides: Parameters<typeof makeMenu>[1] = {}) =>
    makeMenu(await makeKitchen(community), { date: dayFromToday(days), ...overrides });
  const order = (menu: { _id: unknown }, body: object, authorization = auth.resident) =>
    request.post(`/api/v1/meal-menus/${menu._id}/orders`).set('Authorization', authorization).send(body);
  const quote = (menu: { _id: unknown }, body: object, authorization = auth.resident) =>
    request.post(`/api/v1/meal-menus/${menu._id}/quote`).set('Authorization', authorization).send(body);
  const resident70 = (overrides: Parameters<typeof makeResident>[0] = {}) => makeResident({ community: community._id, ...overrides });

  before(async () => {
    ({ request } = createTestApp());
    community = await makeCommunity();
    kitchen = await makeKitchen(community, { name: '幸福里长者饭堂测试' });
    await makeSubsidyRule(community, { deliveryFee: 200 });
    staff = (await makeStaff({ community: community._id })).person;
    resident = await resident70();
    auth = { staff: await bearerFor(staff), resident: await bearerFor(resident) };
  });

  describe('PUT /api/v1/kitchens/:kitchenId/menus/:date/:meal', () => {
    const body = { dishes: [{ name: '番茄炖牛腩', allergens: [], suitableFor: ['软食'] }, { name: '清炒西兰花', suitableFor: ['低盐', '素食'] }], price: 1200, capacity: 3 };
    const url = (date: string, meal = 'lunch', k: FacilityDoc = kitchen) => `/api/v1/kitchens/${k._id}/menus/${date}/${meal}`;

    it('publishes a menu with the default cut-off (lunch 09:30, dinner 15:00), then republishes it', async () => {
      const date = dayFromToday(5);
      const created = await request.put(url(date)).set('Authorization', auth.staff).send(body).expect(201);
      expect(created.body).to.include({ date, meal: 'lunch', price: 1200, capacity: 3, remaining: 3, published: true });
      expect(new Date(created.body.cutoff).toISOString()).to.equal(atShanghai(date, '09:30').toISOString());
      const dinner = await request.put(url(date, 'dinner')).set('Authorization', auth.staff).send(body).expect(201);
      expect(new Date(dinner.body.cutoff).toISOString()).to.equal(atShanghai(date, '15:00').toISOString());
      const again = await request.put(url(date)).set('Authorization', auth.staff).send({ ...body, price: 1500 }).expect(200);
      expect(again.body).to.include({ id: created.body.id, price: 1500 });
    });

    it('uses the kitchen\'s own cut-off once staff set it', async () => {
      const own = await makeKitchen(community);
      await request.patch(`/api/v1/kitchens/${own._id}/meal-settings`).set('Authorization', auth.staff)
        .send({ mealCutoffs: { lunch: '08:45' }, serviceArea: { grids: ['第一网格'] } }).expect(200);
      const date = dayFromToday(5);
      const res = await request.put(url(date, 'lunch', own)).set('Authorization', auth.staff).send(body).expect(201);
      expect(new Date(res.body.cutoff).toISOString()).to.equal(atShanghai(date, '08:45').toISOString());
    });

    it('refuses residents (403), a past cut-off (400 menu_cutoff_passed) and a bad meal (400)', async () => {
      await request.put(url(dayFromToday(5))).set('Authorization', auth.resident).send(body).expect(403);
      const past = await request.put(url(dayFromToday(-1))).set('Authorization', auth.staff).send(body).expect(400);
      expect(past.body.error.code).to.equal('menu_cutoff_passed');
      expect(past.body.error.message).to.match(/截止时间.*已过/);
      const bad = await request.put(url(dayFromToday(5), 'breakfast')).set('Authorization', auth.staff).send(body).expect(400);
      expect(bad.body.error.message).to.include('餐次');
      const noDish = await request.put(url(dayFromToday(5))).set('Authorization', auth.staff).send({ ...body, dishes: [] }).expect(400);
      expect(noDish.body.error.message).to.include('菜品');
    });

    it('lowers capacity down to the portions already ordered (moving their places), never below', async () => {
      const date = dayFromToday(6);
      const menu = await request.put(url(date)).set('Authorization', auth.staff).send({ ...body, capacity: 4 }).expect(201);
      for (let i = 0; i < 3; i++) await order({ _id: menu.body.id }, { mode: 'dine_in' }, await bearerFor(await resident70())).expect(201);
      const refused = await request.put(url(date)).set('Authorization', auth.staff).send({ ...body, capacity: 2 }).expect(409);
      expect(refused.body.error.code).to.equal('capacity_below_orders');
      const ok = await request.put(url(date)).set('Authorization', auth.staff).send({ ...body, capacity: 3 }).expect(200);
      expect(ok.body.capacity).to.equal(3);
      const full = await order({ _id: menu.body.id }, { mode: 'dine_in' }, await bearerFor(await resident70())).expect(409);
      expect(full.body.error.code).to.equal('meal_sold_out');
      await request.put(url(date)).set('Authorization', auth.staff).send({ ...body, capacity: 5 }).expect(200);
      await order({ _id: menu.body.id }, { mode: 'dine_in' }, await bearerFor(await resident70())).expect(201);
    });
  });

  describe('GET /api/v1/meal-menus and /api/v1/kitchens', () => {
    it('lists the community\'s kitchens and the published menus of the coming week', async () => {
      const menu = await makeMenu(kitchen, { date: dayFromToday(1) });
      const kitchens = await request.get('/api/v1/kitchens').set('Authorization', auth.resident).expect(200);
      expect(kitchens.body.items.map((k: { id: string }) => k.id)).to.include(String(kitchen._id));
      const menus = await request.get(`/api/v1/meal-menus?kitchen=${kitchen._id}`).set('Authorization', auth.resident).expect(200);
      expect(menus.body.items.map((m: { id: string }) => m.id)).to.include(String(menu._id));
      const one = await request.get(`/api/v1/meal-menus/${menu._id}`).set('Authorization', auth.resident).expect(200);
      expect(one.body).to.include({ remaining: 80, kitchenName: kitchen.name });
      await request.get('/api/v1/meal-menus/65a1b2c3d4e5f6a7b8c9d0e1').set('Authorization', auth.resident).expect(404);
      await request.get('/api/v1/meal-menus').expect(401);
    });
  });

  describe('POST /api/v1/meal-menus/:menuId/quote — subsidy tiers (Zengcheng rule, 12 元 meal)', () => {
    const cases: Array<[string, Parameters<typeof makeResident>[0], number, string | null]> = [
      ['65, 特困', { birthDate: bornYearsAgo(65, undefined, 30), tags: ['特困'] }, 100, ZENGCHENG_TIER],
      ['72, 低保', { birthDate: bornYearsAgo(72, undefined, 30), tags: ['低保'] }, 100, ZENGCHENG_TIER],
      ['85, 低收入 (the hardship tier comes first)', { birthDate: bornYearsAgo(85, undefined, 30), tags: ['低收入'] }, 100, ZENGCHENG_TIER],
      ['59, 特困 (under 60: full price)', { birthDate: bornYearsAgo(59, undefined, 30), tags: ['特困'] }, 1200, null],
      ['86, no tag', { birthDate: bornYearsAgo(86, undefined, 30) }, 300, '80岁及以上'],
      ['80 (from the birthday)', { birthDate: bornYearsAgo(80, undefined, 30) }, 300, '80岁及以上'],
      ['79', { birthDate: bornYearsAgo(79, undefined, 30) }, 500, '60–79岁'],
      ['60', { birthDate: bornYearsAgo(60, undefined, 30) }, 500, '60–79岁'],
      ['45', { birthDate: bornYearsAgo(45, undefined, 30) }, 1200, null],
      ['unknown age', { birthDate: undefined }, 1200, null],
    ];
    let menu: MealMenuDoc;
    before(async () => { menu = await newMenu(3); });
    for (const [who, fields, pays, tier] of cases) {
      it(`${who} pays ${pays / 100} 元 for dine-in`, async () => {
        const person = await resident70(fields);
        const res = await quote(menu, { mode: 'dine_in' }, await bearerFor(person)).expect(200);
        expect(res.body.breakdown).to.deep.equal({
          unitPrice: 1200, quantity: 1, tier, subsidisedPrice: pays, subsidy: 1200 - pays, deliveryFee: 0, toPay: pays,
        });
      });
    }

    it('adds the delivery fee and charges extra portions at the menu price', async () => {
      const elder = await resident70({ birthDate: bornYearsAgo(85), dietaryNeeds: ['低盐'] });
      const res = await quote(menu, { mode: 'delivery', quantity: 2 }, await bearerFor(elder)).expect(200);
      expect(res.body.breakdown).to.deep.equal({
        unitPrice: 1200, quantity: 2, tier: '80岁及以上', subsidisedPrice: 300, subsidy: 900, deliveryFee: 200, toPay: 300 + 1200 + 200,
      });
      expect(res.body).to.include({ dietarySource: 'profile', deliveryEligible: true });
      expect(res.body.dietaryNeeds).to.deep.equal(['低盐']);
      expect(await MealOrder.countDocuments({ menu: menu._id })).to.equal(0);
    });

    it('agrees with mealBreakdown() for a rule with no tiers (full price)', () => {
      expect(mealBreakdown({ tiers: [], deliveryFee: 0 }, 90, ['特困'], 1200, 'pickup', 1).toPay).to.equal(1200);
      expect(mealBreakdown(null, 90, [], 1000, 'delivery', 1)).to.include({ toPay: 1000, deliveryFee: 0, tier: null });
    });
  });

  describe('POST /api/v1/meal-menus/:menuId/orders', () => {
    it('orders for the caller, storing the breakdown and the profile\'s dietary needs, and claims one place', async () => {
      const menu = await newMenu(2);
      const elder = await resident70({ birthDate: bornYearsAgo(82), dietaryNeeds: ['软食', '低盐'] });
      const res = await order(menu, { mode: 'pickup' }, await bearerFor(elder)).expect(201);
      expect(res.body).to.include({ status: 'confirmed', mode: 'pickup', quantity: 1, bookedFor: String(elder._id), bookedBy: String(elder._id), dietarySource: 'profile' });
      expect(res.body.dietaryNeeds).to.deep.equal(['软食', '低盐']);
      expect(res.body.breakdown).to.include({ toPay: 300, subsidy: 900 });
      expect(await CapacityClaim.countDocuments({ key: `meal:${menu._id}` })).to.equal(1);
      expect(await portionsLeft((await MealMenu.findById(menu._id))!)).to.equal(79);
    });

    it('takes the order\'s own dietary needs over the profile', async () => {
      const menu = await newMenu(2);
      const elder = await resident70({ dietaryNeeds: ['低盐'] });
      const res = await order(menu, { mode: 'dine_in', dietaryNeeds: ['清真', '软食'] }, await bearerFor(elder)).expect(201);
      expect(res.body).to.include({ dietarySource: 'order' });
      expect(res.body.dietaryNeeds).to.deep.equal(['清真', '软食']);
    });

    it('refuses a second order of the same meal by the same person (409 meal_already_ordered)', async () => {
      const menu = await newMenu(2);
      const person = await resident70();
      const token = await bearerFor(person);
      await order(menu, { mode: 'dine_in' }, token).expect(201);
      const res = await order(menu, { mode: 'pickup' }, token).expect(409);
      expect(res.body.error.code).to.equal('meal_already_ordered');
      expect(await CapacityClaim.countDocuments({ key: `meal:${menu._id}` })).to.equal(1);
    });

    const refusals: Array<[string, object, number, string, RegExp]> = [
      ['more portions than allowed', { mode: 'dine_in', quantity: 4 }, 400, 'meal_quantity_exceeded', /最多 3 份/],
      ['an unknown mode', { mode: 'takeaway' }, 400, 'validation_error', /用餐方式/],
      ['an unknown dietary need', { mode: 'dine_in', dietaryNeeds: ['无辣'] }, 400, 'validation_error', /饮食需求/],
      ['an operator instead of a mode', { mode: { $ne: null } }, 400, 'validation_error', /用餐方式/],
    ];
    for (const [what, body, status, code, message] of refusals) {
      it(`refuses ${what} (${status} ${code}) and claims nothing`, async () => {
        const menu = await newMenu(2);
        const res = await order(menu, body).expect(status);
        expect(res.body.error.code).to.equal(code);
        expect(res.body.error.message).to.match(message);
        expect(await CapacityClaim.countDocuments({ key: `meal:${menu._id}` })).to.equal(0);
      });
    }

    it('refuses 401 without a token, 404 for an unknown menu, 403 for another community\'s kitchen', async () => {
      const menu = await newMenu(2);
      await request.post(`/api/v1/meal-menus/${menu._id}/orders`).send({ mode: 'dine_in' }).expect(401);
      await order({ _id: '65a1b2c3d4e5f6a7b8c9d0e1' }, { mode: 'dine_in' }).expect(404);
      const elsewhere = await makeMenu(await makeKitchen(), { date: dayFromToday(2) });
      const res = await order(elsewhere, { mode: 'dine_in' }).expect(403);
      expect(res.body.error.code).to.equal('kitchen_other_community');
    });

    it('refuses a pending (unverified) resident with 403 resident_not_verified', async () => {
      const res = await order(await newMenu(2), { mode: 'dine_in' }, await bearerFor(await resident70({ status: 'pending' }))).expect(403);
      expect(res.body.error.code).to.equal('resident_not_verified');
    });

    it('orders once for a repeated Idempotency-Key', async () => {
      const menu = await newMenu(2);
      const first = await order(menu, { mode: 'dine_in' }).set('Idempotency-Key', 'meal-retry-000001').expect(201);
      const again = await order(menu, { mode: 'dine_in' }).set('Idempotency-Key', 'meal-retry-000001').expect(201);
      expect(again.body).to.deep.equal(first.body);
      expect(await MealOrder.countDocuments({ menu: menu._id })).to.equal(1);
    });
  });

  describe('the cut-off', () => {
    it('accepts an order a minute before the cut-off and refuses one a minute after (HTTP, real time)', async () => {
      const open = await newMenu(0, { cutoff: new Date(Date.now() + 60_000) });
      await order(open, { mode: 'dine_in' }).expect(201);
      const closed = await newMenu(0, { cutoff: new Date(Date.now() - 60_000) });
      const res = await order(closed, { mode: 'dine_in' }).expect(409);
      expect(res.body.error.code).to.equal('meal_cutoff_passed');
      expect(res.body.error.message).to.match(/已于 \d\d:\d\d 截止订餐和取消/);
    });

    it('accepts at cut-off − 1 minute and refuses at cut-off + 1 minute (command, controlled clock)', async () => {
      const menu = await makeMenu(await makeKitchen(community), { date: '2030-03-05' });
      expect(menu.cutoff.toISOString()).to.equal(atShanghai('2030-03-05', '09:30').toISOString());
      const kitchenDoc = (await Facility.findById(menu.kitchen))!;
      const a = await resident70();
      const b = await resident70();
      const residentActor = (p: PersonDoc) => ({ id: p._id, staff: false });
      const before = new Date(menu.cutoff.getTime() - 60_000);
      const after = new Date(menu.cutoff.getTime() + 60_000);
      await placeMealOrder(settings(), residentActor(a), menu, kitchenDoc, a, { mode: 'dine_in', quantity: 1 }, before);
      const refused = await placeMealOrder(settings(), residentActor(b), menu, kitchenDoc, b, { mode: 'dine_in', quantity: 1 }, after).catch((e: unknown) => e);
      expect((refused as { code?: string }).code).to.equal('meal_cutoff_passed');
      // Staff may still add an order for the rest of the day, not the next day.
      await placeMealOrder(settings(), { id: staff._id, staff: true }, menu, kitchenDoc, b, { mode: 'dine_in', quantity: 1 }, after);
      const nextDay = await quoteMealOrder(settings(), { id: staff._id, staff: true }, menu, kitchenDoc, b, { mode: 'dine_in', quantity: 1 },
        atShanghai('2030-03-06', '08:00')).catch((e: unknown) => e);
      expect((nextDay as { code?: string }).code).to.equal('meal_cutoff_passed');
    });
  });

  describe('delivery eligibility (送餐上门)', () => {
    let menu: MealMenuDoc;
    before(async () => { menu = await newMenu(3); });
    const cases: Array<[string, Parameters<typeof makeResident>[0], boolean]> = [
      ['85 years old', { birthDate: bornYearsAgo(85) }, true],
      ['80 on the day', { birthDate: bornYearsAgo(80, undefined, 0) }, true],
      ['79, no tag', { birthDate: bornYearsAgo(79) }, false],
      ['70, 独居', { tags: ['独居'] }, true],
      ['70, 失能', { tags: ['失能'] }, true],
      ['70, 残疾', { tags: ['残疾'] }, true],
      ['70, 低保 only', { tags: ['低保'] }, false],
    ];
    for (const [who, fields, eligible] of cases) {
      it(`${who}: ${eligible ? 'may' : 'may not'} order delivery`, async () => {
        const res = await order(menu, { mode: 'delivery' }, await bearerFor(await resident70(fields))).expect(eligible ? 201 : 403);
        if (!eligible) {
          expect(res.body.error.code).to.equal('delivery_not_eligible');
          expect(res.body.error.message).to.include('80 岁及以上或失能、残疾、独居');
        }
      });
    }

    it('lets a resident with staff approval order delivery, and staff order it for anyone', async () => {
      const person = await resident70();
      const token = await bearerFor(person);
      await order(menu, { mode: 'delivery' }, token).expect(403);
      await request.put(`/api/v1/residents/${person._id}/meal-delivery-approval`).set('Authorization', token).send({ reason: '腿伤' }).expect(403);
      await request.put(`/api/v1/residents/${person._id}/meal-delivery-approval`).set('Authorization', auth.staff).send({ reason: '腿伤' }).expect(204);
      await quote(menu, { mode: 'delivery' }, token).expect(200);
      await request.delete(`/api/v1/residents/${person._id}/meal-delivery-approval`).set('Authorization', auth.staff).expect(204);
      await quote(menu, { mode: 'delivery' }, token).expect(403);
      const res = await order(menu, { mode: 'delivery', forPerson: String(person._id) }, auth.staff).expect(201);
      expect(res.body).to.include({ bookedFor: String(person._id), bookedBy: String(staff._id), mode: 'delivery' });
    });

    it('refuses delivery outside the kitchen\'s area (400 outside_delivery_area)', async () => {
      const area = await makeKitchen(community, { serviceArea: { grids: ['第二网格'], buildings: ['9栋'] } });
      const areaMenu = await makeMenu(area, { date: dayFromToday(3) });
      const outside = await resident70({ birthDate: bornYearsAgo(85), grid: '第一网格', address: { building: '3栋', unit: '1单元', room: '302' } });
      const res = await order(areaMenu, { mode: 'delivery' }, await bearerFor(outside)).expect(400);
      expect(res.body.error.code).to.equal('outside_delivery_area');
      await order(areaMenu, { mode: 'dine_in' }, await bearerFor(outside)).expect(201);
      const byBuilding = await resident70({ birthDate: bornYearsAgo(85), grid: '第一网格', address: { building: '9栋', unit: '1单元', room: '101' } });
      await order(areaMenu, { mode: 'delivery' }, await bearerFor(byBuilding)).expect(201);
      const byGrid = await resident70({ birthDate: bornYearsAgo(85), grid: '第二网格' });
      await order(areaMenu, { mode: 'delivery' }, await bearerFor(byGrid)).expect(201);
    });
  });

  describe('racing orders', () => {
    it('50 concurrent orders for the last 10 portions: exactly 10 succeed, 40 get 409 meal_sold_out in Chinese', async () => {
      const menu = await newMenu(4, { capacity: 20, remaining: 20 });
      const early = await Promise.all(Array.from({ length: 5 }, () => resident70()));
      for (const p of early) await order(menu, { mode: 'dine_in', quantity: 2 }, await bearerFor(p)).expect(201);
      const people = await Promise.all(Array.from({ length: 50 }, () => resident70()));
      const tokens = await Promise.all(people.map((p) => bearerFor(p)));
      const results = await Promise.all(tokens.map((t) => order(menu, { mode: 'dine_in' }, t)));
      expect(results.filter((r) => r.status === 201)).to.have.length(10);
      const refused = results.filter((r) => r.status === 409);
      expect(refused).to.have.length(40);
      for (const r of refused) {
        expect(r.body.error.code).to.equal('meal_sold_out');
        expect(r.body.error.message).to.match(/已订满.*请选择其他餐次或助餐点/);
      }
      expect(await MealOrder.countDocuments({ menu: menu._id, status: 'confirmed' })).to.equal(15);
      expect(await CapacityClaim.countDocuments({ key: `meal:${menu._id}` })).to.equal(20);
      expect(await CapacityClaim.countDocuments({ key: trusted({ $regex: `^meal-person:${menu._id}:` }) })).to.equal(15);
      expect(await portionsLeft((await MealMenu.findById(menu._id))!)).to.equal(0);
    });
  });

  describe('POST /api/v1/meal-orders/:orderId/cancel and PATCH /api/v1/meal-orders/:orderId', () => {
    it('lets the resident cancel before the cut-off, freeing the portion and the per-person place', async () => {
      const menu = await newMenu(2, { capacity: 1, remaining: 1 });
      const person = await resident70();
      const token = await bearerFor(person);
      const placed = await order(menu, { mode: 'dine_in' }, token).expect(201);
      await order(menu, { mode: 'dine_in' }, await bearerFor(await resident70())).expect(409);
      const cancelled = await request.post(`/api/v1/meal-orders/${placed.body.id}/cancel`).set('Authorization', token).send({}).expect(200);
      expect(cancelled.body.status).to.equal('cancelled');
      await order(menu, { mode: 'dine_in' }, await bearerFor(await resident70())).expect(201);
      const twice = await request.post(`/api/v1/meal-orders/${placed.body.id}/cancel`).set('Authorization', token).send({}).expect(409);
      expect(twice.body.error.code).to.equal('invalid_transition');
      await request.post(`/api/v1/meal-orders/${placed.body.id}/cancel`).set('Authorization', await bearerFor(await resident70())).send({}).expect(403);
    });

    it('after the cut-off refuses the resident and lets staff cancel with a reason the resident is told', async () => {
      const menu = await newMenu(0, { cutoff: new Date(Date.now() - 60_000) });
      const k = (await Facility.findById(menu.kitchen))!;
      const person = await resident70();
      const placed = await placeMealOrder(settings(), { id: person._id, staff: false }, menu, k, person, { mode: 'dine_in', quantity: 1 },
        new Date(menu.cutoff.getTime() - 120_000));
      const token = await bearerFor(person);
      const late = await request.post(`/api/v1/meal-orders/${placed._id}/cancel`).set('Authorization', token).send({}).expect(409);
      expect(late.body.error.code).to.equal('meal_cutoff_passed');
      const change = await request.patch(`/api/v1/meal-orders/${placed._id}`).set('Authorization', token).send({ quantity: 2 }).expect(409);
      expect(change.body.error.code).to.equal('meal_cutoff_passed');
      const noReason = await request.post(`/api/v1/meal-orders/${placed._id}/cancel`).set('Authorization', auth.staff).send({}).expect(400);
      expect(noReason.body.error.code).to.equal('reason_required');
      await request.post(`/api/v1/meal-orders/${placed._id}/cancel`).set('Authorization', auth.staff).send({ reason: '老人住院' }).expect(200);
      const told = await Notification.findOne({ key: `meal-order:${placed._id}:cancelled` });
      expect(told?.person.equals(person._id)).to.equal(true);
      expect(told?.text).to.include('老人住院');
    });

    it('changes quantity, mode and dietary needs before the cut-off, re-quoting the price and claiming places', async () => {
      const menu = await newMenu(2, { capacity: 3, remaining: 3 });
      const elder = await resident70({ birthDate: bornYearsAgo(85) });
      const token = await bearerFor(elder);
      const placed = await order(menu, { mode: 'dine_in' }, token).expect(201);
      const changed = await request.patch(`/api/v1/meal-orders/${placed.body.id}`).set('Authorization', token)
        .send({ quantity: 3, mode: 'delivery', dietaryNeeds: ['低糖'] }).expect(200);
      expect(changed.body).to.include({ quantity: 3, mode: 'delivery', dietarySource: 'order' });
      expect(changed.body.breakdown).to.include({ toPay: 300 + 2400 + 200 });
      expect(await CapacityClaim.countDocuments({ key: `meal:${menu._id}`, holder: placed.body.id })).to.equal(3);
      const tooMany = await order(menu, { mode: 'dine_in' }, await bearerFor(await resident70())).expect(409);
      expect(tooMany.body.error.code).to.equal('meal_sold_out');
      await request.patch(`/api/v1/meal-orders/${placed.body.id}`).set('Authorization', token).send({ quantity: 1 }).expect(200);
      expect(await CapacityClaim.countDocuments({ key: `meal:${menu._id}`, holder: placed.body.id })).to.equal(1);
      await order(menu, { mode: 'dine_in', quantity: 2 }, await bearerFor(await resident70())).expect(201);
      const none = await request.patch(`/api/v1/meal-orders/${placed.body.id}`).set('Authorization', token).send({}).expect(400);
      expect(none.body.error.code).to.equal('validation_error');
    });

    it('cancels through the command with a controlled clock: a minute before is accepted, after is refused', async () => {
      const menu = await makeMenu(await makeKitchen(community), { date: '2030-03-06' });
      const k = (await Facility.findById(menu.kitchen))!;
      const [a, b] = [await resident70(), await resident70()];
      const t0 = new Date(menu.cutoff.getTime() - 3_600_000);
      const oa = await placeMealOrder(settings(), { id: a._id, staff: false }, menu, k, a, { mode: 'dine_in', quantity: 1 }, t0);
      const ob = await placeMealOrder(settings(), { id: b._id, staff: false }, menu, k, b, { mode: 'dine_in', quantity: 1 }, t0);
      const ok = await cancelMealOrder({ id: a._id, staff: false }, oa, menu, undefined, new Date(menu.cutoff.getTime() - 60_000));
      expect(ok.status).to.equal('cancelled');
      const late = await cancelMealOrder({ id: b._id, staff: false }, ob, menu, undefined, new Date(menu.cutoff.getTime() + 60_000)).catch((e: unknown) => e);
      expect((late as { code?: string }).code).to.equal('meal_cutoff_passed');
    });
  });

  describe('GET /api/v1/meal-orders/mine', () => {
    /** An order of `person` on `date` as the kitchen keeps it (a delivered past one, or a confirmed one to come). */
    const pastOrder = (person: PersonDoc, date: string, status: 'delivered' | 'cancelled' = 'delivered') => MealOrder.create({
      menu: kitchen._id, kitchen: kitchen._id, community: community._id, date, meal: 'lunch', bookedFor: person._id, bookedBy: person._id,
      mode: 'dine_in', quantity: 1, status,
      breakdown: { unitPrice: 1200, quantity: 1, tier: null, subsidisedPrice: 1200, subsidy: 0, deliveryFee: 0, toPay: 1200 },
    });
    const monthsAgo = (n: number, day = '15') => {
      const d = new Date(`${dayFromToday(0).slice(0, 7)}-01T00:00:00Z`);
      d.setUTCMonth(d.getUTCMonth() - n);
      return `${d.toISOString().slice(0, 7)}-${day}`;
    };
    const mine = async (person: PersonDoc, query = '') =>
      (await request.get(`/api/v1/meal-orders/mine${query}`).set('Authorization', await bearerFor(person)).expect(200)).body.items as { date: string; status: string }[];

    it('lists newest day first across months: the order to come, then history back past a year; limit, from and to', async () => {
      const person = await resident70();
      const coming = await order(await newMenu(2), { mode: 'dine_in' }, await bearerFor(person)).expect(201);
      for (const n of [0, 1, 3, 14]) await pastOrder(person, monthsAgo(n, '02'));
      await pastOrder(person, monthsAgo(1, '20'), 'cancelled');
      expect(await MealOrder.countDocuments({ bookedFor: person._id, month: null })).to.equal(0);
      const all = await mine(person);
      expect(all.map((o) => o.date)).to.deep.equal([coming.body.date, monthsAgo(0, '02'), monthsAgo(1, '20'), monthsAgo(1, '02'), monthsAgo(3, '02'), monthsAgo(14, '02')]);
      expect(all[2]!.status).to.equal('cancelled');
      expect((await mine(person, '?limit=2')).map((o) => o.date)).to.deep.equal([coming.body.date, monthsAgo(0, '02')]);
      expect((await mine(person, `?from=${monthsAgo(3, '01')}&to=${monthsAgo(1, '10')}`)).map((o) => o.date)).to.deep.equal([monthsAgo(1, '02'), monthsAgo(3, '02')]);
      expect((await mine(person, `?to=${monthsAgo(12, '28')}`)).map((o) => o.date)).to.deep.equal([monthsAgo(14, '02')]);
    });

    it('finds orders written before they had a month once the start-up backfill gave them one', async () => {
      const person = await resident70();
      const old = await pastOrder(person, monthsAgo(2, '05'));
      await MealOrder.collection.updateOne({ _id: old._id }, { $unset: { month: '' } });
      expect(await mine(person)).to.deep.equal([]);
      expect(await backfillMealOrderMonths()).to.equal(1);
      expect((await mine(person)).map((o) => o.date)).to.deep.equal([monthsAgo(2, '05')]);
      expect(await backfillMealOrderMonths()).to.equal(0);
    });

    it('shows only the person’s own orders, and refuses a sign-in missing (401) and another’s elder (403)', async () => {
      const person = await resident70();
      const other = await resident70();
      await pastOrder(other, monthsAgo(0, '03'));
      expect(await mine(person)).to.deep.equal([]);
      await request.get('/api/v1/meal-orders/mine').expect(401);
      await request.get(`/api/v1/meal-orders/mine?forPerson=${other._id}`).set('Authorization', await bearerFor(person)).expect(403);
    });
  });

  describe('proxy orders (代订)', () => {
    it('lets a family member with an active link order for the elder (booked by X for Y) and tells the elder', async () => {
      const menu = await newMenu(2);
      const elder = await resident70({ birthDate: bornYearsAgo(88), name: '周奶奶' });
      const son = await resident70({ birthDate: bornYearsAgo(55) });
      const stranger = await resident70();
      const body = { mode: 'delivery', forPerson: String(elder._id) };
      await order(menu, body, await bearerFor(stranger)).expect(403);
      const link = await makeProxyLink(son, elder);
      const res = await order(menu, body, await bearerFor(son)).expect(201);
      expect(res.body).to.include({ bookedFor: String(elder._id), bookedBy: String(son._id) });
      expect(res.body.breakdown.toPay).to.equal(300 + 200);
      const told = await Notification.findOne({ key: `meal-order:${res.body.id}:placed` });
      expect(told?.person.equals(elder._id)).to.equal(true);
      const mine = await request.get(`/api/v1/meal-orders/mine?forPerson=${elder._id}`).set('Authorization', await bearerFor(son)).expect(200);
      expect(mine.body.items.map((o: { id: string }) => o.id)).to.deep.equal([res.body.id]);
      await request.get(`/api/v1/meal-orders/${res.body.id}`).set('Authorization', await bearerFor(elder)).expect(200);
      await request.get(`/api/v1/meal-orders/${res.body.id}`).set('Authorization', await bearerFor(stranger)).expect(403);
      await ProxyLink.updateOne({ _id: link._id }, { $set: { status: 'revoked' } });
      await order(await newMenu(2), body, await bearerFor(son)).expect(403);
    });

    it('lets a grid worker with an active link order for the elder', async () => {
      const menu = await newMenu(2);
      const elder = await resident70({ tags: ['特困'] });
      const worker = await resident70({ roles: ['resident', 'grid_worker'], birthDate: bornYearsAgo(38) });
      await makeProxyLink(worker, elder, { relation: '网格员', confirmedBy: 'staff' });
      const res = await order(menu, { mode: 'dine_in', forPerson: String(elder._id) }, await bearerFor(worker)).expect(201);
      expect(res.body).to.include({ bookedFor: String(elder._id), bookedBy: String(worker._id) });
      expect(res.body.breakdown.toPay).to.equal(100);
    });
  });
});
