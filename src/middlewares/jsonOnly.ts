import type { Middleware } from 'koa';
import { UnsupportedMediaTypeError } from '../errors.js';

const WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A request that carries a body must carry JSON; anything else is refused before parsing. */
export function jsonOnly(): Middleware {
  return async (ctx, next) => {
    const hasBody = Number(ctx.get('Content-Length') || 0) > 0 || ctx.get('Transfer-Encoding') !== '';
    if (WITH_BODY.has(ctx.method) && hasBody && !ctx.is('application/json')) {
      throw UnsupportedMediaTypeError();
    }
    await next();
  };
}
