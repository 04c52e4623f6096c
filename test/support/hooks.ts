/**
 * Mocha root hooks (loaded by .mocharc.json). Once per run: use MONGODB_URI or start a
 * FerretDB of our own in a temporary folder; use REDIS_URL, or the Redis on 127.0.0.1:6379,
 * or start a redis-server; connect, create indexes. At the end: drop what the run made and
 * stop what it started.
 */
import mongoose from 'mongoose';
import '../../models/index.js';
import { freezeSharedReads, useReadCache } from '../../src/cache/readCache.js';
import { useOutboxRedis } from '../../src/outbox/index.js';
import { ensureJsonbIndexes } from '../../src/storage/jsonbIndexes.js';
import { connectMongo, ensureIndexes } from '../../src/storage/mongo.js';
import { connectRedis, createRedis, deleteKeysWithPrefix } from '../../src/storage/redis.js';
import { startWechatStandIn } from '../../src/wechat/index.js';
import { setTestEnvironment, testEnvironment } from './env.js';
import { useOrStartServers } from './servers.js';
import { takeResponseViolations } from './responseCheck.js';
import { fileWasCleaned } from './storage.js';

const stops: Array<() => Promise<void>> = [];

// A cached value shared by the callers of a process must not be changed by one of them.
freezeSharedReads(true);

export async function mochaGlobalSetup(): Promise<void> {
  const servers = await useOrStartServers();
  stops.push(() => servers.stop());
  const { mongoUri, redisUrl } = servers;
  // Its own database, even on a shared server, so a test run never touches real data.
  const dbName = `csb_test_${process.pid}`;
  const keyPrefix = `csb-test-${process.pid}:`;
  const redis = await connectRedis(createRedis({ url: redisUrl, keyPrefix }));

  useReadCache(redis); // as startService does: tests see the cache the service runs with
  useOutboxRedis(redis); // and notify() indexes what it stores, as in the service
  await connectMongo({ uri: mongoUri, dbName, maxPoolSize: 50, serverSelectionTimeoutMs: 5_000 });
  await ensureIndexes(mongoose.connection);
  // As the service does on FerretDB over PostgreSQL (src/storage/jsonbIndexes.ts).
  if (servers.ferret?.postgresqlUrl) await ensureJsonbIndexes(mongoose.connection, servers.ferret.postgresqlUrl);
  const wechatStandIn = await startWechatStandIn();
  stops.push(() => wechatStandIn.close());
  setTestEnvironment({ mongoUri, dbName, redisUrl, keyPrefix, redis, wechatStandIn });
}

export async function mochaGlobalTeardown(): Promise<void> {
  const env = testEnvironment();
  await deleteKeysWithPrefix(env.redis).catch(() => undefined);
  useReadCache(null);
  useOutboxRedis(null);
  env.redis.disconnect();
  await mongoose.connection.db?.dropDatabase().catch(() => undefined);
  await mongoose.disconnect();
  for (const stop of stops.reverse()) await stop();
}

export const mochaHooks = {
  beforeEach(this: Mocha.Context) {
    if (!fileWasCleaned(this.currentTest?.file)) {
      throw new Error(`${this.currentTest?.file}: call useCleanStorage() at the top of the file's describe`);
    }
    checkResponsesAfter(this.currentTest);
  },
};

/**
 * Wraps the test so that, once it has passed, any response it (or its file's before hooks)
 * got that the OpenAPI document does not describe fails that very test, with the list
 * (test/support/responseCheck.ts). Tests written with `done` are left as they are.
 */
function checkResponsesAfter(test: Mocha.Test | undefined): void {
  const fn = test?.fn as ((this: Mocha.Context) => unknown) | undefined;
  if (!test || !fn || fn.length > 0 || (fn as { responsesChecked?: true }).responsesChecked) return;
  const wrapped = async function (this: Mocha.Context) {
    await fn.call(this);
    const found = takeResponseViolations();
    if (found.length) {
      throw new Error(`Responses the OpenAPI document does not describe (fix the route's responses or the presenter):\n${found.join('\n')}`);
    }
  };
  test.fn = Object.assign(wrapped, { responsesChecked: true as const });
}
