import type { Middleware } from 'koa';

/**
 * What a middleware in a route's `before` chain adds to the operation's contract: the
 * sign-in it requires and the error statuses it can answer. The OpenAPI document reads this
 * from each route's chain (src/routes/docs/openapi.ts), so a route that gains `authenticate`
 * or a rate limit is documented with 401 / 429 without anyone writing them by hand.
 */
export interface MiddlewareDoc {
  /** The operation requires `Authorization: Bearer <access token>`. */
  bearer?: boolean;
  /** Error statuses this middleware can answer, with what they mean. */
  errors?: Record<number, string>;
}

const docs = new WeakMap<Middleware, MiddlewareDoc>();

/** Attaches `doc` to `middleware` (returned as is, so it reads inline). */
export function documented<M extends Middleware>(middleware: M, doc: MiddlewareDoc): M {
  docs.set(middleware, doc);
  return middleware;
}

export const middlewareDoc = (middleware: Middleware): MiddlewareDoc | undefined => docs.get(middleware);

/** What every rate-limited step can answer (src/middlewares/rateLimit.ts). */
export const RATE_LIMIT_ERRORS: Record<number, string> = {
  429: 'rate_limited: too many requests, with Retry-After and RateLimit-* headers',
  503: 'rate_limiter_unavailable (Redis away and the class fails closed) or storage_unavailable, with Retry-After',
};
