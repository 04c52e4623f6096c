/**
 * Places of a childcare session, and who gets one when it frees. Every place is a
 * CapacityClaim under `childcare:<session>` with slot 0 … capacity-1; a booking (or a held
 * waitlist offer) owns one. Nothing here uses a guarded update for an invariant: a place is
 * taken by inserting its claim, or handed on by the one request that owns it.
 */
import { Types, trusted } from 'mongoose';
import type { Redis } from 'ioredis';
import { CapacityClaim } from '../../models/capacityClaim.js';
import { ChildcareBooking } from '../../models/childcareBooking.js';
import { ChildcareSession, type ChildcareSessionDoc } from '../../models/childcareSession.js';
import { ChildcareWaitlistEntry, type WaitlistEntryDoc, type WaitlistStatus } from '../../models/childcareWaitlist.js';
import { atShanghai, dayjs } from '../../models/calendar.js';
import { releaseClaims, transitionOnce, withClaims } from '../booking/claims.js';
import { failpoint } from '../runtime/failpoints.js';
import { claimTransition, type Transitions } from '../booking/stateMachine.js';
import { dayLabel, hhmm, rangeLabel } from '../booking/time.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { isDuplicateKey } from '../storage/mongo.js';
import { notify } from './notify.js';

/** What the childcare commands need besides their arguments. */
export interface ChildcareDeps {
  rules: Config['childcare'];
  redis: Redis;
  log?: Logger;
}

/** What the place logic reads of a session (a document, with or without its centre loaded). */
export type SessionLike = Pick<ChildcareSessionDoc, '_id' | 'capacity' | 'start' | 'end' | 'classType'>;

export const placeKey = (session: Types.ObjectId | string) => `childcare:${session}`;
export const childKey = (session: Types.ObjectId | string, child: Types.ObjectId | string) => `childcare-child:${session}:${child}`;
export const monthKey = (child: Types.ObjectId | string, month: string) => `childcare-month:${child}:${month}`;
export const seqKey = (session: Types.ObjectId | string) => `childcare:waitlist-seq:${session}`;

/** Statuses of a booking that hold (or held, for a finished session) a place. */
export const HOLDING_BOOKING = ['confirmed', 'dropped_off', 'picked_up'] as const;

export const WAITLIST_TRANSITIONS: Transitions<WaitlistStatus> = {
  waiting: ['offered', 'cancelled'],
  offered: ['accepted', 'expired', 'declined', 'cancelled', 'waiting'],
  accepted: [],
  expired: [],
  declined: [],
  cancelled: [],
};

/** 'YYYY-MM-DD' of the day before a session's date. */
export const dayBefore = (date: string) => dayjs.utc(date).subtract(1, 'day').format('YYYY-MM-DD');
/** The last moment to book a session: bookingCutoff on the day before. */
export const bookingDeadline = (rules: ChildcareDeps['rules'], date: string) => atShanghai(dayBefore(date), rules.bookingCutoff);
/** The last moment to cancel without it counting: cancelCutoff on the day before. */
export const cancelDeadline = (rules: ChildcareDeps['rules'], date: string) => atShanghai(dayBefore(date), rules.cancelCutoff);

/**
 * Until when an offer made at `now` stays open: offerMinutes from now, but never later than
 * offerCloseMinutes before the start. Null when that moment has passed: no offers then.
 */
export function offerDeadline(rules: ChildcareDeps['rules'], start: Date, now: Date): Date | null {
  const latest = start.getTime() - rules.offerCloseMinutes * 60_000;
  const deadline = Math.min(now.getTime() + rules.offerMinutes * 60_000, latest);
  return deadline > now.getTime() ? new Date(deadline) : null;
}

export const inFlightKey = (session: Types.ObjectId | string) => `childcare:waitlist-inflight:${session}`;

const SETTLE_WAIT_MS = 3_000;
const SETTLE_POLL_MS = 15;

// The ticket and its mark as "in flight" in one step: a later request must never see the
// ticket taken but not yet marked. Marks are scored by when they were taken, so one left by
// a process that died holding it stops counting after SETTLE_WAIT_MS (and is pruned here).
const TAKE_TICKET = `
local n = redis.call('INCR', KEYS[1])
redis.call('EXPIREAT', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], n)
redis.call('EXPIREAT', KEYS[2], ARGV[1])
return n`;

/**
 * The next arrival ticket of a session's line (Redis INCR: atomic across app instances). The
 * ticket stays "in flight" until settleTicket: the request has not yet booked a place or
 * joined the line, so a later arrival's position must wait for it (positionOnceSettled).
 */
export async function nextTicket(redis: Redis, session: Pick<SessionLike, '_id' | 'end'>): Promise<number> {
  const expiresAt = Math.floor(session.end.getTime() / 1000) + 30 * 86_400;
  const now = Date.now();
  return Number(await redis.eval(TAKE_TICKET, 2, seqKey(session._id), inFlightKey(session._id), String(expiresAt), String(now), String(now - SETTLE_WAIT_MS)));
}

/** The request holding `ticket` has booked, joined the line or given up. */
export async function settleTicket(redis: Redis, session: Types.ObjectId, ticket: number): Promise<void> {
  await redis.zrem(inFlightKey(session), String(ticket));
}


/**
 * The position to tell a parent who just joined the line. Counting at once is wrong in a race:
 * requests that arrived earlier (lower tickets) may not have joined yet, and four parents of a
 * 50-way race were all told "position 1". So wait (a few ms; at most SETTLE_WAIT_MS, should a
 * process die holding a ticket) until every earlier ticket has settled, then count.
 */
export async function positionOnceSettled(redis: Redis, entry: WaitlistEntryDoc): Promise<number | null> {
  const deadline = Date.now() + SETTLE_WAIT_MS;
  const earlierInFlight = async () => {
    const live = await redis.zrangebyscore(inFlightKey(entry.session), Date.now() - SETTLE_WAIT_MS, '+inf');
    return live.some((ticket) => Number(ticket) < entry.seq);
  };
  while (Date.now() < deadline && (await earlierInFlight())) {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
  }
  return waitlistPosition(entry);
}

/** Rank of an entry among those still waiting in its session (1 = next in line). */
export async function waitlistPosition(entry: WaitlistEntryDoc): Promise<number | null> {
  if (entry.status !== 'waiting') return null;
  const ahead = await ChildcareWaitlistEntry.countDocuments({ session: entry.session, status: 'waiting', seq: trusted({ $lt: entry.seq }) });
  return ahead + 1;
}

/**
 * Refreshes the session's display counter from its bookings (never used for a decision; racing
 * refreshes may leave it a step behind until the next one; the API answers with counted values).
 */
export async function refreshBooked(sessionId: Types.ObjectId): Promise<number> {
  const booked = await ChildcareBooking.countDocuments({ session: sessionId, status: trusted({ $in: [...HOLDING_BOOKING] }) });
  await ChildcareSession.updateOne({ _id: sessionId }, { $set: { booked } });
  return booked;
}

const isConflict = (err: unknown) => (err as { status?: number }).status === 409;

/**
 * Offers a held place (`claimId`, owned by `fromHolder`) to the first child in line: the entry
 * moves waiting → offered (a unique transition, so two places never go to one entry) and the
 * claim is handed to the entry's future booking id. Returns false when nobody in line could
 * take it (then the caller releases the place).
 */
async function offerHeldPlace(
  deps: ChildcareDeps,
  session: SessionLike,
  claim: { _id: Types.ObjectId; slot: number },
  fromHolder: Types.ObjectId,
  now: Date,
): Promise<boolean> {
  const deadline = offerDeadline(deps.rules, session.start, now);
  if (!deadline) return false;
  const line = await ChildcareWaitlistEntry.find({ session: session._id, status: 'waiting' }).sort({ seq: 1 }).limit(20);
  for (const entry of line) {
    // A failure half-way takes the state claim back and frees the place (the job offers it again).
    const offered = await withClaims(async (claims) => {
      let update;
      try {
        update = await claims.transition(entry, 'offered', WAITLIST_TRANSITIONS, fromHolder, 'place freed');
      } catch (err) {
        if (isConflict(err)) return false; // offered by another request a moment ago
        throw err;
      }
      await CapacityClaim.updateOne({ _id: claim._id, holder: fromHolder }, { $set: { holder: entry.booking } });
      claims.record(placeKey(session._id), entry.booking, [claim.slot]);
      failpoint('waitlist.handOver.afterPlace');
      await ChildcareWaitlistEntry.updateOne({ _id: entry._id }, { ...update, $set: { ...update.$set, offeredAt: now, offerExpiresAt: deadline } });
      claims.commit();
      return true;
    });
    if (!offered) continue;
    await notifyOffer(entry, session, deadline);
    return true;
  }
  return false;
}

async function notifyOffer(entry: WaitlistEntryDoc, session: SessionLike, deadline: Date) {
  await notify(entry.bookedFor, `childcare-waitlist:${entry._id}:offered:${entry.version + 1}`, 'childcare_waitlist_offer',
    `您候补的托育时段（${session.classType} ${rangeLabel(session.start, session.end)}）有空位了，名额为您保留到 ${dayLabel(deadline)} ${hhmm(deadline)}，请在此之前确认，逾期将顺延给下一位。`);
}

/**
 * The place `fromHolder` held in `session` is free (a cancellation, an expired or declined
 * offer). Who gets it, in order: a child booked beyond the capacity after staff reduced it
 * (the session was over its ratio: the place is absorbed), else the first in line (an offer
 * with a deadline), else nobody (the claim is deleted). The claim is handed on by updating
 * its holder: only the request that freed it touches it, so no racing request can slip into
 * the place in between.
 */
export async function handOverPlace(
  deps: ChildcareDeps,
  session: SessionLike,
  fromHolder: Types.ObjectId,
  now: Date,
): Promise<'absorbed' | 'offered' | 'released' | 'none'> {
  const key = placeKey(session._id);
  const claim = await CapacityClaim.findOne({ key, holder: fromHolder });
  if (!claim) return 'none';
  if (claim.slot < session.capacity) {
    const over = await CapacityClaim.findOne({ key, slot: trusted({ $gte: session.capacity }) }).sort({ slot: -1 });
    if (over) {
      await CapacityClaim.updateOne({ _id: claim._id, holder: fromHolder }, { $set: { holder: over.holder } });
      await CapacityClaim.deleteOne({ _id: over._id, holder: over.holder });
      return 'absorbed';
    }
    if (session.start > now && (await offerHeldPlace(deps, session, claim, fromHolder, now))) return 'offered';
  }
  await CapacityClaim.deleteOne({ _id: claim._id, holder: fromHolder });
  return 'released';
}

/**
 * Brings a session's claims in line with its capacity: a holder with two places keeps its
 * lowest; places numbered at or above the capacity (children booked before staff reduced it)
 * move into free places below it, bookings before held offers. Insert first, then delete, so a
 * booking is never without a place. Returns the offers whose place is still beyond capacity.
 */
export async function repackPlaces(session: Pick<SessionLike, '_id' | 'capacity'>): Promise<Types.ObjectId[]> {
  const key = placeKey(session._id);
  const claims = await CapacityClaim.find({ key }).sort({ slot: 1 }).lean();
  const kept = new Map<string, (typeof claims)[number]>();
  for (const c of claims) {
    if (kept.has(String(c.holder))) await CapacityClaim.deleteOne({ _id: c._id, holder: c.holder });
    else kept.set(String(c.holder), c);
  }
  const live = [...kept.values()];
  const used = new Set(live.filter((c) => c.slot < session.capacity).map((c) => c.slot));
  const free = [...Array(session.capacity).keys()].filter((s) => !used.has(s));
  const offered = new Set((await ChildcareWaitlistEntry.find({ session: session._id, status: 'offered' }).lean()).map((e) => String(e.booking)));
  const beyond = live.filter((c) => c.slot >= session.capacity)
    .sort((a, b) => Number(offered.has(String(a.holder))) - Number(offered.has(String(b.holder))) || a.slot - b.slot);
  const stillBeyond: Types.ObjectId[] = [];
  for (const c of beyond) {
    let moved = false;
    while (!moved && free.length) {
      const slot = free.shift()!;
      try {
        await CapacityClaim.create({ key, slot, holder: c.holder });
        await CapacityClaim.deleteOne({ _id: c._id, holder: c.holder });
        moved = true;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
    }
    if (!moved && offered.has(String(c.holder))) stillBeyond.push(c.holder);
  }
  return stillBeyond;
}

/**
 * Offers the free places of a session to the line, first come first served. For the jobs
 * (and after staff add carers); idempotent: with no free place or nobody waiting it changes
 * nothing. Also repacks places left beyond a reduced capacity.
 */
export async function offerFreedPlaces(deps: ChildcareDeps, sessionId: Types.ObjectId | string, now = new Date()): Promise<{ offered: number }> {
  const session = Types.ObjectId.isValid(sessionId) ? await ChildcareSession.findById(sessionId) : null;
  if (!session || session.start <= now) return { offered: 0 };
  await repackPlaces(session);
  const deadline = offerDeadline(deps.rules, session.start, now);
  if (!deadline) return { offered: 0 };
  let offered = 0;
  for (let round = 0; round < session.capacity + 20; round += 1) {
    const taken = await CapacityClaim.countDocuments({ key: placeKey(session._id), slot: trusted({ $lt: session.capacity }) });
    if (taken >= session.capacity) break;
    const entry = await ChildcareWaitlistEntry.findOne({ session: session._id, status: 'waiting' }).sort({ seq: 1 });
    if (!entry) break;
    const outcome = await withClaims(async (claims) => {
      let update;
      try {
        update = await claims.transition(entry, 'offered', WAITLIST_TRANSITIONS, entry.bookedFor, 'place free');
      } catch (err) {
        if (isConflict(err)) return 'raced' as const;
        throw err;
      }
      failpoint('waitlist.offer.afterStateClaim');
      const place = await claims.claimPlaces(placeKey(session._id), session.capacity, 1, entry.booking);
      if (!place) {
        // Taken by a racing request after all: the entry goes back in line, in the same place.
        await ChildcareWaitlistEntry.updateOne({ _id: entry._id }, update);
        claims.commit();
        const back = (await ChildcareWaitlistEntry.findById(entry._id))!;
        const undo = await claimTransition(back, 'waiting', WAITLIST_TRANSITIONS, entry.bookedFor, 'place gone');
        await ChildcareWaitlistEntry.updateOne({ _id: entry._id }, undo);
        return 'gone' as const;
      }
      failpoint('waitlist.offer.afterPlace');
      await ChildcareWaitlistEntry.updateOne({ _id: entry._id }, { ...update, $set: { ...update.$set, offeredAt: now, offerExpiresAt: deadline } });
      claims.commit();
      return 'offered' as const;
    });
    if (outcome === 'raced') continue;
    if (outcome === 'gone') break;
    await notifyOffer(entry, session, deadline);
    offered += 1;
  }
  return { offered };
}

/**
 * Ends offers not accepted by their deadline (oldest first, at most `limit`) and hands each
 * place to the next in line. For the jobs; idempotent (an entry leaves `offered` once).
 */
export async function expireWaitlistOffers(deps: ChildcareDeps, now = new Date(), limit = 200): Promise<{ expired: number; offered: number }> {
  const due = await ChildcareWaitlistEntry.find({ status: 'offered', offerExpiresAt: trusted({ $lte: now }) }).sort({ offerExpiresAt: 1 }).limit(limit);
  let expired = 0;
  let offered = 0;
  for (const entry of due) {
    try {
      await transitionOnce(entry, 'expired', WAITLIST_TRANSITIONS, entry.bookedFor, 'offer not accepted in time',
        (update) => ChildcareWaitlistEntry.updateOne({ _id: entry._id }, update));
    } catch (err) {
      if (isConflict(err)) continue; // accepted or expired by another instance
      throw err;
    }
    expired += 1;
    await releaseClaims(entry.booking, childKey(entry.session, entry.child));
    const session = await ChildcareSession.findById(entry.session);
    if (session && (await handOverPlace(deps, session, entry.booking, now)) === 'offered') offered += 1;
    await notify(entry.bookedFor, `childcare-waitlist:${entry._id}:expired`, 'childcare_waitlist_expired',
      '您的托育候补名额未在期限内确认，已顺延给下一位。如仍需要，请重新预约。');
  }
  return { expired, offered };
}

/** Withdraws an offer whose place is gone (capacity reduced): back in line, same position. */
export async function withdrawOffer(entry: WaitlistEntryDoc, by: Types.ObjectId | string): Promise<void> {
  await transitionOnce(entry, 'waiting', WAITLIST_TRANSITIONS, by, 'capacity reduced',
    (update) => ChildcareWaitlistEntry.updateOne({ _id: entry._id }, { ...update, $unset: { offeredAt: 1, offerExpiresAt: 1 } }));
  await releaseClaims(entry.booking, placeKey(entry.session));
  await notify(entry.bookedFor, `childcare-waitlist:${entry._id}:withdrawn:${entry.version + 1}`, 'childcare_waitlist_withdrawn',
    '托育班因保育人员调整减少了名额，为您保留的候补名额已取消，您仍在候补队列中，原位次不变。');
}

/**
 * offerFreedPlaces for every upcoming session with children waiting (the job's sweep: a place
 * freed in a race, or by a capacity change, reaches the line even if no cancel handed it over).
 */
export async function offerFreedPlacesEverywhere(deps: ChildcareDeps, now = new Date(), limit = 100): Promise<{ sessions: number; offered: number }> {
  const sessions = (await ChildcareWaitlistEntry.find({ status: 'waiting' }).distinct('session')).slice(0, limit);
  let offered = 0;
  for (const session of sessions) offered += (await offerFreedPlaces(deps, String(session), now)).offered;
  return { sessions: sessions.length, offered };
}
