import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Middleware } from 'koa';
import { AppError, ConflictError, ValidationError } from '../errors.js';
import { documented } from './documented.js';
import { errorBody } from './errorHandler.js';

const TTL_SECONDS = 24 * 3600;
const KEY = /^[A-Za-z0-9_.:-]{8,128}$/;

interface Stored {
  state: 'running' | 'done';
  fingerprint: string;
  status?: number;
  body?: unknown;
}

/**
 * `Idempotency-Key` for POSTs that create something: the first answer is kept in Redis for
 * 24 hours and a retry with the same key (and the same body) gets it again without doing
 * anything. A retry while the first is still running gets 409; the same key with another
 * body is refused. Keys are per user, so one client cannot replay another's answer.
 * Runs after authentication (needs ctx.state.user).
 */
export function idempotent(redis: Redis): Middleware {
  return documented(async (ctx, next) => {
    const key = ctx.get('Idempotency-Key');
    if (!key) return next();
    if (!KEY.test(key)) throw ValidationError('Idempotency-Key 格式不正确：请使用 8–128 位字母、数字或 - _ . :');
    const redisKey = `idempotency:${ctx.state.user?.id ?? 'anonymous'}:${ctx.method}:${ctx.path}:${key}`;
    const fingerprint = createHash('sha256').update(JSON.stringify((ctx.request as { body?: unknown }).body ?? {})).digest('base64url');

    const started = await redis.set(redisKey, JSON.stringify({ state: 'running', fingerprint } satisfies Stored), 'EX', TTL_SECONDS, 'NX');
    if (!started) {
      const stored = JSON.parse((await redis.get(redisKey)) ?? '{}') as Stored;
      if (stored.fingerprint !== fingerprint) {
        throw ConflictError('这个请求编号已用于另一个请求，请换一个 Idempotency-Key', 'idempotency_key_reused');
      }
      if (stored.state !== 'done') throw ConflictError('相同的请求正在处理中，请稍后查看结果', 'idempotency_in_progress');
      ctx.status = stored.status!;
      ctx.body = stored.body;
      ctx.set('Idempotent-Replayed', 'true');
      return;
    }
    try {
      await next();
    } catch (err) {
      // A refusal (4xx) is the answer and is kept like a success; after an unexpected failure
      // nothing is known to have happened, so the same key may try again.
      if (err instanceof AppError && err.status < 500) {
        const refused: Stored = { state: 'done', fingerprint, status: err.status, body: errorBody(err) };
        await redis.set(redisKey, JSON.stringify(refused), 'EX', TTL_SECONDS);
      } else {
        await redis.del(redisKey);
      }
      throw err;
    }
    const done: Stored = { state: 'done', fingerprint, status: ctx.status, body: ctx.body };
    await redis.set(redisKey, JSON.stringify(done), 'EX', TTL_SECONDS);
  }, {
    errors: {
      400: 'validation_error: the Idempotency-Key header is malformed',
      409: 'idempotency_key_reused (the key was used with another body) or idempotency_in_progress',
    },
  });
}
