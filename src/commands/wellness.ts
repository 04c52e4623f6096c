import { Types } from 'mongoose';
import { shanghaiDay } from '../../models/calendar.js';
import type { MealOrderDoc } from '../../models/mealOrder.js';
import { MONTHLY_VISIT_TAGS, Person, type PersonFields } from '../../models/person.js';
import { ProxyLink } from '../../models/proxyLink.js';
import { WellnessAlert, type WellnessAlertDoc, type WellnessAlertKind, type WellnessAlertStatus } from '../../models/wellnessAlert.js';
import { WellnessVisit, type WellnessVisitDoc } from '../../models/wellnessVisit.js';
import { hasRole, isAdmin, type AuthUser } from '../auth/user.js';
import { withClaims } from '../booking/claims.js';
import type { Transitions } from '../booking/stateMachine.js';
import { BookingRuleError, NotFoundError } from '../errors.js';
import { failpoint } from '../runtime/failpoints.js';
import { isDuplicateKey } from '../storage/mongo.js';
import { mealLabel } from './mealMenus.js';
import { notify } from './notify.js';

const ALERT_TRANSITIONS: Transitions<WellnessAlertStatus> = { open: ['closed'], closed: [] };

/** The Shanghai month 'YYYY-MM' of an instant. */
export const monthOf = (at: Date) => shanghaiDay(at).slice(0, 7);

export async function findWellnessAlert(id: string): Promise<WellnessAlertDoc> {
  const alert = Types.ObjectId.isValid(id) ? await WellnessAlert.findById(id) : null;
  if (!alert) throw NotFoundError('没有找到这条提醒');
  return alert;
}

/**
 * Who is alerted about an elder: the family contacts (everyone with an active 代办 link to
 * the elder: children, spouse, relatives, and a grid worker linked to them) and the grid
 * workers of the elder's grid (persons with the grid_worker role whose `workGrids` include
 * it, in the elder's community). Nobody else.
 */
export async function alertRecipients(elder: PersonFields): Promise<Types.ObjectId[]> {
  const [linked, gridWorkers] = await Promise.all([
    ProxyLink.find({ elder: elder._id, status: 'active' }).distinct('proxy'),
    elder.grid
      ? Person.find({ community: elder.community, roles: 'grid_worker', status: 'active', workGrids: elder.grid }).select('_id').lean()
      : Promise.resolve([]),
  ]);
  const ids = new Map<string, Types.ObjectId>();
  for (const id of [...(linked as Types.ObjectId[]), ...gridWorkers.map((g) => g._id)]) {
    if (!id.equals(elder._id)) ids.set(String(id), id);
  }
  return [...ids.values()];
}

/**
 * Who is told when the elder has nobody (no family link, no grid worker): the staff of the
 * elder's community, else its admins, so an alert never goes to no one.
 */
export async function communityResponders(community: Types.ObjectId | null | undefined): Promise<Types.ObjectId[]> {
  if (!community) return [];
  const staff = await Person.find({ roles: 'staff', status: 'active', 'staffScope.community': community }).select('_id').lean();
  if (staff.length) return staff.map((p) => p._id);
  const admins = await Person.find({ roles: 'admin', status: 'active' }).select('_id staffScope').lean();
  return admins.filter((a) => !a.staffScope?.community || a.staffScope.community.equals(community)).map((a) => a._id);
}

const ALERT_TEXT: Record<WellnessAlertKind, string> = {
  not_at_home: '送餐时老人不在家，餐食没有放在门口，请尽快联系确认老人是否安好',
  needs_attention: '送餐时发现老人需要关注，请尽快联系或上门查看',
};

/**
 * Raises the alert of a delivery outcome (once per order and kind) and tells every
 * recipient at once through the outbox.
 */
export async function raiseWellnessAlert(
  order: MealOrderDoc,
  kind: WellnessAlertKind,
  note: string | undefined,
  by: AuthUser,
  now = new Date(),
): Promise<WellnessAlertDoc> {
  const elder = await Person.findById(order.bookedFor);
  if (!elder) throw NotFoundError('没有找到订餐的老人');
  const family = await alertRecipients(elder);
  // Nobody linked to the elder: the community's staff are told at once instead.
  const recipients = family.length ? family : await communityResponders(order.community);
  let alert: WellnessAlertDoc;
  try {
    alert = await WellnessAlert.create({
      order: order._id, elder: elder._id, community: order.community, kitchen: order.kitchen, kind, note,
      raisedBy: by.id, raisedAt: now, recipients, history: [{ from: null, to: 'open', at: now, by: by.id }],
    });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    alert = (await WellnessAlert.findOne({ order: order._id, kind }))!;
  }
  const where = [elder.address?.building, elder.address?.unit, elder.address?.room].filter(Boolean).join('');
  const text = `【助餐提醒】${elder.name ?? '老人'}${where ? `（${where}）` : ''}${mealLabel(order)}${ALERT_TEXT[kind]}。`
    + `${note ? `送餐员说明：${note}。` : ''}`
    + `${family.length ? '' : '这位老人没有登记家属或网格员，请工作人员直接联系或上门查看。'}处理后请在小程序「关爱提醒」中填写情况。`;
  for (const person of alert.recipients) {
    await notify(person, `wellness-alert:${alert._id}:${person}`, 'wellness_alert', text, now);
  }
  return alert;
}

/** A meal handed over in person is that month's visit (once per order). */
export async function recordMealVisit(order: MealOrderDoc, by: AuthUser, now = new Date()): Promise<void> {
  if (await WellnessVisit.exists({ elder: order.bookedFor, order: order._id })) return;
  await WellnessVisit.create({
    elder: order.bookedFor, community: order.community, at: now, month: monthOf(now), by: by.id,
    source: 'meal_delivery', order: order._id, note: order.outcome?.note ?? undefined,
  });
  await keepLastVisit(order.bookedFor, now);
}

/** Keeps the elder's `lastVisitAt` the latest visit (`$max`: a visit recorded late never moves it back). */
async function keepLastVisit(elder: Types.ObjectId, at: Date): Promise<void> {
  await Person.updateOne({ _id: elder }, { $max: { lastVisitAt: at } });
}

/** Alerts a user may see: staff of the community all of it, others those sent to them. */
export async function listWellnessAlerts(user: AuthUser, q: { status?: WellnessAlertStatus; limit?: number } = {}) {
  const community = user.person.staffScope?.community;
  const filter = isAdmin(user) && !community ? {}
    : hasRole(user, 'staff') && community ? { community }
    : { recipients: user.person._id };
  return WellnessAlert.find({ ...filter, ...(q.status ? { status: q.status } : {}) }).sort({ raisedAt: -1 }).limit(q.limit ?? 100);
}

/**
 * Closes an alert with what happened (e.g. 已电话联系，老人在女儿家), once: a racing
 * second close gets 409. The other recipients are told it is handled.
 */
export async function closeWellnessAlert(user: AuthUser, alert: WellnessAlertDoc, resolution: string, now = new Date()): Promise<WellnessAlertDoc> {
  // Through withClaims like every state change: a failure between the state claim and the
  // update gives the claim back, so the alert can still be closed (and answers 503).
  await withClaims(async (claims) => {
    const update = await claims.transition(alert, 'closed', ALERT_TRANSITIONS, user.id, resolution);
    failpoint('wellness.close.afterStateClaim');
    await WellnessAlert.updateOne({ _id: alert._id }, {
      ...update,
      $set: { ...update.$set, closedBy: user.id, closedAt: now, resolution },
    });
    claims.commit();
  });
  const elder = await Person.findById(alert.elder).select('name').lean();
  for (const person of alert.recipients) {
    if (String(person) === user.id) continue;
    await notify(person, `wellness-alert:${alert._id}:closed:${person}`, 'wellness_alert_closed',
      `关于${elder?.name ?? '老人'}的助餐提醒已处理：${resolution}`, now);
  }
  return (await WellnessAlert.findById(alert._id))!;
}

/* ---------------------------------------------------------------- monthly visits */

export async function recordWellnessVisit(
  user: AuthUser,
  elder: PersonFields,
  req: { at?: Date; note: string },
  now = new Date(),
): Promise<WellnessVisitDoc> {
  const at = req.at ?? now;
  if (!elder.community) throw NotFoundError('这位居民还没有所属社区');
  if (at > now) throw BookingRuleError(400, 'visit_in_future', '探访时间不能晚于现在');
  const visit = await WellnessVisit.create({
    elder: elder._id, community: elder.community, at, month: monthOf(at), by: user.id, note: req.note, source: 'visit',
  });
  await keepLastVisit(elder._id, at);
  return visit;
}

export interface VisitReport {
  month: string;
  elders: number;
  visited: number;
  /** Visited share, 0–1 (1 when there is nobody to visit). */
  rate: number;
  missing: Array<{ id: string; name: string | null; grid: string | null; building: string | null; tags: string[]; lastVisitAt: Date | null }>;
  /** The elders visited in `month`, with how many visits and the last (the console lists both sides). */
  visitedElders: Array<{ id: string; name: string | null; grid: string | null; building: string | null; tags: string[]; visits: number; lastVisitAt: Date }>;
}

/**
 * The elders of a community tagged 特困 or 独居: one equality read per tag (`{community, tags}`,
 * both pushed down to the jsonb indexes), merged. `tags: {$in}` was filtered in Go after
 * decoding every person of the community.
 */
async function eldersToVisit(community: Types.ObjectId) {
  const lists = await Promise.all(MONTHLY_VISIT_TAGS.map((tag) =>
    Person.find({ community, tags: tag, status: 'active' }).select('name grid address tags lastVisitAt').lean()));
  const byId = new Map(lists.flat().map((p) => [String(p._id), p]));
  return [...byId.values()];
}

/**
 * The elders tagged 特困 or 独居 of a community with no visit recorded yet in `month`
 * (Shanghai), with their last visit before it: equality reads only, bounded by the elders
 * and the month's visits. The last visit is the elder's `lastVisitAt`; an elder without one
 * (never visited, or recorded before the field existed) has their own visits read
 * (`{elder}`, an equality), and a visit found is written back.
 */
export async function wellnessVisitReport(community: Types.ObjectId, month: string): Promise<VisitReport> {
  const [elders, visits] = await Promise.all([
    eldersToVisit(community),
    WellnessVisit.find({ community, month }).select('elder at').lean(),
  ]);
  const inMonth = new Map<string, { visits: number; lastVisitAt: Date }>();
  for (const v of visits) {
    const seenBefore = inMonth.get(String(v.elder));
    inMonth.set(String(v.elder), { visits: (seenBefore?.visits ?? 0) + 1, lastVisitAt: seenBefore && seenBefore.lastVisitAt > v.at ? seenBefore.lastVisitAt : v.at });
  }
  const byPlace = (a: { grid?: string | null; address?: { building?: string | null } | null }, b: typeof a) =>
    `${a.grid}${a.address?.building}`.localeCompare(`${b.grid}${b.address?.building}`, 'zh');
  const seen = new Set(visits.map((v) => String(v.elder)));
  const missing = elders.filter((e) => !seen.has(String(e._id)));
  const last = new Map<string, Date>();
  await Promise.all(missing.map(async (e) => {
    if (e.lastVisitAt) {
      last.set(String(e._id), e.lastVisitAt);
      return;
    }
    const own = await WellnessVisit.find({ elder: e._id }).select('at').lean();
    if (own.length === 0) return;
    const latest = own.reduce((a, v) => (v.at > a ? v.at : a), own[0]!.at);
    last.set(String(e._id), latest);
    await keepLastVisit(e._id, latest);
  }));
  return {
    month,
    elders: elders.length,
    visited: elders.length - missing.length,
    rate: elders.length ? Math.round(((elders.length - missing.length) / elders.length) * 1000) / 1000 : 1,
    missing: missing
      .sort(byPlace)
      .map((e) => ({
        id: String(e._id), name: e.name ?? null, grid: e.grid ?? null, building: e.address?.building ?? null,
        tags: [...e.tags], lastVisitAt: last.get(String(e._id)) ?? null,
      })),
    visitedElders: elders
      .filter((e) => seen.has(String(e._id)))
      .sort(byPlace)
      .map((e) => ({
        id: String(e._id), name: e.name ?? null, grid: e.grid ?? null, building: e.address?.building ?? null,
        tags: [...e.tags], ...inMonth.get(String(e._id))!,
      })),
  };
}

export const currentMonth = (now = new Date()) => monthOf(now);
