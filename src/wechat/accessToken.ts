import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { WechatClient } from './client.js';

/**
 * WeChat's access token, fetched centrally and shared through Redis: every instance reads
 * `wechat:access-token`; when it is missing, about to expire or was refused by WeChat, one
 * instance (the holder of `wechat:access-token:lock`) asks the stable-token API and stores the
 * answer, while the others wait for it. So N instances make one refresh, not N (and a forced
 * refresh, which invalidates the previous token at once, happens once per refused token).
 */
export const ACCESS_TOKEN_KEY = 'wechat:access-token';
const LOCK_KEY = 'wechat:access-token:lock';
const LOCK_MS = 10_000;
const WAIT_STEP_MS = 50;
const WAIT_MS = 8_000;

export interface SharedTokenDeps {
  redis: Redis;
  wechat: WechatClient;
}

interface StoredToken {
  token: string;
  expiresAt: number;
}

export interface TokenOptions {
  /** A token WeChat just refused (40001/42001): refresh unless someone already replaced it. */
  rejected?: string;
  /** Refresh when the stored token expires within this many seconds (default 120). */
  minValiditySeconds?: number;
}

async function stored(redis: Redis): Promise<StoredToken | null> {
  const raw = await redis.get(ACCESS_TOKEN_KEY);
  return raw ? (JSON.parse(raw) as StoredToken) : null;
}

function usable(token: StoredToken | null, now: Date, opts: TokenOptions): boolean {
  if (!token || token.token === opts.rejected) return false;
  return token.expiresAt - now.getTime() > (opts.minValiditySeconds ?? 120) * 1000;
}

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** The current access token, refreshed by one instance when needed. */
export async function sharedAccessToken(deps: SharedTokenDeps, now = new Date(), opts: TokenOptions = {}): Promise<string> {
  const { redis } = deps;
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const current = await stored(redis);
    if (current && usable(current, now, opts)) return current.token;
    const lock = randomUUID();
    if (await redis.set(LOCK_KEY, lock, 'PX', LOCK_MS, 'NX')) {
      try {
        const again = await stored(redis);
        if (again && usable(again, now, opts)) return again.token;
        // Forced only when WeChat refused the very token we hold; otherwise the stable token API
        // hands out the same token until it expires, which is what the other instances hold.
        const force = opts.rejected !== undefined && again?.token === opts.rejected;
        const { accessToken, expiresIn } = await deps.wechat.getStableAccessToken(force);
        const value: StoredToken = { token: accessToken, expiresAt: now.getTime() + expiresIn * 1000 };
        await redis.set(ACCESS_TOKEN_KEY, JSON.stringify(value), 'PX', Math.max(expiresIn * 1000, 1000));
        return accessToken;
      } finally {
        await redis.eval(RELEASE, 1, LOCK_KEY, lock).catch(() => undefined);
      }
    }
    if (Date.now() > deadline) throw new Error('the WeChat access token was not refreshed in time by the instance holding the lock');
    await delay(WAIT_STEP_MS);
  }
}

/** The scheduled refresh: renews the shared token when it expires within `aheadSeconds`. */
export async function refreshSharedAccessToken(deps: SharedTokenDeps, now = new Date(), aheadSeconds = 900) {
  const before = await stored(deps.redis);
  await sharedAccessToken(deps, now, { minValiditySeconds: aheadSeconds });
  const after = await stored(deps.redis);
  return { refreshed: before && after && before.token === after.token && before.expiresAt === after.expiresAt ? 0 : 1 };
}
