import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config, RateClass } from '../config.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';

export type RateDecision =
  | { outcome: 'allowed'; limit: number; remaining: number; resetSeconds: number }
  | { outcome: 'limited'; limit: number; retryAfterSeconds: number }
  /** Redis could not be asked; the class's policy decides (open: let through, closed: refuse). */
  | { outcome: 'unavailable'; policy: 'open' | 'closed' };

/** The Redis key of a rate class's counter for `key` (rate-limiter-flexible's `<keyPrefix>:<key>`). */
export const rateLimitKey = (rateClass: RateClass, key: string): string => `rate:${rateClass}:${key}`;

export interface RateLimits {
  consume(rateClass: RateClass, key: string): Promise<RateDecision>;
}

/**
 * Fixed-window counters in Redis (rate-limiter-flexible), shared by every app instance. While
 * Redis is unreachable the answer comes at once (no waiting on a dead socket): reads fail
 * open, and the classes in RATE_LIMIT_FAIL_CLOSED fail closed. Recovery needs no restart:
 * the next call after ioredis reconnects asks Redis again.
 */
export function createRateLimits(redis: Redis, config: Config['rateLimits'], metrics: Metrics, log: Logger): RateLimits {
  const limiters = new Map<RateClass, RateLimiterRedis>();
  const limiterFor = (c: RateClass) => {
    let limiter = limiters.get(c);
    if (!limiter) {
      const { points, durationSeconds } = config.classes[c];
      limiter = new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: rateLimitKey(c, '').slice(0, -1),
        points,
        duration: durationSeconds,
        rejectIfRedisNotReady: true,
      });
      limiters.set(c, limiter);
    }
    return limiter;
  };
  let lastOutageLog = 0;

  return {
    async consume(rateClass, key) {
      const { points } = config.classes[rateClass];
      if (!config.enabled) return { outcome: 'allowed', limit: points, remaining: points, resetSeconds: 0 };
      try {
        const res = await limiterFor(rateClass).consume(key, 1);
        return { outcome: 'allowed', limit: points, remaining: res.remainingPoints, resetSeconds: Math.ceil(res.msBeforeNext / 1000) };
      } catch (err) {
        if (err instanceof RateLimiterRes) {
          metrics.rateLimited.inc({ class: rateClass });
          return { outcome: 'limited', limit: points, retryAfterSeconds: Math.max(1, Math.ceil(err.msBeforeNext / 1000)) };
        }
        const policy = config.failClosed.includes(rateClass) ? 'closed' : 'open';
        metrics.limiterUnavailable.inc({ class: rateClass, policy });
        if (Date.now() - lastOutageLog > 10_000) {
          lastOutageLog = Date.now();
          log.warn({ rateClass, policy, err: { message: (err as Error).message } }, 'rate limiter cannot reach Redis');
        }
        return { outcome: 'unavailable', policy };
      }
    },
  };
}
