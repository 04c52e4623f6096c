import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Types } from 'mongoose';
import { monthOf } from '../../models/notification.js';

/**
 * A Redis read model of how many messages a person was told, and how many of those are marked
 * read, per *settled* month: a month over for more than a day, so every message of it is due and
 * no write in flight at its end can still land in it. `GET /me/notifications` counts the unread
 * of the retained months it does not show from here, so its cost is the months it shows, not the
 * 90-day retention window (issue 17).
 *
 * One hash per person, `inbox:<person>`: field `<YYYY-MM>` = `<told>:<marked>`, and `gen:<YYYY-MM>`,
 * a token every write into that month replaces. A reader notes the token before counting in the
 * database and stores its tally only if the token is unchanged (one script), so a tally counted
 * before a write never lands after it; the writer also deletes the month's tally. Random tokens,
 * not counters (as in src/cache/readCache.ts): after Redis lost its data, a token a reader noted
 * before can never match again. Writers into a closed month: notify() with a due time in a past
 * month (rare), and read marks of older messages. The retention deletes whole months that have
 * left the window, which no reader asks for.
 *
 * Rebuilds itself: a missing tally is counted (two `{person, month}` counts) and stored; the hash
 * expires TALLY_KEEP_SECONDS after it was made (stores do not extend it), so a tally gone wrong (a
 * write whose forgetting Redis missed while away) lasts at most that long. Redis away: everything
 * is counted live.
 */
export const TALLY_KEEP_SECONDS = 7 * 86_400;

/** How long after its end a month counts as settled (covers writes in flight and clock skew between instances). */
const SETTLE_MS = 86_400_000;

export interface MonthTally {
  told: number;
  marked: number;
}

/** What a reader found: the settled months' tallies, and the tokens it must store against. */
export interface InboxTallies {
  tallies: Map<string, MonthTally>;
  gens: Map<string, string>;
}

const keyOf = (person: Types.ObjectId | string) => `inbox:${String(person)}`;

/** Whether `month` is settled at `now`: its tally may be stored, and will be kept right by writers. */
export function isSettled(month: string, now: Date): boolean {
  return month < monthOf(new Date(now.getTime() - SETTLE_MS));
}

/** The stored tally of `month` if it is settled at `now` and `seen` holds one, else undefined (count it). */
export function settledTally(seen: InboxTallies | null, month: string, now: Date): MonthTally | undefined {
  return isSettled(month, now) ? seen?.tallies.get(month) : undefined;
}

/**
 * Whether `month` is over by the clock (or by `now`, when later: forgetting too much only costs
 * a count): a write into it must forget its tally. Stricter than isSettled, by a day.
 */
export function isOver(month: string, now = new Date()): boolean {
  return month < monthOf(new Date(Math.max(now.getTime(), Date.now())));
}

/** Stores a tally only if the month's token is what the reader saw before counting. */
const STORE = `
local gen = redis.call('HGET', KEYS[1], 'gen:' .. ARGV[1]) or ''
if gen ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[4]) end
return 1
`;

/** Replaces each month's token and deletes its tally (after the write into it has landed). */
const FORGET = `
for i = 3, #ARGV do
  redis.call('HSET', KEYS[1], 'gen:' .. ARGV[i], ARGV[2])
  redis.call('HDEL', KEYS[1], ARGV[i])
end
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return 1
`;

/** The person's stored tallies, or null when Redis cannot answer (the caller counts live). */
export async function readInboxTallies(redis: Redis | null | undefined, person: Types.ObjectId): Promise<InboxTallies | null> {
  if (!redis || redis.status !== 'ready') return null;
  try {
    const hash = await redis.hgetall(keyOf(person));
    const found: InboxTallies = { tallies: new Map(), gens: new Map() };
    for (const [field, value] of Object.entries(hash)) {
      if (field.startsWith('gen:')) {
        found.gens.set(field.slice(4), value);
        continue;
      }
      const [told, marked] = value.split(':').map(Number);
      if (Number.isInteger(told) && Number.isInteger(marked)) found.tallies.set(field, { told: told!, marked: marked! });
    }
    return found;
  } catch {
    return null;
  }
}

/** Stores a settled month's tally counted after `seen` was read; refused if a write came between. */
export async function storeInboxTally(redis: Redis, person: Types.ObjectId, month: string, seen: InboxTallies, tally: MonthTally): Promise<void> {
  const gen = seen.gens.get(month) ?? '';
  await redis.eval(STORE, 1, keyOf(person), month, gen, `${tally.told}:${tally.marked}`, String(TALLY_KEEP_SECONDS)).catch(() => undefined);
}

/**
 * After a write into the person's messages of `months` has landed: the tallies of those that are
 * over are counted afresh. A month still running is never stored, so it needs nothing. Never
 * throws: the write has landed, and a tally Redis failed to forget expires in TALLY_KEEP_SECONDS.
 */
export async function forgetInboxTallies(redis: Redis | null | undefined, person: Types.ObjectId, months: Iterable<string>, now = new Date()): Promise<void> {
  const over = [...new Set(months)].filter((m) => isOver(m, now));
  if (!over.length || !redis || redis.status !== 'ready') return;
  await redis.eval(FORGET, 1, keyOf(person), String(TALLY_KEEP_SECONDS), randomUUID(), ...over).catch(() => undefined);
}
