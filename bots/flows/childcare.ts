import { trusted } from 'mongoose';
import { shanghaiDay } from '../../models/calendar.js';
import { Child } from '../../models/child.js';
import { ChildcareBooking } from '../../models/childcareBooking.js';
import { hhmm, rangeLabel } from '../../src/booking/time.js';
import { assertAgeFits, bookChildcare, cancelChildcareBooking, findChildcareBooking } from '../../src/commands/childcareBookings.js';
import { AppError } from '../../src/errors.js';
import type { ChildcareDeps } from '../../src/commands/childcarePlaces.js';
import { cancelDeadline } from '../../src/commands/childcarePlaces.js';
import { childcareAvailability, findChildcareSession } from '../../src/commands/childcareSessions.js';
import { findChild } from '../../src/commands/children.js';
import { absorbFields, type Choice, type Flow, type Turn } from '../dialogue/flow.js';
import { dayWithWeekday } from './common.js';

const childcareDeps = (turn: Turn): ChildcareDeps => ({ rules: turn.deps.config.childcare, redis: turn.deps.redis, log: turn.deps.log });

/** The children of the person (as a parent). */
const childrenOf = (turn: Turn) => Child.find({ parents: turn.person._id }).sort({ birthDate: -1 }).lean();

/** 托管孩子: which child, which day, which session (fitting the time asked), health, the summary, 确认. */
export const bookChildcareFlow: Flow = {
  intent: 'childcare.book',
  changeable: [
    { slot: 'dates', label: '日期', clears: ['sessionId'] },
    { slot: 'sessionId', label: '时段' },
    { slot: 'healthy', label: '健康情况' },
  ],
  absorb(slots, u) {
    const set = absorbFields(slots, u, ['dates', 'start', 'end']);
    if (set.includes('dates') || set.includes('start')) delete slots.sessionId;
    return set;
  },
  async next(turn, slots) {
    if (!slots.childId) {
      const children = await childrenOf(turn);
      if (!children.length) return { kind: 'done', text: '您还没有登记孩子。请先在小程序“托育”里添加孩子的信息，再来预约。' };
      if (children.length > 1) {
        return { kind: 'ask', slot: 'childId', text: '给哪个孩子预约？', choices: children.map((c) => ({ label: c.name, value: String(c._id) })) };
      }
      slots.childId = String(children[0]!._id);
    }
    if (!slots.dates) return { kind: 'ask', slot: 'dates', text: '哪天托管？例如：明天、下周二' };
    const day = (slots.dates as string[])[0]!;
    if (!slots.sessionId) {
      const child = await findChild(slots.childId as string);
      const all = (await childcareAvailability(turn.user, { date: day }))
        // The sessions running at the time asked (九点 → the one from 09:00 to 11:30).
        .filter((s) => !slots.start || (hhmm(s.session.start) <= (slots.start as string) && (slots.start as string) < hhmm(s.session.end)));
      // Only the classes of the child's age (the command's own rule): a 20-month-old is never
      // offered 托大班 first (issue 20).
      const sessions = all.filter((s) => fitsAge(child, s.session));
      if (all.length && !sessions.length) {
        delete slots.dates;
        return { kind: 'ask', slot: 'dates', text: `${dayWithWeekday(day)}没有适合${child.name}年龄的班。换一天吗？` };
      }
      const choices: Choice[] = sessions.slice(0, 8).map((s) => ({
        label: `${s.session.classType} ${hhmm(s.session.start)}–${hhmm(s.session.end)}（${s.centreName}，${s.free ? `余${s.free}个名额` : `已满，排队${s.waiting}人`}）`,
        value: String(s.session._id),
      }));
      if (!choices.length) {
        delete slots.dates;
        return { kind: 'ask', slot: 'dates', text: `${dayWithWeekday(day)}${slots.start ? ` ${slots.start as string}` : ''}没有托育时段。换一天吗？` };
      }
      if (choices.length > 1) return { kind: 'ask', slot: 'sessionId', text: '选哪个时段？', choices };
      slots.sessionId = choices[0]!.value;
    }
    if (slots.healthy === undefined) {
      return {
        kind: 'ask', slot: 'healthy', text: '健康申报：孩子这几天有没有发烧、咳嗽、腹泻等不适？',
        choices: [{ label: '没有，身体健康', value: true }, { label: '有不适', value: false }],
      };
    }
    if (slots.healthy === false) return { kind: 'done', text: '孩子不舒服时请先在家休息，康复后再预约。祝孩子早日康复！' };
    const [child, session] = await Promise.all([findChild(slots.childId as string), findChildcareSession(slots.sessionId as string)]);
    return {
      kind: 'confirm',
      text: `请确认托育预约：\n孩子：${child.name}\n班级：${session.classType}\n时间：${dayWithWeekday(session.date)} ${hhmm(session.start)}–${hhmm(session.end)}\n地点：${session.centre.name}\n健康申报：无不适\n回复“确认”预约，“改”修改，“取消”放弃。`,
    };
  },
  async execute(turn, slots) {
    const [child, session] = await Promise.all([findChild(slots.childId as string), findChildcareSession(slots.sessionId as string)]);
    const outcome = await bookChildcare(childcareDeps(turn), turn.user, session, child, { healthDeclaration: { healthy: true } }, turn.now);
    const when = `${dayWithWeekday(session.date)} ${hhmm(session.start)}–${hhmm(session.end)}`;
    if (outcome.kind === 'waitlisted') {
      return `这个时段已满，已帮${child.name}排队${outcome.position ? `（第 ${outcome.position} 位）` : ''}。有名额时会通知您，请在期限内确认。`;
    }
    return `预约成功！${child.name} ${when}，${session.centre.name}。入托时老师会做晨检；接孩子的取托码会发给您。如需取消请在前一天 ${turn.deps.config.childcare.cancelCutoff} 前。`;
  },
};

/** Whether the child's age fits the session's class (assertAgeFits, the booking command's check). */
function fitsAge(child: Parameters<typeof assertAgeFits>[0], session: Parameters<typeof assertAgeFits>[1]): boolean {
  try {
    assertAgeFits(child, session);
    return true;
  } catch (err) {
    if (err instanceof AppError) return false;
    throw err;
  }
}

/** The person's childcare bookings still ahead (on the days asked). */
async function upcoming(turn: Turn, dates?: string[]) {
  const bookings = await ChildcareBooking.find({ bookedFor: turn.person._id, status: 'confirmed', start: trusted({ $gt: turn.now }) }).sort({ start: 1 }).limit(20).lean();
  return dates?.length ? bookings.filter((b) => dates.includes(b.date)) : bookings;
}

/** 托管不去了: which booking (by number when several), then 确认; says when it counts as late. */
export const cancelChildcareFlow: Flow = {
  intent: 'childcare.cancel',
  absorb: (slots, u) => absorbFields(slots, u, ['dates']),
  async next(turn, slots) {
    if (!slots.bookingId) {
      const bookings = await upcoming(turn, slots.dates as string[] | undefined);
      if (!bookings.length) return { kind: 'done', text: slots.dates ? '那天没有找到您的托育预约。' : '您现在没有可以取消的托育预约。' };
      const children = await Child.find({ _id: trusted({ $in: bookings.map((b) => b.child) }) }, { name: 1 }).lean();
      const name = (id: unknown) => children.find((c) => String(c._id) === String(id))?.name ?? '孩子';
      const choices = bookings.slice(0, 8).map((b) => ({ label: `${name(b.child)} ${b.classType} ${rangeLabel(b.start, b.end)}`, value: String(b._id) }));
      if (choices.length > 1) return { kind: 'ask', slot: 'bookingId', text: '要取消哪一个？', choices };
      slots.bookingId = choices[0]!.value;
    }
    const booking = await findChildcareBooking(slots.bookingId as string);
    const late = turn.now > cancelDeadline(turn.deps.config.childcare, booking.date);
    return {
      kind: 'confirm',
      text: `确定取消 ${rangeLabel(booking.start, booking.end)} 的托育吗？${late ? `\n注意：已过前一天 ${turn.deps.config.childcare.cancelCutoff}，这次取消会记为一次爽约。` : ''}\n回复“确认”取消，“返回”重新选择。`,
    };
  },
  async execute(turn, slots) {
    const booking = await findChildcareBooking(slots.bookingId as string);
    const cancelled = await cancelChildcareBooking(childcareDeps(turn), turn.user, booking, false, undefined, turn.now);
    return `已取消 ${rangeLabel(cancelled.start, cancelled.end)} 的托育。`;
  },
};

/** 托育还有名额吗: the sessions of the day asked (today by default) with their free places. */
export const childcareAvailabilityFlow: Flow = {
  intent: 'childcare.availability',
  absorb: (slots, u) => absorbFields(slots, u, ['dates']),
  async next(turn, slots) {
    const day = (slots.dates as string[] | undefined)?.[0] ?? shanghaiDay(turn.now);
    const sessions = await childcareAvailability(turn.user, { date: day });
    if (!sessions.length) return { kind: 'done', text: `${dayWithWeekday(day)}没有托育时段。` };
    const lines = sessions.map((s) => `${s.session.classType} ${hhmm(s.session.start)}–${hhmm(s.session.end)}：${s.free ? `余 ${s.free} 个名额` : `已满（排队 ${s.waiting} 人）`}`);
    return { kind: 'done', text: `${dayWithWeekday(day)}的托育：\n${lines.join('\n')}\n想预约请说，例如：${dayWithWeekday(day).slice(0, -4)}上午9点托管孩子` };
  },
};

/** The childcare part of 我的预约. */
export async function childcareBookingLines(turn: Turn): Promise<string[]> {
  const bookings = await upcoming(turn);
  return bookings.map((b) => `托育 ${b.classType} ${rangeLabel(b.start, b.end)}`);
}

