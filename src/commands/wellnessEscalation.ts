import { trusted, type Types } from 'mongoose';
import { atShanghai, dayjs, shanghaiDay } from '../../models/calendar.js';
import { MEAL_SERVED_UNTIL, type Meal } from '../../models/mealMenu.js';
import { MealOrder } from '../../models/mealOrder.js';
import { Person } from '../../models/person.js';
import { WellnessAlert } from '../../models/wellnessAlert.js';
import { hhmm } from '../booking/time.js';
import { mealLabel } from './mealMenus.js';
import { notifyMany, type NotificationRequest } from './notify.js';

/** A 送餐上门 order with no outcome this long after the meal window ends is escalated. */
export const NO_OUTCOME_AFTER_MS = 3_600_000;
/** An alert nobody closed this long after it was raised goes to the community's staff. */
export const ALERT_OPEN_FOR_MS = 2 * 3_600_000;
/** How many days back the no-outcome check looks (orders older than that are left alone). */
const LOOK_BACK_DAYS = 3;

/** When an order's delivery counts as overdue: the end of its meal window plus an hour. */
export const deliveryOverdueAt = (order: { date: string; meal: string }) =>
  new Date(atShanghai(order.date, MEAL_SERVED_UNTIL[order.meal as Meal]).getTime() + NO_OUTCOME_AFTER_MS);

type StaffLike = { _id: Types.ObjectId; roles: string[]; staffScope?: { community?: Types.ObjectId | null; facilities?: Types.ObjectId[] | null } | null };

/**
 * The staff and admins of these communities, in one read: staff whose scope is the community,
 * admins whose scope is the community or unset.
 */
async function staffOf(communities: Types.ObjectId[]): Promise<StaffLike[]> {
  if (!communities.length) return [];
  const people = await Person.find({ roles: trusted({ $in: ['staff', 'admin'] }), status: 'active' }).select('roles staffScope').lean();
  const wanted = new Set(communities.map(String));
  return (people as StaffLike[]).filter((p) => {
    const scope = p.staffScope?.community ? String(p.staffScope.community) : null;
    if (p.roles.includes('staff') && scope && wanted.has(scope)) return true;
    return p.roles.includes('admin') && (!scope || wanted.has(scope));
  });
}

/** Staff (not admins) of the community whose scope covers the facility. */
const staffOver = (staff: StaffLike[], community: Types.ObjectId, facility: Types.ObjectId) => staff.filter((p) =>
  p.roles.includes('staff') && String(p.staffScope?.community) === String(community)
  && (!p.staffScope?.facilities?.length || p.staffScope.facilities.some((f) => String(f) === String(facility))));

/** Staff of the community (any facility) and its admins. */
const communityStaffAndAdmins = (staff: StaffLike[], community: Types.ObjectId) => staff.filter((p) => {
  const scope = p.staffScope?.community ? String(p.staffScope.community) : null;
  return scope === String(community) || (p.roles.includes('admin') && !scope);
});

/**
 * 送餐上门 orders still without an outcome an hour after their meal window (MEAL_SERVED_UNTIL)
 * ended: the grid workers of the elder's grid and the kitchen's staff are told, once per order
 * and person (`meal-order:<id>:no-outcome:<person>`), and the order is marked. Orders of the
 * last three days, oldest first, at most `limit` a run; three reads whatever the size.
 */
export async function escalateMissingDeliveryOutcomes(now: Date, limit = 200): Promise<{ orders: number; notified: number }> {
  const since = dayjs.utc(shanghaiDay(now)).subtract(LOOK_BACK_DAYS, 'day').format('YYYY-MM-DD');
  const candidates = await MealOrder.find({
    mode: 'delivery',
    status: 'confirmed',
    date: trusted({ $gte: since, $lte: shanghaiDay(now) }),
    noOutcomeEscalatedAt: trusted({ $exists: false }),
  }).select('kitchen community date meal grid building deliverTo bookedFor').lean();
  const due = candidates
    .filter((o) => deliveryOverdueAt(o) <= now)
    .sort((a, b) => deliveryOverdueAt(a).getTime() - deliveryOverdueAt(b).getTime())
    .slice(0, limit);
  if (!due.length) return { orders: 0, notified: 0 };
  const communities = [...new Map(due.map((o) => [String(o.community), o.community])).values()];
  const [staff, gridWorkers] = await Promise.all([
    staffOf(communities),
    Person.find({ community: trusted({ $in: communities }), roles: 'grid_worker', status: 'active' }).select('community workGrids').lean(),
  ]);
  const requests: NotificationRequest[] = [];
  for (const o of due) {
    const workers = o.grid
      ? gridWorkers.filter((g) => String(g.community) === String(o.community) && (g.workGrids ?? []).includes(o.grid!))
      : [];
    const recipients = new Map<string, Types.ObjectId>();
    for (const p of [...workers, ...staffOver(staff, o.community, o.kitchen)]) recipients.set(String(p._id), p._id);
    const where = [o.building, o.deliverTo?.unit, o.deliverTo?.room].filter(Boolean).join('');
    const text = `【送餐未反馈】${o.deliverTo?.name ?? '老人'}${where ? `（${where}）` : ''}的${mealLabel(o)}送餐上门，`
      + `送餐时段（至 ${hhmm(atShanghai(o.date, MEAL_SERVED_UNTIL[o.meal]))}）结束一小时后仍没有送达记录。`
      + '请联系送餐员或上门确认老人是否安好，并在小程序中补记送达情况。';
    for (const [id, person] of recipients) {
      requests.push({ person, key: `meal-order:${o._id}:no-outcome:${id}`, kind: 'meal_delivery_no_outcome', text, dueAt: now });
    }
  }
  const notified = await notifyMany(requests, now);
  await MealOrder.updateMany({ _id: trusted({ $in: due.map((o) => o._id) }) }, { $set: { noOutcomeEscalatedAt: now } });
  return { orders: due.length, notified };
}

const ALERT_KIND_TEXT: Record<string, string> = { not_at_home: '送餐时不在家', needs_attention: '送餐时发现需要关注' };

/**
 * Wellness alerts still open two hours after they were raised: the community's staff and
 * admins are told, once per alert and person (`wellness-alert:<id>:escalated:<person>`), and
 * the alert is marked. Oldest first, at most `limit` a run.
 */
export async function escalateOpenWellnessAlerts(now: Date, limit = 200): Promise<{ alerts: number; notified: number }> {
  const alerts = await WellnessAlert.find({
    status: 'open',
    raisedAt: trusted({ $lte: new Date(now.getTime() - ALERT_OPEN_FOR_MS) }),
    escalatedAt: trusted({ $exists: false }),
  }).sort({ raisedAt: 1 }).limit(limit).select('elder community kind raisedAt order').lean();
  if (!alerts.length) return { alerts: 0, notified: 0 };
  const communities = [...new Map(alerts.map((a) => [String(a.community), a.community])).values()];
  const [staff, elders] = await Promise.all([
    staffOf(communities),
    Person.find({ _id: trusted({ $in: alerts.map((a) => a.elder) }) }).select('name address').lean(),
  ]);
  const byId = new Map(elders.map((e) => [String(e._id), e]));
  const requests: NotificationRequest[] = [];
  for (const a of alerts) {
    const elder = byId.get(String(a.elder));
    const where = [elder?.address?.building, elder?.address?.unit, elder?.address?.room].filter(Boolean).join('');
    const hours = Math.floor((now.getTime() - a.raisedAt.getTime()) / 3_600_000);
    const text = `【关爱提醒未处理】${elder?.name ?? '老人'}${where ? `（${where}）` : ''}${ALERT_KIND_TEXT[a.kind] ?? ''}，`
      + `提醒已发出 ${hours} 小时（${hhmm(a.raisedAt)} 起）仍没有人处理。请立即联系家属或上门查看，处理后在「关爱提醒」中填写情况。`;
    for (const p of communityStaffAndAdmins(staff, a.community)) {
      requests.push({ person: p._id, key: `wellness-alert:${a._id}:escalated:${p._id}`, kind: 'wellness_alert_escalated', text, dueAt: now });
    }
  }
  const notified = await notifyMany(requests, now);
  await WellnessAlert.updateMany({ _id: trusted({ $in: alerts.map((a) => a._id) }) }, { $set: { escalatedAt: now } });
  return { alerts: alerts.length, notified };
}
