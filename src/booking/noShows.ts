import { trusted } from 'mongoose';
import type { Types } from 'mongoose';
import { BookingBlock } from '../../models/bookingBlock.js';
import { NoShow } from '../../models/noShow.js';
import type { Config } from '../config.js';
import { BookingRuleError } from '../errors.js';
import { cachedRead } from '../cache/readCache.js';
import { batchedLoad, readAsOne } from '../cache/batch.js';
import { dayLabel } from './time.js';
import { isDuplicateKey } from '../storage/mongo.js';

type NoShowRules = Pick<Config['booking'], 'noShowLimit' | 'noShowWindowDays' | 'noShowBlockDays'>;

const blockId = (person: Types.ObjectId, service: string) => `${service}:${person}`;

/**
 * Counts a no-show (or a late cancellation) once per booking, and records until when the
 * person is now blocked, if they are. Returns that time when this no-show leaves them blocked
 * (so the caller can tell them), else null (also when it was already counted).
 */
export async function recordNoShow(
  person: Types.ObjectId,
  service: string,
  booking: Types.ObjectId,
  rules: NoShowRules,
  at = new Date(),
): Promise<Date | null> {
  try {
    await NoShow.create({ person, service, booking, at });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    return null;
  }
  const until = await blockedUntil(person, service, rules, at);
  if (until) await BookingBlock.updateOne({ _id: blockId(person, service) }, { $set: { until } }, { upsert: true });
  return until;
}

/** What a blocked person is told once per block (the key holds the end of the block). */
export function blockNotice(service: string, person: Types.ObjectId, until: Date, rules: NoShowRules, what: string) {
  return {
    key: `booking-block:${service}:${person}:${until.toISOString()}`,
    text: `近 ${rules.noShowWindowDays} 天内有 ${rules.noShowLimit} 次${what}预约未到场，${dayLabel(until)}前暂不能预约${what}；如有特殊情况请联系社区工作人员。`,
  };
}

/**
 * When a person may book this service again: `noShowLimit` no-shows within any
 * `noShowWindowDays` block booking for `noShowBlockDays` after the one that reached the
 * limit. Derived from the records each time, so there is no block state to get out of step.
 */
export async function blockedUntil(person: Types.ObjectId, service: string, rules: NoShowRules, now = new Date()): Promise<Date | null> {
  const lookback = new Date(now.getTime() - (rules.noShowWindowDays + rules.noShowBlockDays) * 86_400_000);
  const times = (await NoShow.find({ person, service, at: trusted({ $gte: lookback }) }).sort({ at: 1 }).lean()).map((n) => n.at.getTime());
  let until: number | null = null;
  for (let i = rules.noShowLimit - 1; i < times.length; i += 1) {
    if (times[i]! - times[i - rules.noShowLimit + 1]! <= rules.noShowWindowDays * 86_400_000) {
      until = Math.max(until ?? 0, times[i]! + rules.noShowBlockDays * 86_400_000);
    }
  }
  return until && until > now.getTime() ? new Date(until) : null;
}

/** The blocks asked for at the same moment, read together (src/cache/batch.ts). */
const blocksById = batchedLoad(async (ids) => {
  const found = readAsOne(ids.length)
    ? await BookingBlock.find({ _id: trusted({ $in: ids }) }).lean()
    : (await Promise.all(ids.map((id) => BookingBlock.findById(id).lean()))).filter((b) => b !== null);
  return new Map(found.map((b) => [String(b._id), b]));
});

/** Refuses a booking while the person is blocked for no-shows (one lookup by `_id`). */
export async function assertNotBlocked(person: Types.ObjectId, service: string, rules: NoShowRules, now = new Date()): Promise<void> {
  const id = blockId(person, service);
  // Asked on every booking, changed only by a no-show: cached (src/cache/readCache.ts).
  const block = await cachedRead(`block:${id}`, ['BookingBlock'], async () => (await blocksById(id)) ?? null, { shared: true });
  const until = block && block.until > now ? block.until : null;
  if (until) {
    throw BookingRuleError(403, 'booking_blocked',
      `近 ${rules.noShowWindowDays} 天内有 ${rules.noShowLimit} 次预约未到场，${dayLabel(until)}前暂不能预约；如有特殊情况请联系社区工作人员`);
  }
}
