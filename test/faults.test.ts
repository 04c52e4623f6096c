import { expect } from 'chai';
import supertest from 'supertest';
import { bearerFor } from './support/auth.js';
import { serviceEnv, spawnMain, waitForLog } from './support/process.js';
import { freePort } from './support/servers.js';
import { startTcpProxy } from './support/tcpProxy.js';
import { testEnvironment } from './support/env.js';
import { cleanStorage, useCleanStorage } from './support/storage.js';
import { makeResident } from './factories/index.js';

describe('faults: the database goes away', () => {
  useCleanStorage();
  beforeEach(cleanStorage);

  describe('GET /api/v1/room-bookings/mine while MongoDB cannot be reached', () => {
    it('answers 503 storage_unavailable with Retry-After and a Chinese message, and 200 again when it returns', async function () {
      this.timeout(90_000);
      const target = new URL(testEnvironment().mongoUri);
      const proxy = await startTcpProxy(target.hostname, Number(target.port || 27017));
      target.host = `127.0.0.1:${proxy.port}`;
      const port = await freePort();
      const child = spawnMain(
        ['--role', 'api'],
        serviceEnv({ PORT: String(port), HOST: '127.0.0.1', MONGODB_URI: target.toString(), MONGODB_SERVER_SELECTION_TIMEOUT_MS: '500' }),
      );
      try {
        await waitForLog(child, 'API listening');
        const api = supertest(`http://127.0.0.1:${port}`);
        const token = await bearerFor(await makeResident());
        // A read that needs MongoDB (the caller's own record may come from the read cache).
        const mine = '/api/v1/room-bookings/mine';
        await api.get(mine).set('Authorization', token).expect(200);

        await proxy.cut();
        const down = await api.get(mine).set('Authorization', token);
        expect(down.status).to.equal(503);
        expect(down.body.error.code).to.equal('storage_unavailable');
        expect(down.body.error.message).to.match(/秒后重试/);
        expect(down.headers['retry-after']).to.equal('5');

        await proxy.restore();
        const deadline = Date.now() + 30_000;
        let status = 0;
        while (status !== 200 && Date.now() < deadline) {
          status = (await api.get(mine).set('Authorization', token)).status;
          if (status !== 200) await new Promise((r) => setTimeout(r, 200));
        }
        expect(status).to.equal(200);
      } finally {
        child.kill('SIGTERM');
        await proxy.cut();
      }
    });
  });
});
