import type { Redis } from 'ioredis';
import { AccountLockedError, LoginUnavailableError } from '../errors.js';

export interface LockoutSettings {
  /** Wrong passwords per username before it is locked. */
  maxFailures: number;
  /** Wrong passwords per client address (over all usernames) before the address is locked. */
  maxFailuresPerAddress: number;
  lockoutMinutes: number;
}

const userKey = (subject: string) => `auth:login-attempts:user:${subject}`;
const addressKey = (address: string) => `auth:login-attempts:ip:${address}`;

/**
 * Takes one attempt for (username, address) before any password is checked. Both counters are
 * raised in one MULTI, so of any number of guesses sent at once only the first `maxFailures`
 * for a username get a password check; the rest are refused as locked. A success gives the
 * username's counter back (see `attemptSucceeded`), so only failed tries accumulate.
 *
 * Fails closed: without Redis nobody can count guesses, so nobody is let near a password.
 */
export async function takeLoginAttempt(redis: Redis, s: LockoutSettings, subject: string, address: string): Promise<void> {
  const window = s.lockoutMinutes * 60;
  let replies: Array<[Error | null, unknown]> | null;
  try {
    replies = await redis
      .multi()
      .incr(userKey(subject))
      .expire(userKey(subject), window, 'NX')
      .incr(addressKey(address))
      .expire(addressKey(address), window, 'NX')
      .ttl(userKey(subject))
      .ttl(addressKey(address))
      .exec();
  } catch {
    throw LoginUnavailableError();
  }
  if (!replies || replies.some(([err]) => err)) throw LoginUnavailableError();
  const [userTries, , addressTries, , userTtl, addressTtl] = replies.map(([, value]) => Number(value));
  if (userTries! > s.maxFailures) throw AccountLockedError(Math.max(userTtl!, 1));
  if (addressTries! > s.maxFailuresPerAddress) throw AccountLockedError(Math.max(addressTtl!, 1));
}

/** The right password: the username starts afresh and the address gets its try back. */
export async function attemptSucceeded(redis: Redis, subject: string, address: string): Promise<void> {
  await redis.multi().del(userKey(subject)).decr(addressKey(address)).exec();
}

/**
 * A wrong password. Returns the lock's length in seconds when this failure reached the limit
 * (the lock then runs from now), otherwise null.
 */
export async function attemptFailed(redis: Redis, s: LockoutSettings, subject: string): Promise<number | null> {
  const tries = Number(await redis.get(userKey(subject)));
  if (tries < s.maxFailures) return null;
  const lockSeconds = s.lockoutMinutes * 60;
  await redis.expire(userKey(subject), lockSeconds);
  return lockSeconds;
}
