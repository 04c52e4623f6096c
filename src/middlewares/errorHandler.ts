import type { Middleware } from 'koa';
import {
  AppError,
  InternalError,
  InvalidJsonError,
  PayloadTooLargeError,
  RouteNotFoundError,
  UnsupportedMediaTypeError,
  ValidationError,
  ConflictError,
  MethodNotAllowedError,
  StorageUnavailableError,
  RedisUnavailableError,
} from '../errors.js';

interface ErrorLike {
  status?: number;
  statusCode?: number;
  type?: string;
  name?: string;
  code?: number | string;
  expose?: boolean;
}

// What the MongoDB driver and mongoose throw when no server answers (not a refused operation).
const UNREACHABLE = new Set([
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
]);

/** The database could not be reached (the error or one of its causes says so). */
export function storageUnreachable(err: unknown): boolean {
  for (let e = err as { name?: string; message?: string; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth += 1) {
    if (e.name && UNREACHABLE.has(e.name)) return true;
    if (e.name === 'MongooseError' && /before initial connection is complete|buffering timed out|Connection was force closed/.test(e.message ?? '')) return true;
  }
  return false;
}

/**
 * ioredis gave up on a command: Redis is unreachable (retries used up, connection closed). A
 * write that needed Redis refuses with 503 redis_unavailable instead of a 500; reads with a
 * database source do not get here (they fall back to MongoDB).
 */
function redisUnreachable(err: unknown): boolean {
  const e = err as { name?: string; message?: string } | undefined;
  return e?.name === 'MaxRetriesPerRequestError' || e?.message === 'Connection is closed.' || /^Stream isn't writeable/.test(e?.message ?? '');
}

/** Turns what libraries throw into our named errors; anything unknown is a 500. */
function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = (err ?? {}) as ErrorLike;
  const status = e.status ?? e.statusCode;
  if (e.type === 'entity.parse.failed' || e.name === 'SyntaxError' && status === 400) return InvalidJsonError();
  if (e.type === 'entity.too.large' || status === 413) return PayloadTooLargeError();
  if (status === 415) return UnsupportedMediaTypeError();
  if (e.name === 'CastError' || e.name === 'ValidationError') return ValidationError();
  if (e.code === 11000) return ConflictError();
  if (storageUnreachable(err)) return StorageUnavailableError();
  if (redisUnreachable(err)) return RedisUnavailableError();
  if (status === 404) return RouteNotFoundError();
  if (status && status >= 400 && status < 500 && e.expose) return new AppError(status, 'bad_request', '请求有误，请检查后重试');
  return InternalError();
}

/** The body every error response has. */
export function errorBody(appError: AppError) {
  return {
    error: {
      code: appError.code,
      message: appError.message,
      ...(appError.details ? { details: appError.details } : {}),
    },
  };
}

/**
 * The one place errors become responses: `{ error: { code, message, details? } }`, with the
 * status and headers the error names. Unexpected errors are logged with their stack and
 * shown to the client only as a generic Chinese message.
 */
export function errorHandler(): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.body === undefined || ctx.body === null) {
        if (ctx.status === 404) throw RouteNotFoundError();
        if (ctx.status === 405) throw MethodNotAllowedError(ctx.response.get('Allow').split(/,\s*/));
      }
    } catch (err) {
      const appError = toAppError(err);
      if (appError.status >= 500) {
        ctx.state.log?.error({ err }, 'unhandled error');
      }
      ctx.status = appError.status;
      for (const [name, value] of Object.entries(appError.headers ?? {})) ctx.set(name, value);
      ctx.body = errorBody(appError);
    }
  };
}
