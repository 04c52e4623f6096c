import { expect } from 'chai';
import mongoose, { type Connection } from 'mongoose';
import type { Redis } from 'ioredis';
import { connectMongo } from '../src/storage/mongo.js';
import { connectRedis, createRedis } from '../src/storage/redis.js';
import { createTestApp } from './support/app.js';
import { testEnvironment } from './support/env.js';
import { startOwnFerretDb, startOwnRedis } from './support/servers.js';
import { useCleanStorage } from './support/storage.js';
import { startTcpProxy } from './support/tcpProxy.js';

/** Polls until `check` passes (the driver and ioredis reconnect on their own schedule). */
async function eventually(check: () => Promise<void>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/**
 * A MongoDB this test may take away: FerretDB of its own, really stopped and restarted; or,
 * when MONGODB_URI names a server we must not stop, a connection cut in front of it.
 */
async function stoppableMongo() {
  const given = process.env.MONGODB_URI;
  if (!given) {
    const ferret = await startOwnFerretDb();
    return { uri: ferret.uri, stop: () => ferret.stop(), start: () => ferret.restart(), dispose: () => ferret.dispose() };
  }
  const target = new URL(given.replace(/^mongodb(\+srv)?:\/\//, 'http://'));
  const proxy = await startTcpProxy(target.hostname, Number(target.port || 27017));
  return {
    uri: `mongodb://127.0.0.1:${proxy.port}/?directConnection=true`,
    stop: () => proxy.cut(),
    start: () => proxy.restore(),
    dispose: () => proxy.cut(),
  };
}

describe('GET /readyz', () => {
  useCleanStorage();
  let mongo: Awaited<ReturnType<typeof stoppableMongo>>;
  let redisServer: Awaited<ReturnType<typeof startOwnRedis>>;
  let conn: Connection;
  let redis: Redis;
  let request: ReturnType<typeof createTestApp>['request'];

  before(async () => {
    mongo = await stoppableMongo();
    redisServer = await startOwnRedis();
    conn = await connectMongo(
      { uri: mongo.uri, dbName: testEnvironment().dbName, maxPoolSize: 5, serverSelectionTimeoutMs: 2_000 },
      mongoose.createConnection(),
    );
    redis = await connectRedis(createRedis({ url: `redis://127.0.0.1:${redisServer.port}`, keyPrefix: 'readyz:' }));
    ({ request } = createTestApp({ mongo: conn, redis }));
  });

  after(async () => {
    redis.disconnect();
    await conn.close(true);
    await redisServer.stop();
    await mongo.dispose();
  });

  it('answers 200 when MongoDB and Redis answer', async () => {
    const res = await request.get('/readyz').expect(200);
    expect(res.body).to.deep.equal({ status: 'ready', checks: { mongodb: 'up', redis: 'up' } });
  });

  it('turns 503 while Redis is stopped and 200 again when it returns, without a restart', async () => {
    await redisServer.stop();
    await eventually(async () => {
      const res = await request.get('/readyz').expect(503);
      expect(res.body.checks).to.deep.equal({ mongodb: 'up', redis: 'down' });
    });
    await redisServer.restart();
    await eventually(async () => {
      await request.get('/readyz').expect(200);
    });
  });

  it('turns 503 while MongoDB is stopped and 200 again when it returns, without a restart', async () => {
    await mongo.stop();
    await eventually(async () => {
      const res = await request.get('/readyz').expect(503);
      expect(res.body.checks).to.deep.equal({ mongodb: 'down', redis: 'up' });
    });
    await mongo.start();
    await eventually(async () => {
      await request.get('/readyz').expect(200);
    });
  });
});
