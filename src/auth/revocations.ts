import { trusted } from 'mongoose';
import type { Redis } from 'ioredis';
import { RefreshToken } from '../../models/refreshToken.js';
import { StorageUnavailableError } from '../errors.js';

/**
 * Which sign-in sessions have ended, for access-token checks. MongoDB holds the truth (the
 * session's refresh tokens are marked revoked); Redis holds the fast copy, `auth:revoked-family:*`,
 * for as long as an access token can live. The copy is trusted only while this process has
 * seen Redis stay up since it last rebuilt the copy and the completeness marker is present: a
 * Redis that restarted empty, was flushed or was unreachable when a sign-out happened is
 * rebuilt from MongoDB, and MongoDB answers meanwhile.
 */
const revokedKey = (family: string) => `auth:revoked-family:${family}`;
const COMPLETE_KEY = 'auth:revoked-families-complete';

interface IndexState {
  /** The copy was rebuilt since Redis last became ready. */
  trusted: boolean;
  rebuilding?: Promise<void>;
}
const states = new WeakMap<Redis, IndexState>();

function stateOf(redis: Redis, ttlSeconds: number): IndexState {
  let state = states.get(redis);
  if (!state) {
    const created: IndexState = { trusted: false };
    states.set(redis, created);
    redis.on('close', () => {
      created.trusted = false;
    });
    redis.on('ready', () => {
      created.trusted = false;
      void rebuildRevocations(redis, ttlSeconds).catch(() => undefined);
    });
    state = created;
  }
  return state;
}

/** Records a revoked session in Redis; best effort, since MongoDB already holds it. */
export async function rememberRevoked(redis: Redis, family: string, ttlSeconds: number): Promise<void> {
  try {
    await redis.set(revokedKey(family), '1', 'EX', ttlSeconds);
  } catch {
    // Redis did not take it: the copy is no longer complete, so it is rebuilt before it is used.
    stateOf(redis, ttlSeconds).trusted = false;
    await redis.del(COMPLETE_KEY).catch(() => undefined);
  }
}

/** Copies the sessions revoked within the last `ttlSeconds` from MongoDB into Redis. */
export function rebuildRevocations(redis: Redis, ttlSeconds: number): Promise<void> {
  const state = stateOf(redis, ttlSeconds);
  state.rebuilding ??= (async () => {
    try {
      const since = new Date(Date.now() - ttlSeconds * 1000);
      const revoked = await RefreshToken.find({ status: 'revoked', revokedAt: trusted({ $gte: since }) }, { family: 1, revokedAt: 1 }).lean();
      const pipeline = redis.multi();
      for (const token of revoked) {
        const left = Math.ceil((token.revokedAt!.getTime() + ttlSeconds * 1000 - Date.now()) / 1000);
        if (left > 0) pipeline.set(revokedKey(token.family), '1', 'EX', left);
      }
      pipeline.set(COMPLETE_KEY, '1');
      await pipeline.exec();
      state.trusted = true;
    } finally {
      state.rebuilding = undefined;
    }
  })();
  return state.rebuilding;
}

/**
 * Whether the session `family` has been ended. Fails closed: when neither a trusted Redis copy
 * nor MongoDB can answer, the request is refused with 503 rather than let a revoked token in.
 */
export async function isRevoked(redis: Redis, family: string, ttlSeconds: number): Promise<boolean> {
  const state = stateOf(redis, ttlSeconds);
  if (redis.status === 'ready') {
    if (state.trusted) {
      try {
        const replies = await redis.multi().exists(COMPLETE_KEY).exists(revokedKey(family)).exec();
        if (replies && !replies.some(([err]) => err)) {
          const [[, complete], [, revoked]] = replies as Array<[null, number]>;
          if (complete === 1) return revoked === 1;
          state.trusted = false;
        }
      } catch {
        state.trusted = false;
      }
    }
    if (!state.trusted) void rebuildRevocations(redis, ttlSeconds).catch(() => undefined);
  }
  try {
    return (await RefreshToken.exists({ family, status: 'revoked' })) !== null;
  } catch {
    throw StorageUnavailableError();
  }
}
