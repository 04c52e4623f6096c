import Joi from 'joi';
import { Types, trusted } from 'mongoose';
import { shanghaiDay } from '../../../../models/calendar.js';
import { Community, type CommunityDoc } from '../../../../models/community.js';
import { Facility } from '../../../../models/facility.js';
import type { Meal } from '../../../../models/mealMenu.js';
import { MealOrder } from '../../../../models/mealOrder.js';
import { Person, type PersonDoc } from '../../../../models/person.js';
import type { SubsidyTier } from '../../../../models/subsidyRule.js';
import { beneficiary } from '../../../commands/actingFor.js';
import {
  findKitchen, findMenu, findSubsidyRule, listKitchens, listMenus, portionsLeft, publishMenu, setSubsidyRule,
  updateKitchenMealSettings, type KitchenMealSettings, type MenuRequest,
} from '../../../commands/mealMenus.js';
import {
  actorOf, cancelMealOrder, changeMealOrder, findMealOrder, listMealOrders, placeMealOrder, quoteMealOrder, rateMeal,
  recordDeliveryOutcome, type DeliveryOutcomeRequest, type MealOrderChange, type MealOrderRequest, type MealRatingRequest,
} from '../../../commands/mealOrders.js';
import {
  createRecurringMealOrder, endRecurringMealOrder, findRecurringMealOrder, listRecurringMealOrders, suspendRecurringMealOrder,
  type RecurringRequest,
} from '../../../commands/mealRecurring.js';
import { mealRatingReport, mealSubsidyReport } from '../../../commands/mealReports.js';
import { listDeliveryRuns, mealSheets, processMealCutoff } from '../../../commands/mealSheets.js';
import {
  closeWellnessAlert, currentMonth, findWellnessAlert, listWellnessAlerts, recordWellnessVisit, wellnessVisitReport,
} from '../../../commands/wellness.js';
import { NotFoundError } from '../../../errors.js';
import { idempotent } from '../../../middlewares/idempotency.js';
import { authorize } from '../../../policies/index.js';
import {
  presentDeliveryRun, presentKitchen, presentMealMenu, presentMealOrder, presentMealQuote, presentMealRating, presentRecurring,
  presentSubsidyRule, presentWellnessAlert, presentWellnessVisit,
} from '../../../presenters/meal.js';
import type { ApiRouter } from '../../apiRouter.js';
import type { RouteDeps } from '../deps.js';
import {
  AlertListItem, AlertParams, AlertResponse, AlertsQuery, CancelOrderBody, ChangeOrderBody, CloseAlertBody, CommunityParams, CutoffResponse,
  DeliveryApprovalBody, DeliveryRunResponse, DeliverySheetResponse, ForPersonQuery, KitchenParams, KitchenResponse,
  KitchenSettingsBody, KitchenSheetResponse, ListMenusQuery, MenuParams, MenuResponse, MineQuery, MonthQuery, OrderBody,
  MenuOrderResponse, OrderParams, OrderResponse, OutcomeBody, PersonParams, PublishMenuBody, PublishParams, QuoteResponse, RatingBody,
  RatingReportResponse, RatingResponse, RatingsQuery, RecurringBody, RecurringParams, RecurringResponse, SubsidyReportResponse,
  SubsidyRuleBody, SubsidyRuleResponse, SuspendBody, VisitBody, VisitReportResponse, VisitResponse,
} from './schema.js';
import { auditStaffAccess, auditStaffListing } from '../../../commands/audit.js';
import { personNames } from '../../../commands/personNames.js';

const tags = ['老年助餐'];
const careTags = ['关爱探访'];
const forbidden = { 403: { description: 'forbidden' } };
const notFound = { 404: { description: 'not_found' } };
const orderRules = {
  400: { description: 'meal_quantity_exceeded, outside_delivery_area, validation_error' },
  403: { description: 'forbidden, delivery_not_eligible, kitchen_other_community, resident_not_verified' },
  409: { description: 'meal_sold_out, meal_cutoff_passed, meal_already_ordered, meal_not_orderable, booking_changed' },
};
const list = (schema: Joi.Schema) => Joi.object({ items: Joi.array().items(schema) });

async function findPerson(id: string): Promise<PersonDoc> {
  const person = Types.ObjectId.isValid(id) ? await Person.findById(id) : null;
  if (!person || person.status === 'anonymised') throw NotFoundError('没有找到这位居民');
  return person;
}

async function findCommunity(id: string): Promise<CommunityDoc> {
  const community = Types.ObjectId.isValid(id) ? await Community.findById(id) : null;
  if (!community) throw NotFoundError('没有找到这个社区');
  return community;
}

/**
 * Elderly meals (老年助餐): kitchens and menus, orders with their price breakdown, the cut-off
 * sheets and delivery runs, delivery outcomes with wellness alerts, recurring orders,
 * monthly visits, 好差评 and the admin's subsidy figures.
 */
export function registerMealRoutes(api: ApiRouter, deps: RouteDeps): void {
  const before = [deps.authenticate];
  const settings = deps.config.meals;
  // Every order write keeps the sheets' read model (mealLines.ts) up to date.
  const lines = { redis: deps.redis, log: deps.logger };

  // --- kitchens and menus -----------------------------------------------------------------

  api.route({
    method: 'get', path: '/kitchens', operationId: 'meals.kitchens', summary: '本社区的助餐点', tags, before,
    responses: { 200: { description: 'Kitchens of the caller\'s community', schema: list(KitchenResponse) } },
    handler: async (ctx) => {
      const community = ctx.state.user.person.community ?? ctx.state.user.person.staffScope?.community;
      ctx.body = { items: community ? (await listKitchens(community)).map(presentKitchen) : [] };
    },
  });

  api.route({
    method: 'patch', path: '/kitchens/:kitchenId/meal-settings', operationId: 'meals.updateKitchen',
    summary: '设置助餐点的送餐范围和订餐截止时间（工作人员）', tags, before,
    description: 'serviceArea: the grids and buildings delivered to (empty: the whole community). mealCutoffs: HH:mm on the day of the meal; null = the configured default. Applies to menus published afterwards.',
    schema: { params: KitchenParams, body: KitchenSettingsBody },
    responses: { 200: { description: 'Updated', schema: KitchenResponse }, ...forbidden, ...notFound },
    handler: async (ctx) => {
      const kitchen = await findKitchen(ctx.state.input.params.kitchenId as string);
      authorize(ctx.state.user, 'manageMeals', kitchen);
      ctx.body = presentKitchen(await updateKitchenMealSettings(kitchen, ctx.state.input.body as KitchenMealSettings));
    },
  });

  api.route({
    method: 'put', path: '/kitchens/:kitchenId/menus/:date/:meal', operationId: 'meals.publishMenu',
    summary: '发布或修改某天某餐的菜单（工作人员）', tags, before,
    description: 'Price in fen. Before the cut-off only. Capacity can be lowered only above the portions already ordered (409 capacity_below_orders).',
    schema: { params: PublishParams, body: PublishMenuBody },
    responses: {
      200: { description: 'Updated', schema: MenuResponse },
      201: { description: 'Published', schema: MenuResponse },
      400: { description: 'menu_cutoff_passed, validation_error' },
      ...forbidden, ...notFound,
      409: { description: 'capacity_below_orders' },
    },
    handler: async (ctx) => {
      const { kitchenId, date, meal } = ctx.state.input.params as { kitchenId: string; date: string; meal: Meal };
      const kitchen = await findKitchen(kitchenId);
      authorize(ctx.state.user, 'manageMeals', kitchen);
      const { menu, created } = await publishMenu(settings, kitchen, { ...(ctx.state.input.body as Omit<MenuRequest, 'date' | 'meal'>), date, meal });
      ctx.status = created ? 201 : 200;
      ctx.body = presentMealMenu(menu, kitchen);
    },
  });

  api.route({
    method: 'get', path: '/meal-menus', operationId: 'meals.listMenus', summary: '菜单（默认本社区各助餐点今天起 7 天）', tags, before,
    schema: { query: ListMenusQuery },
    responses: { 200: { description: 'Published menus by day', schema: list(MenuResponse) }, ...notFound },
    handler: async (ctx) => {
      const menus = await listMenus(ctx.state.user, ctx.state.input.query as { kitchen?: string; from?: string; to?: string });
      ctx.body = { items: menus.map(({ menu, kitchen }) => presentMealMenu(menu, kitchen)) };
    },
  });

  api.route({
    method: 'get', path: '/meal-menus/:menuId', operationId: 'meals.getMenu', summary: '查看菜单和剩余份数', tags, before,
    schema: { params: MenuParams },
    responses: { 200: { description: 'The menu, remaining counted from the claims', schema: MenuResponse }, ...notFound },
    handler: async (ctx) => {
      const { menu, kitchen } = await findMenu(ctx.state.input.params.menuId as string);
      authorize(ctx.state.user, 'readMeals', kitchen);
      ctx.body = presentMealMenu(menu, kitchen, await portionsLeft(menu));
    },
  });

  // --- orders -----------------------------------------------------------------------------

  api.route({
    method: 'post', path: '/meal-menus/:menuId/quote', operationId: 'meals.quote', summary: '订餐前报价（价格、补贴、送餐费、应付）', tags, before,
    description: 'Checks every rule and returns the breakdown (fen) without ordering: show it, then POST the same body to /orders.',
    schema: { params: MenuParams, body: OrderBody },
    responses: { 200: { description: 'The breakdown', schema: QuoteResponse }, ...orderRules, ...notFound },
    handler: async (ctx) => {
      const { user } = ctx.state;
      const { menu, kitchen } = await findMenu(ctx.state.input.params.menuId as string);
      const body = ctx.state.input.body as unknown as MealOrderRequest & { forPerson?: string };
      const person = await beneficiary(user, body.forPerson);
      ctx.body = presentMealQuote(await quoteMealOrder(settings, actorOf(user, kitchen), menu, kitchen, person, body));
    },
  });

  api.route({
    claims: true,
    method: 'post', path: '/meal-menus/:menuId/orders', operationId: 'meals.order', summary: '订餐（可代订）', tags,
    description: 'Send an Idempotency-Key header so that a retried request orders once. forPerson: order for an elder you act for (代订). dietaryNeeds overrides the profile for this order.',
    before: [...before, deps.limit('booking'), idempotent(deps.redis)],
    schema: { params: MenuParams, body: OrderBody },
    responses: { 201: { description: 'Ordered, with its breakdown', schema: OrderResponse }, ...orderRules, ...notFound },
    handler: async (ctx) => {
      const { user } = ctx.state;
      const { menu, kitchen } = await findMenu(ctx.state.input.params.menuId as string);
      const body = ctx.state.input.body as unknown as MealOrderRequest & { forPerson?: string };
      const person = await beneficiary(user, body.forPerson);
      const order = await placeMealOrder(settings, actorOf(user, kitchen), menu, kitchen, person, body, new Date(), { lines });
      ctx.status = 201;
      ctx.body = presentMealOrder(order);
    },
  });

  api.route({
    method: 'get', path: '/meal-orders/mine', operationId: 'meals.myOrders', summary: '我的订餐（或我代订的老人的）', tags, before,
    schema: { query: MineQuery },
    responses: { 200: { description: 'Newest day first', schema: list(OrderResponse) }, ...forbidden },
    handler: async (ctx) => {
      const q = ctx.state.input.query as { forPerson?: string; from?: string; to?: string; limit: number };
      const person = await beneficiary(ctx.state.user, q.forPerson);
      ctx.body = { items: (await listMealOrders(person, q)).map(presentMealOrder) };
    },
  });

  api.route({
    method: 'get', path: '/meal-orders/:orderId', operationId: 'meals.getOrder', summary: '查看一份订餐', tags, before,
    schema: { params: OrderParams },
    responses: { 200: { description: 'The order', schema: OrderResponse }, ...forbidden, ...notFound },
    handler: async (ctx) => {
      const order = await findMealOrder(ctx.state.input.params.orderId as string);
      authorize(ctx.state.user, 'read', order);
      await auditStaffAccess(ctx.state.user, 'meal.order.read', order.bookedFor, { requestId: ctx.state.requestId });
      ctx.body = presentMealOrder(order);
    },
  });

  api.route({
    claims: true,
    method: 'patch', path: '/meal-orders/:orderId', operationId: 'meals.changeOrder', summary: '修改订餐（截止前；截止后仅工作人员）', tags, before,
    description: 'Staff changing someone\'s order give a reason, which the resident is told. The price is quoted again.',
    schema: { params: OrderParams, body: ChangeOrderBody },
    responses: { 200: { description: 'Changed', schema: OrderResponse }, ...orderRules, ...notFound },
    handler: async (ctx) => {
      const { user } = ctx.state;
      const order = await findMealOrder(ctx.state.input.params.orderId as string);
      authorize(user, 'change', order);
      const { menu, kitchen } = await findMenu(String(order.menu));
      const { reason, ...change } = ctx.state.input.body as MealOrderChange & { reason?: string };
      ctx.body = presentMealOrder(await changeMealOrder(settings, actorOf(user, kitchen), order, menu, kitchen, change, reason, new Date(), lines));
    },
  });

  api.route({
    claims: true,
    method: 'post', path: '/meal-orders/:orderId/cancel', operationId: 'meals.cancelOrder', summary: '取消订餐（截止前；截止后仅工作人员）', tags, before,
    schema: { params: OrderParams, body: CancelOrderBody },
    responses: { 200: { description: 'Cancelled; the portions are free again', schema: OrderResponse }, ...orderRules, ...notFound },
    handler: async (ctx) => {
      const { user } = ctx.state;
      const order = await findMealOrder(ctx.state.input.params.orderId as string);
      authorize(user, 'cancel', order);
      const { menu, kitchen } = await findMenu(String(order.menu));
      ctx.body = presentMealOrder(await cancelMealOrder(actorOf(user, kitchen), order, menu, ctx.state.input.body.reason as string | undefined, new Date(), lines));
    },
  });

  api.route({
    claims: true,
    method: 'post', path: '/meal-orders/:orderId/outcome', operationId: 'meals.recordOutcome', summary: '记录送餐结果（送达 / 不在家 / 需要关注）', tags, before,
    description: 'Kitchen staff or a verified volunteer of the community. not_at_home and needs_attention alert the family contacts and the grid workers at once.',
    schema: { params: OrderParams, body: OutcomeBody },
    responses: {
      200: { description: 'Recorded', schema: OrderResponse },
      400: { description: 'note_required, validation_error' },
      ...forbidden, ...notFound,
      409: { description: 'not_a_delivery, meal_not_due, invalid_transition, booking_changed' },
    },
    handler: async (ctx) => {
      const order = await findMealOrder(ctx.state.input.params.orderId as string);
      authorize(ctx.state.user, 'recordOutcome', order);
      ctx.body = presentMealOrder(await recordDeliveryOutcome(ctx.state.user, order, ctx.state.input.body as unknown as DeliveryOutcomeRequest, new Date(), lines));
    },
  });

  api.route({
    method: 'post', path: '/meal-orders/:orderId/rating', operationId: 'meals.rate', summary: '好差评（用餐后）', tags, before,
    schema: { params: OrderParams, body: RatingBody },
    responses: {
      201: { description: 'Rated', schema: RatingResponse },
      400: { description: 'unknown_dish, validation_error' },
      ...forbidden, ...notFound,
      409: { description: 'meal_not_rateable, already_rated' },
    },
    handler: async (ctx) => {
      const order = await findMealOrder(ctx.state.input.params.orderId as string);
      authorize(ctx.state.user, 'rate', order);
      const { menu } = await findMenu(String(order.menu));
      ctx.status = 201;
      ctx.body = presentMealRating(await rateMeal(ctx.state.user, order, menu, ctx.state.input.body as unknown as MealRatingRequest));
    },
  });

  api.route({
    method: 'put', path: '/residents/:personId/meal-delivery-approval', operationId: 'meals.approveDelivery',
    summary: '同意为居民送餐上门（工作人员）', tags, before,
    schema: { params: PersonParams, body: DeliveryApprovalBody },
    responses: { 204: { description: 'Approved' }, ...forbidden, ...notFound },
    handler: async (ctx) => {
      const person = await findPerson(ctx.state.input.params.personId as string);
      authorize(ctx.state.user, 'approveMealDelivery', person);
      person.set('mealDeliveryApproval', { by: ctx.state.user.id, at: new Date(), reason: ctx.state.input.body.reason as string | undefined });
      await person.save();
      ctx.status = 204;
    },
  });

  api.route({
    method: 'delete', path: '/residents/:personId/meal-delivery-approval', operationId: 'meals.revokeDeliveryApproval',
    summary: '撤销送餐上门的同意（工作人员）', tags, before,
    schema: { params: PersonParams },
    responses: { 204: { description: 'Revoked (orders already placed stay)' }, ...forbidden, ...notFound },
    handler: async (ctx) => {
      const person = await findPerson(ctx.state.input.params.personId as string);
      authorize(ctx.state.user, 'approveMealDelivery', person);
      person.set('mealDeliveryApproval', undefined);
      await person.save();
      ctx.status = 204;
    },
  });

  // --- staff: the menu's orders, sheets and runs ------------------------------------------

  api.route({
    method: 'get', path: '/meal-menus/:menuId/orders', operationId: 'meals.menuOrders', summary: '一餐的全部订单（工作人员）', tags, before,
    schema: { params: MenuParams },
    responses: { 200: { description: 'Every order of the menu, cancelled included, with the resident\'s name', schema: list(MenuOrderResponse) }, ...forbidden, ...notFound },
    handler: async (ctx) => {
      const { menu, kitchen } = await findMenu(ctx.state.input.params.menuId as string);
      authorize(ctx.state.user, 'manageMeals', kitchen);
      await auditStaffListing(ctx.state.user, 'meal.orders.list', { requestId: ctx.state.requestId });
      const orders = await MealOrder.find({ menu: menu._id }).sort({ createdAt: 1 });
      // Names next to ids, for the staff console's list and its export.
      // One `_id` read per person, cached (`$in` decoded every person registered).
      const names = await personNames(orders.map((o) => o.bookedFor));
      ctx.body = { items: orders.map((o) => ({ ...presentMealOrder(o), bookedForName: names.get(String(o.bookedFor)) ?? null })) };
    },
  });

  api.route({
    method: 'get', path: '/meal-menus/:menuId/kitchen-sheet', operationId: 'meals.kitchenSheet', summary: '厨房备餐单（按菜品、饮食需求、用餐方式）', tags, before,
    schema: { params: MenuParams },
    responses: { 200: { description: 'Counts, computed now', schema: KitchenSheetResponse }, ...forbidden, ...notFound },
    handler: async (ctx) => {
      const { menu, kitchen } = await findMenu(ctx.state.input.params.menuId as string);
      authorize(ctx.state.user, 'manageMeals', kitchen);
      ctx.body = (await mealSheets(menu, deps.redis, { log: deps.logger })).kitchen;
    },
  });

  api.route({
    method: 'get', path: '/meal-menus/:menuId/delivery-sheets', operationId: 'meals.deliverySheets', summary: '送餐单（按网格、楼栋的行走顺序）', tags, before,
    schema: { params: MenuParams },
    responses: { 200: { description: 'One sheet per grid, stops in walking order', schema: list(DeliverySheetResponse) }, ...forbidden, ...notFound },
    handler: async (ctx) => {
      const { menu, kitchen } = await findMenu(ctx.state.input.params.menuId as string);
      authorize(ctx.state.user, 'manageMeals', kitchen);
      // Names, phones and doors of everyone receiving a meal: a staff read of personal data.
      await auditStaffListing(ctx.state.user, 'meal.deliverySheets', { requestId: ctx.state.requestId });
      ctx.body = { items: (await mealSheets(menu, deps.redis, { log: deps.logger })).delivery };
    },
  });

  api.route({
    method: 'post', path: '/meal-menus/:menuId/cutoff', operationId: 'meals.processCutoff', summary: '截止处理：生成备餐单和送餐任务（工作人员）', tags, before,
    description: 'What the cut-off job does, on demand. Idempotent: runs are updated, never duplicated.',
    schema: { params: MenuParams },
    responses: { 200: { description: 'The kitchen sheet and the delivery runs', schema: CutoffResponse }, ...forbidden, ...notFound, 409: { description: 'cutoff_not_reached' } },
    handler: async (ctx) => {
      const { menu, kitchen } = await findMenu(ctx.state.input.params.menuId as string);
      authorize(ctx.state.user, 'manageMeals', kitchen);
      const result = await processMealCutoff(menu._id, new Date(), deps.redis);
      ctx.body = { ...result, runs: result.runs.map(presentDeliveryRun) };
    },
  });

  api.route({
    method: 'get', path: '/meal-menus/:menuId/delivery-runs', operationId: 'meals.deliveryRuns', summary: '一餐的送餐任务（工作人员）', tags, before,
    schema: { params: MenuParams },
    responses: { 200: { description: 'Runs made at the cut-off', schema: list(DeliveryRunResponse) }, ...forbidden, ...notFound },
    handler: async (ctx) => {
      const { menu, kitchen } = await findMenu(ctx.state.input.params.menuId as string);
      authorize(ctx.state.user, 'manageMeals', kitchen);
      ctx.body = { items: (await listDeliveryRuns(menu)).map(presentDeliveryRun) };
    },
  });

  // --- recurring orders -------------------------------------------------------------------

  api.route({
    claims: true,
    method: 'post', path: '/kitchens/:kitchenId/recurring-orders', operationId: 'meals.createRecurring', summary: '固定订餐（如每个工作日午餐，到某天为止）', tags,
    description: 'Orders are placed ahead of each cut-off (MEAL_RECURRING_DAYS_AHEAD days); those already open are placed at once.',
    before: [...before, deps.limit('booking')],
    schema: { params: KitchenParams, body: RecurringBody },
    responses: {
      201: { description: 'Created', schema: Joi.object({ recurring: RecurringResponse, placed: Joi.number() }) },
      400: { description: 'recurring_range_invalid, meal_quantity_exceeded, validation_error' },
      403: { description: 'forbidden, delivery_not_eligible, kitchen_other_community' },
      ...notFound,
    },
    handler: async (ctx) => {
      const { user } = ctx.state;
      const kitchen = await findKitchen(ctx.state.input.params.kitchenId as string);
      const body = ctx.state.input.body as unknown as RecurringRequest & { forPerson?: string };
      const person = await beneficiary(user, body.forPerson);
      const { recurring, placed } = await createRecurringMealOrder(settings, actorOf(user, kitchen), kitchen, person, body, new Date(), lines);
      ctx.status = 201;
      ctx.body = { recurring: presentRecurring(recurring), placed };
    },
  });

  api.route({
    method: 'get', path: '/meal-recurring/mine', operationId: 'meals.myRecurring', summary: '我的固定订餐', tags, before,
    schema: { query: ForPersonQuery },
    responses: { 200: { description: 'Newest first', schema: list(RecurringResponse) }, ...forbidden },
    handler: async (ctx) => {
      const person = await beneficiary(ctx.state.user, ctx.state.input.query.forPerson as string | undefined);
      ctx.body = { items: (await listRecurringMealOrders(person)).map(presentRecurring) };
    },
  });

  api.route({
    claims: true,
    method: 'post', path: '/meal-recurring/:recurringId/suspend', operationId: 'meals.suspendRecurring', summary: '暂停固定订餐（到恢复日期自动恢复）', tags, before,
    description: 'Skips the days from `from` (default today) to the day before `resumeOn`. Orders already placed in the window are cancelled where their cut-off has not passed; the others are listed in pastCutoff.',
    schema: { params: RecurringParams, body: SuspendBody },
    responses: {
      200: { description: 'Suspended', schema: Joi.object({ recurring: RecurringResponse, cancelled: Joi.number(), pastCutoff: Joi.array().items(Joi.string()) }) },
      400: { description: 'suspension_range_invalid, validation_error' },
      ...forbidden, ...notFound,
      409: { description: 'recurring_ended' },
    },
    handler: async (ctx) => {
      const recurring = await findRecurringMealOrder(ctx.state.input.params.recurringId as string);
      authorize(ctx.state.user, 'suspend', recurring);
      const result = await suspendRecurringMealOrder({ id: ctx.state.user.id, staff: false }, recurring,
        ctx.state.input.body as { from?: string; resumeOn: string; reason?: string }, new Date(), lines);
      ctx.body = { ...result, recurring: presentRecurring(result.recurring) };
    },
  });

  api.route({
    method: 'post', path: '/meal-recurring/:recurringId/end', operationId: 'meals.endRecurring', summary: '结束固定订餐', tags, before,
    schema: { params: RecurringParams },
    responses: { 200: { description: 'Ended (placed orders stay)', schema: RecurringResponse }, ...forbidden, ...notFound },
    handler: async (ctx) => {
      const recurring = await findRecurringMealOrder(ctx.state.input.params.recurringId as string);
      authorize(ctx.state.user, 'end', recurring);
      ctx.body = presentRecurring(await endRecurringMealOrder(recurring));
    },
  });

  // --- wellness: alerts and monthly visits ------------------------------------------------

  api.route({
    method: 'get', path: '/wellness-alerts', operationId: 'meals.alerts', summary: '关爱提醒（家属、网格员看到发给自己的；工作人员看到本社区的）', tags: careTags, before,
    schema: { query: AlertsQuery },
    responses: { 200: { description: 'Newest first, with the elder\'s name, address and grid and the kitchen\'s name', schema: list(AlertListItem) } },
    handler: async (ctx) => {
      const q = ctx.state.input.query as { status?: 'open' | 'closed'; limit: number };
      await auditStaffListing(ctx.state.user, 'wellnessAlert.list', { requestId: ctx.state.requestId });
      const alerts = await listWellnessAlerts(ctx.state.user, q);
      // Who and where next to the ids, for the staff console (every reader is a recipient or staff of the community).
      const elderIds = [...new Set(alerts.map((a) => String(a.elder)))].map((id) => new Types.ObjectId(id));
      const kitchenIds = [...new Set(alerts.map((a) => String(a.kitchen)))].map((id) => new Types.ObjectId(id));
      const elders = new Map((elderIds.length ? await Person.find({ _id: trusted({ $in: elderIds }) }) : []).map((p) => [String(p._id), p]));
      const kitchens = new Map((kitchenIds.length ? await Facility.find({ _id: trusted({ $in: kitchenIds }) }) : []).map((f) => [String(f._id), f.name]));
      ctx.body = {
        items: alerts.map((a) => {
          const elder = elders.get(String(a.elder));
          const where = elder ? [elder.address?.building, elder.address?.unit, elder.address?.room].filter(Boolean).join('') : '';
          return {
            ...presentWellnessAlert(a), elderName: elder?.name ?? null, elderAddress: where || null, elderGrid: elder?.grid ?? null,
            kitchenName: kitchens.get(String(a.kitchen)) ?? null,
          };
        }),
      };
    },
  });

  api.route({
    claims: true,
    method: 'post', path: '/wellness-alerts/:alertId/close', operationId: 'meals.closeAlert', summary: '处理关爱提醒（写明情况）', tags: careTags, before,
    schema: { params: AlertParams, body: CloseAlertBody },
    responses: { 200: { description: 'Closed; the other recipients are told', schema: AlertResponse }, ...forbidden, ...notFound, 409: { description: 'invalid_transition, booking_changed' } },
    handler: async (ctx) => {
      const alert = await findWellnessAlert(ctx.state.input.params.alertId as string);
      authorize(ctx.state.user, 'close', alert);
      ctx.body = presentWellnessAlert(await closeWellnessAlert(ctx.state.user, alert, ctx.state.input.body.resolution as string));
    },
  });

  api.route({
    method: 'post', path: '/residents/:personId/wellness-visits', operationId: 'meals.recordVisit', summary: '记录探访（工作人员、网格员、志愿者）', tags: careTags, before,
    schema: { params: PersonParams, body: VisitBody },
    responses: { 201: { description: 'Recorded', schema: VisitResponse }, 400: { description: 'visit_in_future, validation_error' }, ...forbidden, ...notFound },
    handler: async (ctx) => {
      const elder = await findPerson(ctx.state.input.params.personId as string);
      authorize(ctx.state.user, 'recordVisit', elder);
      ctx.status = 201;
      ctx.body = presentWellnessVisit(await recordWellnessVisit(ctx.state.user, elder, ctx.state.input.body as { at?: Date; note: string }));
    },
  });

  api.route({
    method: 'get', path: '/communities/:communityId/wellness-visits/report', operationId: 'meals.visitReport',
    summary: '本月尚未探访的特困、独居老人（工作人员）', tags: careTags, before,
    schema: { params: CommunityParams, query: MonthQuery },
    responses: { 200: { description: 'Default: the current month (Shanghai)', schema: VisitReportResponse }, ...forbidden, ...notFound },
    handler: async (ctx) => {
      const community = await findCommunity(ctx.state.input.params.communityId as string);
      authorize(ctx.state.user, 'viewWellnessReport', community);
      await auditStaffListing(ctx.state.user, 'wellnessVisit.report', { requestId: ctx.state.requestId });
      ctx.body = await wellnessVisitReport(community._id, (ctx.state.input.query.month as string | undefined) ?? currentMonth());
    },
  });

  // --- admin: subsidies; staff: ratings ---------------------------------------------------

  api.route({
    method: 'get', path: '/communities/:communityId/meal-subsidy-rule', operationId: 'meals.getSubsidyRule', summary: '助餐补贴规则', tags, before,
    schema: { params: CommunityParams },
    responses: { 200: { description: 'The rule', schema: SubsidyRuleResponse }, ...notFound },
    handler: async (ctx) => {
      const community = await findCommunity(ctx.state.input.params.communityId as string);
      const rule = await findSubsidyRule(community._id);
      if (!rule) throw NotFoundError('这个社区还没有设置助餐补贴规则');
      ctx.body = presentSubsidyRule(rule);
    },
  });

  api.route({
    method: 'put', path: '/communities/:communityId/meal-subsidy-rule', operationId: 'meals.setSubsidyRule', summary: '设置助餐补贴规则（管理员）', tags, before,
    description: 'Tiers are tried in order; the first that matches age and tags sets what the resident pays (fen) for one portion. Applies to orders placed afterwards.',
    schema: { params: CommunityParams, body: SubsidyRuleBody },
    responses: { 200: { description: 'Saved', schema: SubsidyRuleResponse }, ...forbidden, ...notFound },
    handler: async (ctx) => {
      const community = await findCommunity(ctx.state.input.params.communityId as string);
      authorize(ctx.state.user, 'manageSubsidyRule', community);
      ctx.body = presentSubsidyRule(await setSubsidyRule(community._id, ctx.state.input.body as { tiers: SubsidyTier[]; deliveryFee: number }));
    },
  });

  api.route({
    method: 'get', path: '/communities/:communityId/meal-subsidies', operationId: 'meals.subsidyReport', summary: '月度助餐补贴汇总（按档位，管理员）', tags, before,
    schema: { params: CommunityParams, query: MonthQuery },
    responses: { 200: { description: 'Fen; default: the current month', schema: SubsidyReportResponse }, ...forbidden, ...notFound },
    handler: async (ctx) => {
      const community = await findCommunity(ctx.state.input.params.communityId as string);
      authorize(ctx.state.user, 'viewSubsidyReport', community);
      ctx.body = await mealSubsidyReport(community._id, (ctx.state.input.query.month as string | undefined) ?? currentMonth());
    },
  });

  api.route({
    method: 'get', path: '/communities/:communityId/meal-ratings', operationId: 'meals.ratingReport', summary: '好差评汇总（按助餐点、菜品，工作人员）', tags, before,
    schema: { params: CommunityParams, query: RatingsQuery },
    responses: { 200: { description: 'Default: the last 30 days', schema: RatingReportResponse }, ...forbidden, ...notFound },
    handler: async (ctx) => {
      const community = await findCommunity(ctx.state.input.params.communityId as string);
      authorize(ctx.state.user, 'viewMealRatings', community);
      const q = ctx.state.input.query as { kitchen?: string; from?: string; to?: string };
      const to = q.to ?? shanghaiDay(new Date());
      const from = q.from ?? shanghaiDay(new Date(Date.now() - 29 * 86_400_000));
      const kitchens = q.kitchen ? [await findKitchen(q.kitchen)] : await listKitchens(community._id);
      if (kitchens.some((k) => String(k.community) !== String(community._id))) throw NotFoundError('这个社区没有这个助餐点');
      ctx.body = await mealRatingReport(kitchens.map((k) => k._id), from, to);
    },
  });
}
