/**
 * `tsx scripts/seed.ts`: seeds the demo community into the configured database (or the
 * FerretDB provisioned under DATA_DIR), prints what it created, and stops what it started.
 * Safe to run again: a re-run creates only what is missing and overwrites nothing.
 */
import mongoose from 'mongoose';
import '../models/index.js';
import { forgetCachedReads } from '../src/cache/readCache.js';
import type { Config } from '../src/config.js';
import { createRedis, isListening } from '../src/storage/redis.js';
import { createLogger } from '../src/logger.js';
import { configFromEnvironment, exitOnFailure } from '../src/runtime/cli.js';
import { openDatabase, provisionStorage } from '../src/runtime/storage.js';
import { seedDemo } from '../src/seed/demo.js';

/** A service may be running on this database: make its cached reads see what the seed wrote. */
async function forgetCachedReadsIfRedisAnswers(config: Config): Promise<void> {
  const { hostname, port } = new URL(config.redis.url);
  if (!(await isListening(hostname, Number(port || 6379)))) return;
  const redis = createRedis(config.redis);
  try {
    await forgetCachedReads(redis);
  } finally {
    redis.disconnect();
  }
}

async function main(): Promise<void> {
  const config = configFromEnvironment();
  const logger = createLogger(config);
  // The seed needs no Redis: do not start a local redis-server just for it.
  const storage = await provisionStorage({ ...config, redis: { ...config.redis, startLocal: false } }, logger);
  try {
    await openDatabase(config, storage.mongoUri, logger, storage.postgresqlUrl);
    const summary = await seedDemo(logger, { password: config.demoPassword });
    const total = Object.values(summary).reduce((a, b) => a + b, 0);
    await forgetCachedReadsIfRedisAnswers(config);
    process.stdout.write(`demo seed: created ${total} document(s)\n${JSON.stringify(summary, null, 2)}\n`);
  } finally {
    await mongoose.disconnect();
    await storage.stop();
  }
}

main().catch(exitOnFailure('seed failed'));
