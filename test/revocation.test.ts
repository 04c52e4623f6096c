import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { RefreshToken } from '../models/index.js';
import { connectRedis, createRedis } from '../src/storage/redis.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { startOwnRedis } from './support/servers.js';
import { startTcpProxy } from './support/tcpProxy.js';
import { testConfig } from './support/env.js';
import { cleanStorage, useCleanStorage } from './support/storage.js';
import { makeResident } from './factories/index.js';

async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('session revocation without Redis', () => {
  useCleanStorage();
  beforeEach(cleanStorage);

  describe('POST /api/v1/auth/logout, then GET /api/v1/me', () => {
    it('refuses a signed-out token while Redis is down and after it restarts empty, and rebuilds the copy', async function () {
      this.timeout(30_000);
      const server = await startOwnRedis();
      const redis = await connectRedis(createRedis({ url: `redis://127.0.0.1:${server.port}`, keyPrefix: 'revoke-a:' }));
      try {
        const { request } = createTestApp({ config: testConfig(), redis });
        const token = await bearerFor(await makeResident());
        await request.get('/api/v1/me').set('Authorization', token).expect(200);
        await request.post('/api/v1/auth/logout').set('Authorization', token).expect(204);
        const family = (await RefreshToken.findOne({ status: 'revoked' }))!.family;

        await server.stop();
        const down = await request.get('/api/v1/me').set('Authorization', token).expect(401);
        expect(down.body.error.code).to.equal('token_invalid');

        await server.restart(); // no data file: the revocation is gone from Redis
        await eventually(() => redis.status === 'ready');
        await request.get('/api/v1/me').set('Authorization', token).expect(401);
        await eventually(async () => (await redis.exists(`auth:revoked-family:${family}`)) === 1);
        await request.get('/api/v1/me').set('Authorization', token).expect(401);
      } finally {
        redis.disconnect();
        await server.stop();
      }
    });

    it('signs out while Redis is unreachable, and the token stays refused once Redis is back with its old keys', async function () {
      this.timeout(30_000);
      const server = await startOwnRedis();
      const proxy = await startTcpProxy('127.0.0.1', server.port);
      let redis: Redis | undefined;
      try {
        redis = await connectRedis(createRedis({ url: `redis://127.0.0.1:${proxy.port}`, keyPrefix: 'revoke-b:' }));
        const { request } = createTestApp({ config: testConfig(), redis });
        const token = await bearerFor(await makeResident());
        const other = await bearerFor(await makeResident());
        await request.get('/api/v1/me').set('Authorization', token).expect(200);

        await proxy.cut();
        await eventually(() => redis!.status !== 'ready');
        await request.post('/api/v1/auth/logout').set('Authorization', token).expect(204);
        await request.get('/api/v1/me').set('Authorization', token).expect(401);
        await request.get('/api/v1/me').set('Authorization', other).expect(200);

        await proxy.restore();
        await eventually(() => redis!.status === 'ready');
        await request.get('/api/v1/me').set('Authorization', token).expect(401);
        await request.get('/api/v1/me').set('Authorization', other).expect(200);
      } finally {
        redis?.disconnect();
        await proxy.cut();
        await server.stop();
      }
    });
  });
});
