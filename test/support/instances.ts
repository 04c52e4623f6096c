import type { Redis } from 'ioredis';
import mongoose from 'mongoose';
import type { JobDeps } from '../../jobs/index.js';
import type { Config } from '../../src/config.js';
import type { Channel, Channels, SendOutcome } from '../../src/outbox/channels.js';
import type { OutboxMessage } from '../../src/outbox/index.js';
import { connectRedis, createRedis } from '../../src/storage/redis.js';
import { WechatClient } from '../../src/wechat/index.js';
import { testConfig, testEnvironment } from './env.js';
import { createTestLogger } from './logs.js';

/** One simulated app instance: its own Redis connection and WeChat client, as a process has. */
export interface TestInstance {
  deps: JobDeps;
  redis: Redis;
}

/**
 * `n` instances of the scheduler against the test Redis and database, each with a Redis client
 * of its own (so their commands really interleave on the server), named `instance-1`…
 */
export async function startInstances(
  n: number,
  opts: { config?: Config; channels?: (i: number) => Channels } = {},
): Promise<{ instances: TestInstance[]; close(): Promise<void> }> {
  const env = testEnvironment();
  const config = opts.config ?? testConfig();
  const instances: TestInstance[] = [];
  for (let i = 0; i < n; i += 1) {
    const redis = await connectRedis(createRedis({ url: env.redisUrl, keyPrefix: env.keyPrefix }));
    const wechat = new WechatClient({ baseUrl: env.wechatStandIn.baseUrl, appId: config.wechat.appId, appSecret: config.wechat.appSecret, timeoutMs: 2_000 });
    instances.push({
      redis,
      deps: { config, logger: createTestLogger(), redis, mongo: mongoose.connection, wechat, channels: opts.channels?.(i) ?? {}, instance: `instance-${i + 1}` },
    });
  }
  await Promise.all(instances.map((i) => (i.redis.status === 'ready' ? undefined : new Promise((r) => i.redis.once('ready', r)))));
  return { instances, close: async () => void (await Promise.all(instances.map((i) => i.redis.quit()))) };
}

/**
 * A channel for tests: records every call per notification id and answers what `behaviour`
 * says (default: sent). `sends` counts successful sends only.
 */
export function stubChannel(name = 'bot', behaviour: (message: OutboxMessage, call: number) => SendOutcome = () => ({ status: 'sent' })) {
  const calls = new Map<string, number>();
  const sends = new Map<string, number>();
  const channel: Channel = {
    name,
    async send(_recipient, message) {
      const call = (calls.get(message.id) ?? 0) + 1;
      calls.set(message.id, call);
      const outcome = behaviour(message, call);
      if (outcome.status === 'sent') sends.set(message.id, (sends.get(message.id) ?? 0) + 1);
      return outcome;
    },
  };
  return { channel, calls, sends };
}
