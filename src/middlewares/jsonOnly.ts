import type { Context, Middleware } from 'koa';
import { BodyNotAllowedError, UnsupportedMediaTypeError } from '../errors.js';

const WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const carriesBody = (ctx: Context) => Number(ctx.get('Content-Length') || 0) > 0 || ctx.get('Transfer-Encoding') !== '';

/** A request that carries a body must carry JSON; anything else is refused before parsing. */
export function jsonOnly(): Middleware {
  return async (ctx, next) => {
    const hasBody = carriesBody(ctx);
    if (WITH_BODY.has(ctx.method) && hasBody && !ctx.is('application/json')) {
      throw UnsupportedMediaTypeError();
    }
    await next();
  };
}

/**
 * Runs after the body parser, which reads DELETE bodies too: an oversize one has been refused
 * with 413 and invalid JSON with 400 by then, and any other body is refused here, so no
 * DELETE route ever acts on a request carrying one.
 */
export function noDeleteBody(): Middleware {
  return async (ctx, next) => {
    if (ctx.method === 'DELETE' && carriesBody(ctx)) throw BodyNotAllowedError();
    await next();
  };
}
