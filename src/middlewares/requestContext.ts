import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from '../logger.js';

declare module 'koa' {
  interface DefaultState {
    requestId: string;
    log: Logger;
  }
}

const CLIENT_ID = /^[A-Za-z0-9._-]{8,64}$/;

/**
 * Gives each request an id (the caller's X-Request-Id when it looks like one) and a child
 * logger carrying it, and logs one line per request when it ends. The line holds the
 * route pattern, never the raw URL: query strings can carry phones or names.
 */
export function requestContext(logger: Logger): Middleware {
  return async (ctx, next) => {
    const given = ctx.get('X-Request-Id');
    const requestId = CLIENT_ID.test(given) ? given : randomUUID();
    ctx.state.requestId = requestId;
    ctx.state.log = logger.child({ reqId: requestId });
    ctx.set('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const route = (ctx as unknown as { _matchedRoute?: string })._matchedRoute ?? '(unmatched)';
      ctx.state.log.info(
        {
          method: ctx.method,
          route,
          status: ctx.status,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
        },
        'request',
      );
    }
  };
}
