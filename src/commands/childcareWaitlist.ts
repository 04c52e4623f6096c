import { Types } from 'mongoose';
import { CapacityClaim } from '../../models/capacityClaim.js';
import { Child } from '../../models/child.js';
import { ChildcareBooking, type ChildcareBookingDoc } from '../../models/childcareBooking.js';
import { ChildcareSession } from '../../models/childcareSession.js';
import { ChildcareWaitlistEntry, type WaitlistEntryDoc } from '../../models/childcareWaitlist.js';
import type { AuthUser } from '../auth/user.js';
import { releaseClaims, transitionOnce, withClaims } from '../booking/claims.js';
import { failpoint } from '../runtime/failpoints.js';
import { assertNotBlocked } from '../booking/noShows.js';
import { BookingRuleError, NotFoundError } from '../errors.js';
import { CHILDCARE_SERVICE, childcareNoShowRules, type HealthDeclaration } from './childcareBookings.js';
import {
  WAITLIST_TRANSITIONS, childKey, handOverPlace, monthKey, placeKey, refreshBooked, type ChildcareDeps,
} from './childcarePlaces.js';
import { markDaysChanged } from './dailyFigures.js';
import { childcareBookingListed } from './childcareBookingList.js';

export async function findWaitlistEntry(id: string): Promise<WaitlistEntryDoc> {
  const entry = Types.ObjectId.isValid(id) ? await ChildcareWaitlistEntry.findById(id) : null;
  if (!entry) throw NotFoundError('没有找到这条候补记录');
  return entry;
}

/** A parent's line entries, newest session first. */
export function listWaitlistEntries(parent: Types.ObjectId, limit = 50) {
  return ChildcareWaitlistEntry.find({ bookedFor: parent }).sort({ start: -1 }).limit(limit);
}

const OfferExpiredError = () => BookingRuleError(409, 'offer_expired', '候补名额的确认期限已过，名额已顺延给下一位；如仍需要，请重新预约');

/**
 * The parent takes the place held for them: before the offer's deadline, with a fresh health
 * declaration, within the monthly cap and not blocked. The place and the one-per-child claim
 * are already held under the booking's id, so the booking keeps them as they are.
 */
export async function acceptWaitlistOffer(
  deps: ChildcareDeps,
  user: AuthUser,
  entry: WaitlistEntryDoc,
  declaration: HealthDeclaration,
  now = new Date(),
): Promise<ChildcareBookingDoc> {
  if (entry.status !== 'offered') {
    if (entry.status === 'expired') throw OfferExpiredError();
    throw BookingRuleError(409, 'no_offer', entry.status === 'waiting' ? '还没有轮到您，有空位时会通知您' : '这条候补记录已结束');
  }
  if (entry.offerExpiresAt && now > entry.offerExpiresAt) throw OfferExpiredError();
  if (!declaration.healthy) {
    throw BookingRuleError(400, 'health_declaration_required',
      '入托需家长确认孩子近 24 小时无发热、腹泻、皮疹等症状且未接触传染病人；孩子身体不适时请在家休息');
  }
  await assertNotBlocked(entry.child, CHILDCARE_SERVICE, childcareNoShowRules(deps.rules), now);
  const session = await ChildcareSession.findById(entry.session);
  const child = await Child.findById(entry.child);
  if (!session || !child) throw NotFoundError('没有找到这个托育时段');
  const id = entry.booking;
  const month = session.date.slice(0, 7);
  // The entry's place and one-per-child claim are the offer's (held under `id` already) and stay
  // on any failure: the offer still stands and the parent may accept again.
  // Before the insert: the parent's and the child's lists may then read a month too many, never miss one.
  await childcareBookingListed({ bookedFor: entry.bookedFor, child: child._id, month });
  const { booking, update } = await withClaims(async (claims) => {
    if (!(await claims.claimPlaces(monthKey(child._id, month), deps.rules.monthlyLimit, 1, id))) {
      throw BookingRuleError(409, 'monthly_limit_reached', `${child.name}本月的托育预约已达 ${deps.rules.monthlyLimit} 次上限，不能确认这个候补名额；可以放弃名额让给下一位`);
    }
    failpoint('waitlist.accept.afterMonth');
    if (!(await CapacityClaim.exists({ key: placeKey(session._id), holder: id }))) throw OfferExpiredError();
    const won = await claims.transition(entry, 'accepted', WAITLIST_TRANSITIONS, user.id);
    failpoint('waitlist.accept.afterStateClaim');
    const created = await ChildcareBooking.create({
      _id: id, session: session._id, centre: entry.centre, community: entry.community, child: child._id,
      bookedFor: entry.bookedFor, bookedBy: user.person._id, date: session.date, start: session.start, end: session.end,
      classType: session.classType, month, fromWaitlist: entry._id, status: 'confirmed',
      healthDeclaration: { ...declaration, declaredAt: now, declaredBy: user.person._id },
      history: [{ from: null, to: 'confirmed', at: now, by: user.person._id, reason: 'waitlist offer accepted' }],
    });
    claims.commit();
    return { booking: created, update: won };
  });
  await ChildcareWaitlistEntry.updateOne({ _id: entry._id }, update);
  await markDaysChanged(booking.community, booking.date);
  await refreshBooked(session._id);
  return booking;
}

/**
 * The parent leaves the line (waiting → cancelled) or turns an offer down (offered →
 * declined: the held place goes to the next in line at once).
 */
export async function leaveWaitlist(deps: ChildcareDeps, user: AuthUser, entry: WaitlistEntryDoc, now = new Date()): Promise<WaitlistEntryDoc> {
  const to = entry.status === 'offered' ? 'declined' : 'cancelled';
  await transitionOnce(entry, to, WAITLIST_TRANSITIONS, user.id, undefined, (update) => ChildcareWaitlistEntry.updateOne({ _id: entry._id }, update));
  await releaseClaims(entry.booking, childKey(entry.session, entry.child));
  if (to === 'declined') {
    const session = await ChildcareSession.findById(entry.session);
    if (session) await handOverPlace(deps, session, entry.booking, now);
  }
  return (await ChildcareWaitlistEntry.findById(entry._id))!;
}
