import { expect } from 'chai';
import { Identity } from '../models/index.js';
import { createMetrics } from '../src/metrics.js';
import { connectRedis, createRedis } from '../src/storage/redis.js';
import { createTestApp } from './support/app.js';
import { startOwnRedis } from './support/servers.js';
import { testConfig } from './support/env.js';
import { cleanStorage, useCleanStorage } from './support/storage.js';
import { makeStaff } from './factories/index.js';

const passwordChecks = async (metrics: ReturnType<typeof createMetrics>) => (await metrics.passwordChecks.get()).values[0]?.value ?? 0;

describe('staff login lockout under attack', () => {
  useCleanStorage();
  beforeEach(cleanStorage);

  const lockoutApp = (overrides: Record<string, string> = {}) => {
    const metrics = createMetrics(false);
    const config = testConfig({ STAFF_LOGIN_MAX_FAILURES: '5', TRUST_PROXY: 'true', ...overrides });
    return { metrics, ...createTestApp({ config, metrics }) };
  };
  const login = (request: ReturnType<typeof lockoutApp>['request'], username: string, password: string, ip = '10.0.0.1') =>
    request.post('/api/v1/auth/staff/login').set('X-Forwarded-For', ip).send({ username, password });

  describe('POST /api/v1/auth/staff/login', () => {
    it('checks at most 5 passwords of 40 guesses sent at once from one address, then refuses the right one', async () => {
      const { request, metrics } = lockoutApp();
      await makeStaff({}, { username: 'zhouwei', password: 'right-password' });
      const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => login(request, 'zhouwei', `guess-${i}`)));
      expect(await passwordChecks(metrics)).to.be.at.most(5);
      const statuses = answers.map((a) => a.status);
      expect(statuses.filter((s) => s === 401)).to.have.length.at.most(4);
      expect(statuses.filter((s) => s === 423)).to.have.length.at.least(36);
      expect(statuses.every((s) => s === 401 || s === 423)).to.equal(true);
      const locked = await login(request, 'zhouwei', 'right-password').expect(423);
      expect(locked.body.error.message).to.match(/锁定.*分钟后再试/);
    });

    it('checks at most 5 passwords of 40 guesses spread over 40 addresses', async () => {
      const { request, metrics } = lockoutApp();
      await makeStaff({}, { username: 'wuhao', password: 'right-password' });
      await Promise.all(Array.from({ length: 40 }, (_, i) => login(request, 'wuhao', `guess-${i}`, `10.1.0.${i + 1}`)));
      expect(await passwordChecks(metrics)).to.be.at.most(5);
      await login(request, 'wuhao', 'right-password', '10.9.9.9').expect(423);
    });

    it('never lets the right password through when it races nine wrong ones past the limit', async () => {
      const { request, metrics } = lockoutApp({ STAFF_LOGIN_MAX_FAILURES: '3' });
      await makeStaff({}, { username: 'zhengyu', password: 'right-password' });
      await Promise.all([1, 2, 3].map((i) => login(request, 'zhengyu', `wrong-${i}`)));
      const racing = await Promise.all([
        ...Array.from({ length: 9 }, (_, i) => login(request, 'zhengyu', `again-${i}`)),
        login(request, 'zhengyu', 'right-password'),
      ]);
      expect(racing.map((r) => r.status)).to.deep.equal(Array(10).fill(423));
      expect(await passwordChecks(metrics)).to.equal(3);
    });

    it('lets a staff member who mistyped sign in, and starts the count afresh', async () => {
      const { request } = lockoutApp();
      await makeStaff({}, { username: 'fengyan', password: 'right-password' });
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 4; i++) await login(request, 'fengyan', 'typo').expect(401);
        await login(request, 'fengyan', 'right-password').expect(200);
      }
    });

    it('locks an address that tries many usernames, however few tries each', async () => {
      const { request, metrics } = lockoutApp({ STAFF_LOGIN_MAX_FAILURES_PER_ADDRESS: '6' });
      for (let i = 0; i < 6; i++) await login(request, `user${i}`, 'guess', '10.2.0.1').expect(401);
      const locked = await login(request, 'user99', 'guess', '10.2.0.1').expect(423);
      expect(locked.body.error.code).to.equal('account_locked');
      expect(await passwordChecks(metrics)).to.equal(6);
      await login(request, 'user99', 'guess', '10.2.0.2').expect(401);
    });

    it('keeps the lock through a Redis restart that lost every key, and fails closed while Redis is away', async function () {
      this.timeout(60_000); // a Redis stop, restart and reconnect: slow on a loaded 2-CPU machine
      const server = await startOwnRedis();
      const redis = await connectRedis(createRedis({ url: `redis://127.0.0.1:${server.port}`, keyPrefix: 'lockout:' }));
      try {
        const metrics = createMetrics(false);
        const { request } = createTestApp({ config: testConfig({ STAFF_LOGIN_MAX_FAILURES: '3', TRUST_PROXY: 'true' }), redis, metrics });
        const { person } = await makeStaff({}, { username: 'hanmei', password: 'right-password' });
        for (let i = 0; i < 2; i++) await login(request, 'hanmei', 'bad').expect(401);
        await login(request, 'hanmei', 'bad').expect(423);
        const identity = await Identity.findOne({ person: person._id, provider: 'staff_password' });
        expect(identity!.lockedUntil!.getTime()).to.be.greaterThan(Date.now() + 14 * 60_000);

        await server.stop();
        const away = await login(request, 'hanmei', 'right-password');
        expect(away.status).to.equal(503);
        expect(away.headers['retry-after']).to.be.a('string');

        await server.restart(); // started without a data file: every counter is gone
        await waitUntil(() => redis.status === 'ready');
        expect(await redis.dbsize()).to.equal(0);
        const checksBefore = await passwordChecks(metrics);
        await login(request, 'hanmei', 'right-password').expect(423);
        expect(await passwordChecks(metrics)).to.equal(checksBefore);
      } finally {
        redis.disconnect();
        await server.stop();
      }
    });
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
