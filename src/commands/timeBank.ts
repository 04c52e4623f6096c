import type { Types } from 'mongoose';
import { TimeBankEntry, type TimeBankEntryDoc, type TimeBankKind } from '../../models/timeBankEntry.js';
import { BookingRuleError, ConflictError } from '../errors.js';
import { isDuplicateKey } from '../storage/mongo.js';
import { withClaims } from '../booking/claims.js';
import { failpoint } from '../runtime/failpoints.js';

/** How often a writer re-reads and retries after losing the race for the next `seq`. */
const MAX_ATTEMPTS = 200;

export const hoursLabel = (minutes: number) => `${Math.round((minutes / 60) * 100) / 100} 小时`;

/** The last entry of a volunteer's ledger (null: none yet, balance 0). */
export function lastTimeBankEntry(volunteer: Types.ObjectId) {
  return TimeBankEntry.findOne({ volunteer }).sort({ seq: -1 });
}

export async function timeBankBalance(volunteer: Types.ObjectId): Promise<number> {
  return (await lastTimeBankEntry(volunteer))?.balanceAfter ?? 0;
}

export interface TimeBankWrite {
  kind: TimeBankKind;
  /** Signed minutes. */
  minutes: number;
  reason?: string;
  assignment?: Types.ObjectId;
  service?: string;
  beneficiary?: Types.ObjectId;
  by?: Types.ObjectId | string;
}

/**
 * Appends one entry to a volunteer's ledger. The ledger is a chain: each entry takes the next
 * `seq` (unique per volunteer) and stores the balance after it. A writer reads the last entry,
 * computes the new balance (refusing one below zero), and inserts `seq + 1`; when another
 * writer got that `seq` first, the insert fails on the unique index and this one re-reads and
 * tries again. So every entry is computed from the one before it, and however many redeem at
 * once, the balance never goes below zero, with no transaction and no guarded update.
 */
export async function appendTimeBankEntry(volunteer: Types.ObjectId, write: TimeBankWrite, now = new Date()): Promise<TimeBankEntryDoc> {
  if (!Number.isInteger(write.minutes) || write.minutes === 0) throw new RangeError('a time-bank entry moves a whole, non-zero number of minutes');
  // The entry is its own claim (the unique `seq`) and its own record, written in one insert:
  // nothing is held before it, so nothing can be left behind. withClaims still answers a
  // failure that is not the user's as 503 booking_interrupted (nothing written, safe to retry).
  return withClaims(() => appendEntry(volunteer, write, now));
}

async function appendEntry(volunteer: Types.ObjectId, write: TimeBankWrite, now: Date): Promise<TimeBankEntryDoc> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const last = await lastTimeBankEntry(volunteer);
    const balance = last?.balanceAfter ?? 0;
    const balanceAfter = balance + write.minutes;
    if (balanceAfter < 0) {
      throw BookingRuleError(409, 'insufficient_balance',
        `时间银行余额不足：当前余额 ${hoursLabel(balance)}，本次需要 ${hoursLabel(-write.minutes)}`);
    }
    failpoint('timebank.append.beforeEntry');
    try {
      return await TimeBankEntry.create({ volunteer, seq: (last?.seq ?? 0) + 1, balanceAfter, at: now, ...write });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }
  throw ConflictError('时间银行正忙，请稍后重试', 'time_bank_busy');
}

/** Credits approved hours (written once per assignment: the approval is a one-time transition). */
export function earnTimeBank(volunteer: Types.ObjectId, minutes: number, assignment: Types.ObjectId, by: Types.ObjectId | string, now = new Date()) {
  return appendTimeBankEntry(volunteer, { kind: 'earned', minutes, assignment, by, reason: '志愿服务时长' }, now);
}

/** Spends hours on a service for the volunteer or a family member; refused beyond the balance. */
export function redeemTimeBank(
  volunteer: Types.ObjectId,
  req: { minutes: number; service: string; beneficiary: Types.ObjectId; note?: string },
  by: Types.ObjectId | string,
  now = new Date(),
) {
  return appendTimeBankEntry(volunteer, {
    kind: 'redeemed', minutes: -req.minutes, service: req.service, beneficiary: req.beneficiary, reason: req.note, by,
  }, now);
}

/** Staff correct a balance either way, with a reason; never below zero. */
export function adjustTimeBank(volunteer: Types.ObjectId, minutes: number, reason: string, by: Types.ObjectId | string, now = new Date()) {
  return appendTimeBankEntry(volunteer, { kind: 'adjusted', minutes, reason, by }, now);
}

/** The ledger, newest first, and the balance. */
export async function timeBankStatement(volunteer: Types.ObjectId, limit = 100) {
  const entries = await TimeBankEntry.find({ volunteer }).sort({ seq: -1 }).limit(limit);
  return { balanceMinutes: entries[0]?.balanceAfter ?? 0, entries };
}
