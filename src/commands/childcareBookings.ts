import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { Types, trusted } from 'mongoose';
import { Child, ageInMonths, type ChildDoc } from '../../models/child.js';
import { ChildcareBooking, type ChildcareBookingDoc, type ChildcareBookingStatus } from '../../models/childcareBooking.js';
import { CHILDCARE_CLASSES, ChildcareSession } from '../../models/childcareSession.js';
import { ChildcareWaitlistEntry, type WaitlistEntryDoc } from '../../models/childcareWaitlist.js';
import { Person, type PersonFields } from '../../models/person.js';
import type { AuthUser } from '../auth/user.js';
import { isAdmin, isStaffOver } from '../auth/user.js';
import { releaseClaims, withClaims } from '../booking/claims.js';
import { failpoint } from '../runtime/failpoints.js';
import { assertNotBlocked, blockNotice, recordNoShow } from '../booking/noShows.js';
import type { Transitions } from '../booking/stateMachine.js';
import { dayLabel, hhmm, rangeLabel } from '../booking/time.js';
import { AppError, BookingRuleError, NotFoundError, ResidentNotVerifiedError } from '../errors.js';
import type { SessionWithCentre } from '../policies/childcare.js';
import {
  bookingDeadline, cancelDeadline, childKey, handOverPlace, monthKey, nextTicket, placeKey, refreshBooked,
  positionOnceSettled, settleTicket, type ChildcareDeps,
} from './childcarePlaces.js';
import { notify } from './notify.js';
import { withdrawChildcareReminders } from './childcareReminders.js';
import { markDaysChanged, PLACE_HOLDING_CHILDCARE } from './dailyFigures.js';
import { childcareBookingListed } from './childcareBookingList.js';

export const CHILDCARE_TRANSITIONS: Transitions<ChildcareBookingStatus> = {
  confirmed: ['dropped_off', 'cancelled', 'turned_away', 'no_show'],
  dropped_off: ['picked_up'],
  picked_up: [],
  cancelled: [],
  turned_away: [],
  no_show: [],
};

/** The no-show rules of childcare, in the shape src/booking/noShows.ts takes. */
export const childcareNoShowRules = (rules: ChildcareDeps['rules']) => ({
  noShowLimit: rules.noShowLimit,
  noShowWindowDays: rules.noShowWindowDays,
  noShowBlockDays: rules.noShowBlockDays,
});

/**
 * Blocks are kept per child (service 'childcare', keyed by the child's id): the monthly cap
 * and the block follow the child, whichever parent books.
 */
export const CHILDCARE_SERVICE = 'childcare';

export async function findChildcareBooking(id: string): Promise<ChildcareBookingDoc> {
  const booking = Types.ObjectId.isValid(id) ? await ChildcareBooking.findById(id) : null;
  if (!booking) throw NotFoundError('没有找到这条托育预约');
  return booking;
}

export interface HealthDeclaration {
  healthy: boolean;
  notes?: string;
}

export interface ChildcareBookingRequest {
  healthDeclaration: HealthDeclaration;
  /** Join the line when the session is full (default); false: answer 409 session_full instead. */
  joinWaitlist?: boolean;
}

export type BookOutcome =
  | { kind: 'booked'; booking: ChildcareBookingDoc }
  | { kind: 'waitlisted'; entry: WaitlistEntryDoc; position: number | null };

/** The parent a booking is for: the caller if a parent, else the first parent the caller acts for. */
async function parentFor(user: AuthUser, child: ChildDoc): Promise<PersonFields> {
  const id = child.parents.find((p) => String(p) === user.id) ?? child.parents.find((p) => user.elders.has(String(p))) ?? child.parents[0]!;
  const parent = String(id) === user.id ? user.person : await Person.findById(id);
  if (!parent || parent.status === 'anonymised') throw NotFoundError('没有找到孩子的家长');
  if (parent.status !== 'active') throw ResidentNotVerifiedError();
  return parent;
}

/** The child's age on the session date must fit the class: [minMonths, maxMonths). */
export function assertAgeFits(child: ChildDoc, session: Pick<SessionWithCentre, 'classType' | 'start'>): void {
  const cls = CHILDCARE_CLASSES[session.classType];
  const months = ageInMonths(child.birthDate, session.start);
  if (months < cls.minMonths || months >= cls.maxMonths) {
    const range = session.classType === '混龄' ? `${cls.minMonths} 个月以上` : `${cls.minMonths}–${cls.maxMonths} 个月`;
    throw BookingRuleError(409, 'age_not_eligible',
      `${session.classType}招收 ${range}的幼儿，${child.name}在${dayLabel(session.start)}为 ${months} 个月，请选择适合的班型`);
  }
}

function assertHealthy(declaration: HealthDeclaration) {
  if (!declaration.healthy) {
    throw BookingRuleError(400, 'health_declaration_required',
      '入托需家长确认孩子近 24 小时无发热、腹泻、皮疹等症状且未接触传染病人；孩子身体不适时请在家休息');
  }
}

/** Rules that need no claim: the session is ahead, before the cut-off, the child's age fits. */
function checkBookingRules(deps: ChildcareDeps, session: SessionWithCentre, child: ChildDoc, byStaff: boolean, now: Date) {
  if (session.start <= now) throw BookingRuleError(409, 'session_started', '这个托育时段已经开始，不能再预约');
  const deadline = bookingDeadline(deps.rules, session.date);
  if (!byStaff && now > deadline) {
    throw BookingRuleError(409, 'booking_closed', `托育需在前一天 ${deps.rules.bookingCutoff} 前预约（本时段截止于 ${dayLabel(deadline)} ${hhmm(deadline)}）`);
  }
  assertAgeFits(child, session);
}

const monthOf = (date: string) => date.slice(0, 7);

/**
 * Books a child into a session, or puts them in line when it is full. Order: the rules, the
 * block, an arrival ticket (Redis INCR per session: the line's order), then claims — one per
 * child per session, the monthly cap, a place. When anyone is already waiting the request
 * joins the line instead of taking a place, so a freed place goes to the first in line.
 * Each failure gives back what this request claimed.
 */
export async function bookChildcare(
  deps: ChildcareDeps,
  user: AuthUser,
  session: SessionWithCentre,
  child: ChildDoc,
  req: ChildcareBookingRequest,
  now = new Date(),
): Promise<BookOutcome> {
  const byStaff = isStaffOver(user, session.centre.community, session.centre._id) || isAdmin(user);
  checkBookingRules(deps, session, child, byStaff, now);
  assertHealthy(req.healthDeclaration);
  const parent = await parentFor(user, child);
  await assertNotBlocked(child._id, CHILDCARE_SERVICE, childcareNoShowRules(deps.rules), now);
  const ticket = await nextTicket(deps.redis, session);
  let outcome: BookOutcome;
  try {
    outcome = await placeOrQueue(deps, user, session, child, parent, req, ticket, now);
  } finally {
    await settleTicket(deps.redis, session._id, ticket);
  }
  // After the ticket is settled: the line's positions wait for earlier tickets, not for this.
  if (outcome.kind === 'booked') await markDaysChanged(outcome.booking.community, outcome.booking.date);
  if (outcome.kind === 'waitlisted') outcome.position = await positionOnceSettled(deps.redis, outcome.entry);
  return outcome;
}

/** bookChildcare once the request holds its ticket: a place, or the line (position later). */
async function placeOrQueue(
  deps: ChildcareDeps,
  user: AuthUser,
  session: SessionWithCentre,
  child: ChildDoc,
  parent: Awaited<ReturnType<typeof parentFor>>,
  req: ChildcareBookingRequest,
  ticket: number,
  now: Date,
): Promise<BookOutcome> {
  const id = new Types.ObjectId();
  const month = monthOf(session.date);
  const declaration = { ...req.healthDeclaration, declaredAt: now, declaredBy: user.person._id };
  // Before the insert: the lists may then read a month too many, never miss one.
  await childcareBookingListed({ bookedFor: parent._id, child: child._id, month });
  const outcome = await withClaims(async (claims) => {
    if (!(await claims.claimPlaces(childKey(session._id, child._id), 1, 1, id))) {
      const waiting = await ChildcareWaitlistEntry.exists({ session: session._id, child: child._id, status: trusted({ $in: ['waiting', 'offered'] }) });
      throw BookingRuleError(409, waiting ? 'already_waitlisted' : 'already_booked',
        waiting ? `${child.name}已在这个时段的候补队列中` : `${child.name}已预约了这个时段`);
    }
    failpoint('childcare.book.afterChild');
    if (!(await claims.claimPlaces(monthKey(child._id, month), deps.rules.monthlyLimit, 1, id))) {
      throw BookingRuleError(409, 'monthly_limit_reached', `${child.name}本月的托育预约已达 ${deps.rules.monthlyLimit} 次上限，请下月再约`);
    }
    failpoint('childcare.book.afterMonth');
    const someoneWaiting = await ChildcareWaitlistEntry.exists({ session: session._id, status: 'waiting' });
    const place = someoneWaiting ? null : await claims.claimPlaces(placeKey(session._id), session.capacity, 1, id);
    failpoint('childcare.book.afterPlace');
    if (place) {
      const booking = await ChildcareBooking.create({
        _id: id, session: session._id, centre: session.centre._id, community: session.centre.community, child: child._id,
        bookedFor: parent._id, bookedBy: user.person._id, date: session.date, start: session.start, end: session.end,
        classType: session.classType, month, healthDeclaration: declaration, status: 'confirmed',
        history: [{ from: null, to: 'confirmed', at: now, by: user.person._id }],
      });
      claims.commit();
      return { kind: 'booked' as const, booking };
    }
    // In line: the month's place is taken only when a place is; the one-per-child claim stays.
    await releaseClaims(id, monthKey(child._id, month));
    if (req.joinWaitlist === false) {
      throw BookingRuleError(409, 'session_full', '这个托育时段已约满，可以加入候补队列，有空位时按先后顺序通知');
    }
    const entry = await ChildcareWaitlistEntry.create({
      session: session._id, centre: session.centre._id, community: session.centre.community, child: child._id,
      bookedFor: parent._id, bookedBy: user.person._id, start: session.start, seq: ticket, booking: id, status: 'waiting',
      history: [{ from: null, to: 'waiting', at: now, by: user.person._id }],
    });
    claims.commit();
    return { kind: 'waitlisted' as const, entry, position: null };
  });
  if (outcome.kind === 'booked') await refreshBooked(session._id);
  return outcome;
}

/** Whether a booking in this status holds a place in the staff reports' fill rate. */
const holdsPlace = (status: string) => (PLACE_HOLDING_CHILDCARE as readonly string[]).includes(status);

async function applyTransition(booking: ChildcareBookingDoc, to: ChildcareBookingStatus, by: Types.ObjectId | string, reason?: string, extra: Record<string, unknown> = {}) {
  await withClaims(async (claims) => {
    const update = await claims.transition(booking, to, CHILDCARE_TRANSITIONS, by, reason);
    failpoint('childcare.transition.afterStateClaim');
    await ChildcareBooking.updateOne({ _id: booking._id }, { ...update, $set: { ...update.$set, ...extra } });
    claims.commit();
  });
  if (holdsPlace(booking.status) !== holdsPlace(to)) await markDaysChanged(booking.community, booking.date);
  // A booking that leaves 'confirmed' (cancelled, turned away, no-show…) is not reminded of.
  if (booking.status === 'confirmed') await withdrawChildcareReminders(booking);
  return (await ChildcareBooking.findById(booking._id))!;
}

/**
 * What follows a written cancel: the child's and month's claims go back and the place goes to
 * the next child. The cancel stands whatever happens here, so a failure is logged, not
 * answered (a 503 would tell the parent to retry a cancel that is done): the place is given
 * back at once if possible, else the claims.reconcile job releases what a cancelled booking
 * still holds; a free place reaches the line through the childcare.waitlist job.
 */
async function afterCancel(deps: ChildcareDeps, booking: ChildcareBookingDoc, now: Date): Promise<void> {
  try {
    failpoint('childcare.cancel.beforeHandOver');
    await releaseClaims(booking._id, childKey(booking.session, booking.child));
    await releaseClaims(booking._id, monthKey(booking.child, booking.month));
    const session = await ChildcareSession.findById(booking.session);
    if (session) {
      await handOverPlace(deps, session, booking._id, now);
      await refreshBooked(session._id);
    }
  } catch (err) {
    deps.log?.warn({ err, booking: String(booking._id), session: String(booking.session) },
      'childcare cancel written; releasing its claims or handing its place over failed (reconcile and the waitlist job finish it)');
    // Best effort: if this fails too, claims.reconcile frees what the cancelled booking holds.
    await Promise.resolve().then(() => {
      failpoint('childcare.cancel.release');
      return releaseClaims(booking._id);
    }).catch(() => undefined);
  }
}

/**
 * Cancels a booking. Parents before the start: after the cancel cut-off (12:00 the day
 * before) it still cancels but counts like a no-show. Staff at any time, with a reason the
 * parent is told (never counted). The place goes to a child over capacity, else the first in
 * line, else back to the pool.
 */
export async function cancelChildcareBooking(
  deps: ChildcareDeps,
  user: AuthUser,
  booking: ChildcareBookingDoc,
  asStaff: boolean,
  reason: string | undefined,
  now = new Date(),
): Promise<ChildcareBookingDoc> {
  if (!asStaff && booking.start <= now) {
    throw BookingRuleError(409, 'cancel_too_late', '托育时段已经开始，不能再取消；如有问题请联系托育中心');
  }
  if (asStaff && !reason) throw BookingRuleError(400, 'reason_required', '工作人员取消预约时需填写原因，系统会告知家长');
  const late = !asStaff && now > cancelDeadline(deps.rules, booking.date);
  const cancelled = await applyTransition(booking, 'cancelled', user.id, reason ?? (late ? 'late cancellation' : undefined), { lateCancellation: late });
  await afterCancel(deps, booking, now);
  if (late) {
    const rules = childcareNoShowRules(deps.rules);
    const blockedUntil = await recordNoShow(booking.child, CHILDCARE_SERVICE, booking._id, rules, now);
    if (blockedUntil) {
      const notice = blockNotice(CHILDCARE_SERVICE, booking.child, blockedUntil, rules, '托育');
      await notify(booking.bookedFor, notice.key, 'booking_blocked', notice.text, now);
    }
  }
  if (asStaff) {
    await notify(booking.bookedFor, `childcare-booking:${booking._id}:cancelled`, 'childcare_booking_cancelled',
      `您预约的托育时段（${booking.classType} ${rangeLabel(booking.start, booking.end)}）已被托育中心取消，原因：${reason}。如有疑问请联系托育中心。`);
  }
  return cancelled;
}

/* ------------------------------------------------------------------ drop-off and pick-up */

const hashCode = (booking: Types.ObjectId, code: string) => createHash('sha256').update(`${booking}:${code}`).digest('hex');

/** A new one-time pick-up code: only its hash is kept; the code goes to the parent. */
async function sendPickupCode(booking: ChildcareBookingDoc, childName: string): Promise<void> {
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const n = (booking.pickupCodesSent ?? 0) + 1;
  await ChildcareBooking.updateOne({ _id: booking._id }, { $set: { pickupCodeHash: hashCode(booking._id, code), pickupCodesSent: n } });
  await notify(booking.bookedFor, `childcare-booking:${booking._id}:pickup-code:${n}`, 'childcare_pickup_code',
    `${childName}已入托（${rangeLabel(booking.start, booking.end)}）。接孩子时请向老师出示取托码 ${code}，仅限本次使用，请勿告诉他人。`);
}

/**
 * Staff record the morning health check at drop-off (from 1 hour before the start until the
 * end). A temperature at or above the fever line turns the child away (not counted as a
 * no-show; the place is freed and the parent told); otherwise the child is in and the parent
 * gets the one-time pick-up code.
 */
export async function dropOffChild(
  deps: ChildcareDeps,
  user: AuthUser,
  booking: ChildcareBookingDoc,
  check: { temperature: number; notes?: string },
  now = new Date(),
): Promise<ChildcareBookingDoc> {
  if (now.getTime() < booking.start.getTime() - 3_600_000 || now >= booking.end) {
    throw BookingRuleError(409, 'drop_off_not_open', `入托登记时间为开始前 1 小时至结束（${rangeLabel(booking.start, booking.end)}）`);
  }
  const healthCheck = { temperature: check.temperature, notes: check.notes, at: now, by: user.person._id };
  const child = await Child.findById(booking.child);
  if (check.temperature >= deps.rules.feverCelsius) {
    const away = await applyTransition(booking, 'turned_away', user.id, `temperature ${check.temperature}`, { healthCheck });
    await releaseClaims(booking._id, placeKey(booking.session));
    await refreshBooked(booking.session);
    await notify(booking.bookedFor, `childcare-booking:${booking._id}:turned-away`, 'childcare_turned_away',
      `${child?.name ?? '孩子'}晨检体温 ${check.temperature}℃，按规定今天不能入托，请接回家休息观察，必要时就医。本次不计爽约。`);
    return away;
  }
  const dropped = await applyTransition(booking, 'dropped_off', user.id, undefined, { healthCheck });
  await sendPickupCode(dropped, child?.name ?? '孩子');
  return (await ChildcareBooking.findById(booking._id))!;
}

/** The parent asks for a new pick-up code (lost message); the old one stops working. */
export async function resendPickupCode(booking: ChildcareBookingDoc): Promise<void> {
  if (booking.status === 'picked_up') throw BookingRuleError(409, 'already_picked_up', '孩子已经被接走了，取托码已失效，不需要再发送');
  if (booking.status !== 'dropped_off') throw BookingRuleError(409, 'not_dropped_off', '孩子入托后才会发送取托码');
  const child = await Child.findById(booking.child);
  await sendPickupCode(booking, child?.name ?? '孩子');
}

export interface Collector {
  name: string;
  phone: string;
}

const PickupRefusedError = (code: string, message: string) => new AppError(403, code, message);

/**
 * Hands the child over: the person collecting must be a parent or a guardian the parent
 * authorised (matched by name and phone), and give the one-time code sent to the parent. A
 * wrong code or an unauthorised person is refused, recorded on the booking, and the centre's
 * staff and the parent are alerted.
 */
export async function pickUpChild(
  _deps: ChildcareDeps,
  user: AuthUser,
  booking: ChildcareBookingDoc,
  code: string,
  collector: Collector,
  now = new Date(),
): Promise<ChildcareBookingDoc> {
  // A second pick-up is its own case (a double tap, or someone else already collected the
  // child): the desk must see that, not "not dropped off".
  if (booking.status === 'picked_up') {
    throw BookingRuleError(409, 'already_picked_up', '孩子已经被接走了，不需要再次办理；如有疑问请查看接送记录或联系托育中心');
  }
  if (booking.status !== 'dropped_off') {
    throw BookingRuleError(409, 'not_dropped_off', '孩子尚未入托登记，不能办理接走；请先在入托时完成晨检登记');
  }
  const child = (await Child.findById(booking.child))!;
  const parents = await Person.find({ _id: trusted({ $in: child.parents }) });
  const name = collector.name.trim();
  const parent = parents.find((p) => p.phone === collector.phone && p.name === name);
  const guardian = child.guardians.find((g) => g.phone === collector.phone && g.name === name
    && child.parents.some((p) => p.equals(g.authorisedBy)));
  const refuse = async (reason: 'not_authorised' | 'wrong_code', error: AppError) => {
    await ChildcareBooking.updateOne({ _id: booking._id }, { $push: { pickupRefusals: { at: now, reason, collectorName: name, by: user.person._id } } });
    await alertPickupRefused(booking, child.name, reason, name, now);
    throw error;
  };
  if (!parent && !guardian) {
    await refuse('not_authorised', PickupRefusedError('pickup_not_authorised',
      `${name}不是${child.name}的家长或家长授权的接送人，不能接走孩子；已通知托育中心负责人和家长`));
  }
  const expected = booking.pickupCodeHash ?? '';
  const given = hashCode(booking._id, code);
  if (!expected || expected.length !== given.length || !timingSafeEqual(Buffer.from(expected), Buffer.from(given))) {
    await refuse('wrong_code', PickupRefusedError('pickup_code_invalid', '取托码不正确，不能接走孩子；请家长查看短信或小程序中的取托码，已通知托育中心负责人'));
  }
  const picked = await applyTransition(booking, 'picked_up', user.id, undefined, {
    pickedUp: {
      at: now, by: user.person._id, collectorName: name,
      collectorRelation: parent ? '家长' : guardian!.relation,
    },
  });
  await ChildcareBooking.updateOne({ _id: booking._id }, { $unset: { pickupCodeHash: 1 } });
  await notify(booking.bookedFor, `childcare-booking:${booking._id}:picked-up`, 'childcare_picked_up',
    `${child.name}已于 ${hhmm(now)} 由${name}接走。`);
  return picked;
}

/** Alerts the centre's staff (and the parent) that a pick-up was refused. */
async function alertPickupRefused(booking: ChildcareBookingDoc, childName: string, reason: 'not_authorised' | 'wrong_code', collectorName: string, now: Date) {
  const staff = await Person.find({ roles: 'staff', 'staffScope.community': booking.community });
  const why = reason === 'wrong_code' ? '取托码不正确' : '来人不是家长或授权接送人';
  const at = now.getTime();
  for (const person of staff.filter((p) => !p.staffScope?.facilities?.length || p.staffScope.facilities.some((f) => f.equals(booking.centre)))) {
    await notify(person._id, `childcare-booking:${booking._id}:pickup-refused:${at}:${person._id}`, 'childcare_pickup_refused',
      `【接送异常】${hhmm(now)} 有人（自称${collectorName}）要接走${childName}（${booking.classType} ${rangeLabel(booking.start, booking.end)}），${why}，已拒绝交接，请立即核实。`);
  }
  await notify(booking.bookedFor, `childcare-booking:${booking._id}:pickup-refused:${at}`, 'childcare_pickup_refused',
    `【安全提醒】${hhmm(now)} 有人（自称${collectorName}）要接走${childName}，因${why}未能接走，孩子仍在托育中心。如非您安排，请立即联系托育中心。`);
}

/**
 * Marks confirmed bookings nobody dropped off `noShowReleaseMinutes` after the start as
 * no-shows, counts each once, and frees the place. A bounded batch for the jobs; idempotent.
 */
export async function releaseChildcareNoShows(deps: ChildcareDeps, now = new Date(), limit = 500): Promise<{ released: number }> {
  const due = await ChildcareBooking.find({
    status: 'confirmed',
    start: trusted({ $lte: new Date(now.getTime() - deps.rules.noShowReleaseMinutes * 60_000) }),
  }).sort({ start: 1 }).limit(limit);
  let released = 0;
  for (const booking of due) {
    try {
      await applyTransition(booking, 'no_show', booking.bookedFor, 'not dropped off');
    } catch (err) {
      if ((err as { status?: number }).status === 409) continue;
      throw err;
    }
    await releaseClaims(booking._id, placeKey(booking.session));
    const rules = childcareNoShowRules(deps.rules);
    const blockedUntil = await recordNoShow(booking.child, CHILDCARE_SERVICE, booking._id, rules, now);
    await refreshBooked(booking.session);
    released += 1;
    // The parent is told the place went, and of the block it starts, if any.
    const child = await Child.findById(booking.child).select('name').lean();
    await notify(booking.bookedFor, `childcare-booking:${booking._id}:no-show`, 'childcare_no_show',
      `${child?.name ?? '孩子'}${rangeLabel(booking.start, booking.end)}的托育开始 ${deps.rules.noShowReleaseMinutes} 分钟后仍未入托，`
      + '名额已释放给其他家庭，并记一次未到场。不能前来时请提前取消。', now);
    if (blockedUntil) {
      const notice = blockNotice(CHILDCARE_SERVICE, booking.child, blockedUntil, rules, '托育');
      await notify(booking.bookedFor, notice.key, 'booking_blocked', notice.text, now);
    }
  }
  return { released };
}
