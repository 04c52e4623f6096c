import type { Redis } from 'ioredis';
import type { WechatStandIn } from '../../src/wechat/index.js';
import { RATE_CLASSES, loadConfig, type Config } from '../../src/config.js';

/** What the global setup provisioned; read by helpers once the hooks have run. */
export interface TestEnvironment {
  mongoUri: string;
  dbName: string;
  redisUrl: string;
  keyPrefix: string;
  /** The shared client of the test run (already prefixed). */
  redis: Redis;
  /** The local server answering like WeChat; tests reset it as they need. */
  wechatStandIn: WechatStandIn;
}

let current: TestEnvironment | undefined;

/** Known to the tests so they can assert it never appears in a response or a log line. */
export const TEST_JWT_SECRET = 'test-jwt-secret-0123456789abcdef0123456789';

export function setTestEnvironment(env: TestEnvironment | undefined): void {
  current = env;
}

export function testEnvironment(): TestEnvironment {
  if (!current) throw new Error('test environment not ready: is test/support/hooks.ts loaded (see .mocharc.json)?');
  return current;
}

/** A validated Config pointing at the test servers; `overrides` are environment variables. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  const env = testEnvironment();
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    MONGODB_URI: env.mongoUri,
    MONGODB_DB: env.dbName,
    REDIS_URL: env.redisUrl,
    REDIS_KEY_PREFIX: env.keyPrefix,
    SEED_DEMO: 'false',
    JWT_SECRET: TEST_JWT_SECRET,
    WECHAT_STAND_IN: 'false',
    // Generous limits, so tests that are not about rate limiting never meet one.
    ...Object.fromEntries(RATE_CLASSES.map((c) => [`RATE_LIMIT_${c.toUpperCase()}`, '100000/60'])),
    ...overrides,
  });
}
