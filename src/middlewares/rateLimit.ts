import type { Context, Middleware } from 'koa';
import type { RateClass } from '../config.js';
import { AppError, RateLimitedError } from '../errors.js';
import type { RateLimits } from '../rateLimit/limiter.js';
import { documented, RATE_LIMIT_ERRORS } from './documented.js';

/** Who a request counts against: the signed-in person, else the client address. */
export const callerKey = (ctx: Context) => (ctx.state.user ? `person:${ctx.state.user.id}` : `ip:${ctx.ip}`);

/**
 * Counts the request in `rateClass` (keyed by `key`), sets the RateLimit-* headers, and
 * refuses with 429 (and Retry-After) over the limit, or 503 when Redis is unreachable and
 * the class fails closed.
 */
export function limit(limits: RateLimits, rateClass: RateClass | ((ctx: Context) => RateClass), key: (ctx: Context) => string = callerKey): Middleware {
  return documented(async (ctx, next) => {
    const cls = typeof rateClass === 'function' ? rateClass(ctx) : rateClass;
    const decision = await limits.consume(cls, key(ctx));
    if (decision.outcome === 'limited') {
      ctx.set('RateLimit-Limit', String(decision.limit));
      ctx.set('RateLimit-Remaining', '0');
      ctx.set('RateLimit-Reset', String(decision.retryAfterSeconds));
      throw RateLimitedError(decision.retryAfterSeconds);
    }
    if (decision.outcome === 'unavailable' && decision.policy === 'closed') {
      throw new AppError(503, 'rate_limiter_unavailable', '系统繁忙，暂时无法处理，请稍后再试', undefined, { 'Retry-After': '5' });
    }
    if (decision.outcome === 'allowed') {
      ctx.set('RateLimit-Limit', String(decision.limit));
      ctx.set('RateLimit-Remaining', String(decision.remaining));
      ctx.set('RateLimit-Reset', String(decision.resetSeconds));
    }
    await next();
  }, { errors: RATE_LIMIT_ERRORS });
}
