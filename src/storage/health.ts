import type { Connection } from 'mongoose';
import type { Redis } from 'ioredis';

export type CheckState = 'up' | 'down';

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Whether MongoDB answers a ping now; never waits longer than `timeoutMs`. */
export async function checkMongo(conn: Connection, timeoutMs = 1_000): Promise<CheckState> {
  const db = conn.db;
  if (!db || conn.readyState !== 1) return 'down';
  try {
    await withTimeout(db.command({ ping: 1 }), timeoutMs);
    return 'up';
  } catch {
    return 'down';
  }
}

/** Whether Redis answers a PING now; a client that is reconnecting counts as down. */
export async function checkRedis(redis: Redis, timeoutMs = 1_000): Promise<CheckState> {
  if (redis.status !== 'ready') return 'down';
  try {
    return (await withTimeout(redis.ping(), timeoutMs)) === 'PONG' ? 'up' : 'down';
  } catch {
    return 'down';
  }
}
