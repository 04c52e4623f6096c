import { trusted, type Types } from 'mongoose';
import { shanghaiDay } from '../../models/calendar.js';
import { Facility } from '../../models/facility.js';
import { RoomBooking } from '../../models/roomBooking.js';
import { MEAL_LABELS, MealMenu, type Meal } from '../../models/mealMenu.js';
import { MealOrder, type MealMode } from '../../models/mealOrder.js';
import { Person } from '../../models/person.js';
import { listWellnessAlerts } from '../../src/commands/wellness.js';
import { hasRole, isStaffOver, type AuthUser } from '../../src/auth/user.js';
import { hhmm, rangeLabel } from '../../src/booking/time.js';
import { approveRoomBooking, findRoom, findRoomBooking, rejectRoomBooking, type RoomBookingDeps } from '../../src/commands/roomBookings.js';
import { facilitySchedule } from '../../src/commands/roomSchedule.js';
import { authorize } from '../../src/policies/index.js';
import type { Flow, Turn } from '../dialogue/flow.js';
import { auditStaffListing } from '../../src/commands/audit.js';

/**
 * What bound staff ask in chat. These are not residents' requests, so the language contract has
 * no intents for them: a staff member's message is matched against these words first.
 */
const STAFF_WORDS: Array<[RegExp, string]> = [
  [/待审核|审核|待审批|审批/, 'staff.approvals'],
  [/送餐.*(异常|提醒|告警|预警)|(没|未)送到|待处理|告警|预警/, 'staff.alerts'],
  [/(饭|餐).*(多少|几份|数量|统计|人数)|(多少|几)份?(饭|餐)|订餐(人数|数量|统计)|用餐人数|份数/, 'staff.mealCounts'],
  [/(今天|今日|明天).*(安排|日程|排期|预约情况)|活动室安排|场地安排/, 'staff.schedule'],
];

/** Residents' words the language contract has no intent for: rating a meal they had. */
const RESIDENT_WORDS: Array<[RegExp, string]> = [[/评价|好评|差评|打分|给.*打个分/, 'meal.rate']];

/**
 * The intent of a message that the language contract does not cover: a staff member's work
 * (待审核, 今天的安排…) or a resident's rating. Matched before the language understanding.
 */
export function extraIntentOf(user: AuthUser, text: string): string | undefined {
  if (hasRole(user, 'staff') || hasRole(user, 'admin')) {
    const staff = STAFF_WORDS.find(([words]) => words.test(text))?.[1];
    if (staff) return staff;
  }
  return RESIDENT_WORDS.find(([words]) => words.test(text))?.[1];
}

const STATUS: Record<string, string> = { pending: '待审核', confirmed: '已确认', checked_in: '已签到', completed: '已完成', released_no_show: '未到已释放' };
const roomDeps = (turn: Turn): RoomBookingDeps => ({ rules: turn.deps.config.booking, redis: turn.deps.redis, log: turn.deps.log });

/** The facilities of one kind (community centres, kitchens) this staff member manages. */
async function facilitiesManaged(turn: Turn, kind: 'community_centre' | 'kitchen') {
  const community = turn.user.person.staffScope?.community;
  if (!community) return [];
  const facilities = await Facility.find({ community, kind }).lean();
  return facilities.filter((f) => isStaffOver(turn.user, community, f._id));
}
const centresManaged = (turn: Turn) => facilitiesManaged(turn, 'community_centre');

/** 今天的活动室安排: every booking of the day in the centres the staff member manages. */
export const staffSchedule: Flow = {
  intent: 'staff.schedule',
  absorb: () => [],
  async next(turn) {
    const day = /明天/.test(turn.text) ? shanghaiDay(new Date(turn.now.getTime() + 86_400_000)) : shanghaiDay(turn.now);
    const lines: string[] = [];
    for (const centre of await centresManaged(turn)) {
      const { rooms, bookings } = await facilitySchedule(turn.deps.redis, centre._id, day, 1);
      const name = new Map(rooms.map((r) => [r.id, r.name]));
      for (const b of bookings) lines.push(`${hhmm(b.start)}–${hhmm(b.end)} ${name.get(b.room) ?? ''} ${b.purpose}（${STATUS[b.status] ?? b.status}）`);
    }
    return { kind: 'done', text: lines.length ? `${day} 活动室安排（共 ${lines.length} 条）：\n${lines.join('\n')}` : `${day} 没有活动室预约。` };
  },
};

/** Pending room bookings of the centres managed, oldest first. */
async function pendingBookings(turn: Turn) {
  const centres = (await centresManaged(turn)).map((c) => c._id as Types.ObjectId);
  return RoomBooking.find({ facility: trusted({ $in: centres }), status: 'pending', end: trusted({ $gt: turn.now }) }).sort({ start: 1 }).limit(8).lean();
}

/** 待审核: the pending bookings by number; the one picked is approved, or rejected with a reason the resident is told. */
export const staffApprovals: Flow = {
  intent: 'staff.approvals',
  absorb: () => [],
  async next(turn, slots) {
    if (!slots.bookingId) {
      const pending = await pendingBookings(turn);
      if (!pending.length) return { kind: 'done', text: '现在没有待审核的活动室预约。' };
      const choices = await Promise.all(pending.map(async (b) => ({
        label: `${(await findRoom(String(b.room))).name} ${rangeLabel(b.start, b.end)} ${b.purpose}（${b.attendees}人）`, value: String(b._id),
      })));
      return { kind: 'ask', slot: 'bookingId', text: `待审核的预约（${choices.length} 条），回复数字处理：`, choices };
    }
    if (!slots.decision) {
      return { kind: 'ask', slot: 'decision', text: '通过还是拒绝？', choices: [{ label: '通过', value: 'approve' }, { label: '拒绝', value: 'reject' }] };
    }
    const booking = await findRoomBooking(slots.bookingId as string);
    authorize(turn.user, 'approve', booking);
    if (slots.decision === 'approve') {
      await approveRoomBooking(roomDeps(turn), turn.user, booking);
      return { kind: 'done', text: `已通过：${rangeLabel(booking.start, booking.end)}，已通知居民。发“待审核”处理下一条。` };
    }
    if (!slots.reason) return { kind: 'ask', slot: 'text:reason', text: '请说拒绝的原因（会告诉居民），例如：当天有社区活动' };
    await rejectRoomBooking(roomDeps(turn), turn.user, booking, slots.reason as string);
    return { kind: 'done', text: `已拒绝：${rangeLabel(booking.start, booking.end)}，原因已告诉居民。发“待审核”处理下一条。` };
  },
};

/** 今天订了多少份饭: portions per kitchen and meal today, by mode. */
export const staffMealCounts: Flow = {
  intent: 'staff.mealCounts',
  absorb: () => [],
  async next(turn) {
    const day = /明天/.test(turn.text) ? shanghaiDay(new Date(turn.now.getTime() + 86_400_000)) : shanghaiDay(turn.now);
    const kitchens = await facilitiesManaged(turn, 'kitchen');
    const menus = await MealMenu.find({ kitchen: trusted({ $in: kitchens.map((k) => k._id) }), date: day }).lean();
    if (!menus.length) return { kind: 'done', text: `${day} 没有菜单。` };
    const orders = await MealOrder.find({ menu: trusted({ $in: menus.map((m) => m._id) }), status: trusted({ $ne: 'cancelled' }) }, { menu: 1, mode: 1, quantity: 1 }).lean();
    const lines = menus.map((m) => {
      const mine = orders.filter((o) => String(o.menu) === String(m._id));
      const by = (mode: MealMode) => mine.filter((o) => o.mode === mode).reduce((n, o) => n + o.quantity, 0);
      const kitchen = kitchens.find((k) => String(k._id) === String(m.kitchen))?.name ?? '';
      return `${kitchen} ${MEAL_LABELS[m.meal as Meal]}：共 ${by('dine_in') + by('pickup') + by('delivery')} 份（堂食 ${by('dine_in')}、自取 ${by('pickup')}、送餐 ${by('delivery')}）`;
    });
    return { kind: 'done', text: `${day} 订餐：\n${lines.join('\n')}` };
  },
};

/** 送餐异常: the open wellness alerts the staff member sees, oldest first. */
export const staffAlerts: Flow = {
  intent: 'staff.alerts',
  absorb: () => [],
  async next(turn) {
    const alerts = await listWellnessAlerts(turn.user, { status: 'open', limit: 10 });
    if (!alerts.length) return { kind: 'done', text: '没有未处理的送餐提醒。' };
    const elders = await Person.find({ _id: trusted({ $in: alerts.map((a) => a.elder) }) }, { name: 1, address: 1 }).lean();
    await auditStaffListing(turn.user, 'wellnessAlert.list');
    const lines = alerts.map((a, i) => {
      const elder = elders.find((e) => String(e._id) === String(a.elder));
      return `${i + 1}. ${elder?.name ?? '老人'}（${elder?.address?.building ?? ''}${elder?.address?.room ?? ''}）${ALERT_KINDS[a.kind] ?? a.kind}，${hhmm(a.raisedAt)}${a.note ? `：${a.note}` : ''}`;
    });
    return { kind: 'done', text: `未处理的送餐提醒（${alerts.length} 条）：\n${lines.join('\n')}\n处理后请在小程序里填写结果并关闭。` };
  },
};

const ALERT_KINDS: Record<string, string> = { not_at_home: '送餐时不在家', needs_attention: '需要关注' };

export const staffFlows: Flow[] = [staffSchedule, staffApprovals, staffMealCounts, staffAlerts];
