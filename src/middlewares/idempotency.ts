import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Middleware } from 'koa';
import type mongoose from 'mongoose';
import { IdempotencyRecord, type IdempotencyRecordFields } from '../../models/idempotencyRecord.js';
import { AppError, ConflictError, IdempotencyInProgressError, ValidationError } from '../errors.js';
import { documented } from './documented.js';
import { errorBody } from './errorHandler.js';

const ANSWER_TTL_SECONDS = 24 * 3600;
/** How long a started request holds its key; after that (a crashed instance) a retry takes over. */
export const LEASE_SECONDS = 60;
const IN_PROGRESS_RETRY_SECONDS = 2;
const KEY = /^[A-Za-z0-9_.:-]{8,128}$/;

interface Answer {
  fingerprint: string;
  status: number;
  /** The body as JSON text. */
  body: string;
}

const records = () => IdempotencyRecord.collection as unknown as mongoose.mongo.Collection<IdempotencyRecordFields>;
const redisKey = (hash: string) => `idempotency:v2:${hash}`;
const isDuplicate = (err: unknown) => (err as { code?: number }).code === 11000;

/** A 4xx refusal is the request's answer and is kept; a 429 or a 5xx changed nothing and may be retried. */
const keepsRefusal = (err: unknown): err is AppError => err instanceof AppError && err.status < 500 && err.status !== 429;

/**
 * `Idempotency-Key` for POSTs that create something. The outcome lives in MongoDB, Redis is
 * only the fast path, so it never depends on Redis staying up after the write:
 *
 * 1. a copy of the answer in Redis is replayed at once (no database read);
 * 2. otherwise the request inserts its lease `<hash>` (IdempotencyRecord); the insert that
 *    wins runs the handler, the others find the answer `<hash>#answer` and replay it, or
 *    answer 409 idempotency_in_progress while the lease lasts (safe to retry);
 * 3. the answer (a success, or a 4xx refusal) is inserted into MongoDB *before* the client is
 *    answered, then copied to Redis best effort: if Redis died between the write and the
 *    answer, the client still gets its answer and a retry finds it in MongoDB;
 * 4. after a 5xx or a 429 nothing is known to have changed (the commands give their claims
 *    back), so the lease is deleted and the retry runs.
 *
 * Keys are per user, method and path, so one client cannot replay another's answer; the same
 * key with another body is refused. Runs after authentication (needs ctx.state.user).
 */
export function idempotent(redis: Redis): Middleware {
  return documented(async (ctx, next) => {
    const key = ctx.get('Idempotency-Key');
    if (!key) return next();
    if (!KEY.test(key)) throw ValidationError('Idempotency-Key 格式不正确：请使用 8–128 位字母、数字或 - _ . :');
    const hash = createHash('sha256').update(`${ctx.state.user?.id ?? 'anonymous'}\n${ctx.method}\n${ctx.path}\n${key}`).digest('base64url');
    const fingerprint = createHash('sha256').update(JSON.stringify((ctx.request as { body?: unknown }).body ?? {})).digest('base64url');

    const fast = await fromRedis(redis, hash);
    if (fast) return replay(ctx, fast, fingerprint);

    const taken = await takeLease(hash, fingerprint, new Date());
    if ('answer' in taken) return replay(ctx, taken.answer, fingerprint);
    // Usually the first request answers within a second; a crashed one's lease runs out in LEASE_SECONDS.
    if (!taken.leaseUntil) throw IdempotencyInProgressError(IN_PROGRESS_RETRY_SECONDS);
    const { leaseUntil } = taken;

    let answer: Answer;
    try {
      await next();
      answer = { fingerprint, status: ctx.status, body: JSON.stringify(ctx.body ?? null) };
    } catch (err) {
      if (!keepsRefusal(err)) {
        // Nothing is known to have changed: free the key so the retry runs (if this delete
        // fails too, the lease simply runs out after LEASE_SECONDS).
        await records().deleteOne({ _id: hash, leaseUntil }).catch(() => undefined);
        throw err;
      }
      await store(redis, hash, { fingerprint, status: err.status, body: JSON.stringify(errorBody(err)) });
      throw err;
    }
    await store(redis, hash, answer);
  }, {
    errors: {
      400: 'validation_error: the Idempotency-Key header is malformed',
      409: 'idempotency_key_reused (the key was used with another body) or idempotency_in_progress',
    },
  });
}

/** The answer Redis holds for this key, or null (also when Redis cannot answer). */
async function fromRedis(redis: Redis, hash: string): Promise<Answer | null> {
  if (redis.status !== 'ready') return null;
  try {
    const raw = await redis.get(redisKey(hash));
    return raw ? (JSON.parse(raw) as Answer) : null;
  } catch {
    return null;
  }
}

/**
 * Inserts the lease, or finds the answer of the request that holds the key, or takes over a
 * lease that ran out with a guarded update (of racing takers one matches the old expiry).
 * `leaseUntil: null`: another request holds the key and has not answered yet.
 */
async function takeLease(hash: string, fingerprint: string, now: Date, attempt = 1): Promise<{ leaseUntil: Date | null } | { answer: Answer }> {
  const leaseUntil = new Date(now.getTime() + LEASE_SECONDS * 1000);
  try {
    await records().insertOne({ _id: hash, kind: 'lease', fingerprint, leaseUntil, createdAt: now } satisfies IdempotencyRecordFields);
    return { leaseUntil };
  } catch (err) {
    if (!isDuplicate(err)) throw err;
  }
  // The answer first: a retry after Redis lost its copy costs one read.
  const answer = await records().findOne({ _id: `${hash}#answer` });
  if (answer) return { answer: { fingerprint: answer.fingerprint, status: answer.status!, body: answer.body! } };
  const lease = await records().findOne({ _id: hash });
  // Released meanwhile (its request failed): try again, a few times at most.
  if (!lease) return attempt < 3 ? takeLease(hash, fingerprint, now, attempt + 1) : { leaseUntil: null };
  if (lease.fingerprint !== fingerprint) {
    throw ConflictError('这个请求编号已用于另一个请求，请换一个 Idempotency-Key', 'idempotency_key_reused');
  }
  if (lease.leaseUntil && lease.leaseUntil > now) return { leaseUntil: null };
  // Past its lease and unanswered: the instance that held it crashed or lost the database.
  const renewed = await records().updateOne({ _id: hash, leaseUntil: lease.leaseUntil }, { $set: { leaseUntil } });
  return { leaseUntil: renewed.modifiedCount === 1 ? leaseUntil : null };
}

/** The answer into MongoDB (the guarantee), then into Redis (the fast path, best effort). */
async function store(redis: Redis, hash: string, answer: Answer): Promise<void> {
  try {
    await records().insertOne({ _id: `${hash}#answer`, kind: 'answer', ...answer, createdAt: new Date() } satisfies IdempotencyRecordFields);
  } catch (err) {
    if (!isDuplicate(err)) throw err;
  }
  // Not awaited: the answer is safe already, and a Redis that is going away must not delay it.
  if (redis.status === 'ready') redis.set(redisKey(hash), JSON.stringify(answer), 'EX', ANSWER_TTL_SECONDS).catch(() => undefined);
}

function replay(ctx: Parameters<Middleware>[0], answer: Answer, fingerprint: string): void {
  if (answer.fingerprint !== fingerprint) {
    throw ConflictError('这个请求编号已用于另一个请求，请换一个 Idempotency-Key', 'idempotency_key_reused');
  }
  ctx.status = answer.status;
  ctx.body = JSON.parse(answer.body);
  ctx.set('Idempotent-Replayed', 'true');
}
