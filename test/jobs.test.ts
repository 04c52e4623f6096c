import { expect } from 'chai';
import { JOBS, runJobTick, type JobDefinition } from '../jobs/index.js';
import { JobRun } from '../models/index.js';
import { ACCESS_TOKEN_KEY, sharedAccessToken } from '../src/wechat/accessToken.js';
import { makeResident, makeStaff } from './factories/index.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { testEnvironment } from './support/env.js';
import { startInstances, type TestInstance } from './support/instances.js';
import { useCleanStorage } from './support/storage.js';

const MINUTE = 60_000;

describe('jobs: the scheduler across instances', () => {
  useCleanStorage();

  let instances: TestInstance[];
  let close: () => Promise<void>;
  before(async () => {
    ({ instances, close } = await startInstances(3));
  });
  after(async () => close());

  /** A job that counts its runs and can be held open or made to fail. */
  function countingJob(name: string, behaviour: { hold?: Promise<void>; failFirst?: boolean } = {}) {
    const runs: Array<{ instance: string; fence: number; now: Date }> = [];
    const job: JobDefinition = {
      name,
      schedule: '* * * * *',
      async run(deps, ctx) {
        runs.push({ instance: deps.instance, fence: ctx.fence, now: ctx.now });
        if (behaviour.failFirst && runs.length === 1) throw new Error('simulated crash');
        await behaviour.hold;
        return { processed: 1 };
      },
    };
    return { job, runs };
  }

  describe('runJobTick', () => {
    it('runs each tick of a job on exactly one of three instances, with increasing fencing tokens', async () => {
      const { job, runs } = countingJob('test.exactlyOnce');
      const t0 = new Date('2031-03-01T02:00:00.000Z');
      for (let i = 0; i < 5; i += 1) {
        const tick = new Date(t0.getTime() + i * MINUTE);
        // the timers of three processes fire a few ms apart; the tick they run for is the same
        const reports = await Promise.all(instances.map((inst, k) => runJobTick(inst.deps, job, new Date(tick.getTime() + k * 7), tick)));
        expect(reports.filter((r) => r.status === 'ok'), `tick ${i}`).to.have.length(1);
        expect(reports.filter((r) => r.status === 'skipped').map((r) => r.reason)).to.have.length(2);
      }
      expect(runs).to.have.length(5);
      const fences = runs.map((r) => r.fence);
      expect(fences).to.deep.equal([...fences].sort((a, b) => a - b));
      expect(new Set(fences).size).to.equal(5);
      const records = await JobRun.find({ job: 'test.exactlyOnce' }).lean();
      expect(records).to.have.length(5);
      expect(records.every((r) => r.status === 'ok' && r.counts?.processed === 1 && typeof r.ms === 'number')).to.equal(true);
    });

    it('does not run a tick twice, even once the first run has released its lock', async () => {
      const { job, runs } = countingJob('test.noRerun');
      const tick = new Date('2031-03-01T03:00:00.000Z');
      expect((await runJobTick(instances[0]!.deps, job, tick, tick)).status).to.equal('ok');
      const again = await runJobTick(instances[1]!.deps, job, tick, tick);
      expect(again).to.include({ status: 'skipped', reason: 'already_run' });
      expect(runs).to.have.length(1);
    });

    it('keeps other instances off while a run holds the lock, and lets one in once the lock expired', async () => {
      let release!: () => void;
      const hold = new Promise<void>((r) => (release = r));
      const { job, runs } = countingJob('test.longRun', { hold });
      const tick1 = new Date('2031-03-01T04:00:00.000Z');
      const tick2 = new Date(tick1.getTime() + MINUTE);
      const first = runJobTick(instances[0]!.deps, job, tick1, tick1);
      while (runs.length === 0) await new Promise((r) => setTimeout(r, 10));
      expect(await runJobTick(instances[1]!.deps, job, tick2, tick2)).to.include({ status: 'skipped', reason: 'locked' });
      // The lock expires (the first run hangs past JOB_LOCK_TTL_SECONDS): the next tick runs elsewhere.
      await testEnvironment().redis.pexpire(`job:lock:${job.name}`, 1);
      await new Promise((r) => setTimeout(r, 20));
      const tick3 = new Date(tick2.getTime() + MINUTE);
      const third = runJobTick(instances[2]!.deps, job, tick3, tick3);
      while (runs.length < 2) await new Promise((r) => setTimeout(r, 10));
      expect(runs[1]!.fence).to.be.greaterThan(runs[0]!.fence);
      release();
      expect((await first).status).to.equal('ok');
      expect((await third).status).to.equal('ok');
      expect(runs.map((r) => r.instance)).to.deep.equal(['instance-1', 'instance-3']);
    });

    it('records a crashed run with its error and simply runs again at the next tick', async () => {
      const { job, runs } = countingJob('test.crash', { failFirst: true });
      const tick1 = new Date('2031-03-01T05:00:00.000Z');
      const failed = await runJobTick(instances[0]!.deps, job, tick1, tick1);
      expect(failed).to.include({ status: 'failed' });
      expect(failed.error).to.contain('simulated crash');
      const tick2 = new Date(tick1.getTime() + MINUTE);
      const reports = await Promise.all(instances.map((i) => runJobTick(i.deps, job, tick2, tick2)));
      expect(reports.filter((r) => r.status === 'ok')).to.have.length(1);
      expect(runs).to.have.length(2);
      const records = await JobRun.find({ job: 'test.crash' }).sort({ tick: 1 }).lean();
      expect(records.map((r) => r.status)).to.deep.equal(['failed', 'ok']);
      expect(records[0]!.error).to.contain('simulated crash');
    });

    it('runs an every-instance job on each instance', async () => {
      const { job, runs } = countingJob('test.everyInstance');
      job.mode = 'everyInstance';
      const tick = new Date('2031-03-01T06:00:00.000Z');
      const reports = await Promise.all(instances.map((i) => runJobTick(i.deps, job, tick, tick)));
      expect(reports.map((r) => r.status)).to.deep.equal(['ok', 'ok', 'ok']);
      expect(runs).to.have.length(3);
    });
  });

  describe('the WeChat access token', () => {
    it('is refreshed once across three instances, and shared through Redis', async () => {
      const standIn = testEnvironment().wechatStandIn;
      standIn.reset();
      await testEnvironment().redis.del(ACCESS_TOKEN_KEY);
      const now = new Date();
      const tokens = await Promise.all(instances.flatMap((i) => [1, 2, 3].map(() => sharedAccessToken({ redis: i.redis, wechat: i.deps.wechat! }, now))));
      expect(new Set(tokens).size).to.equal(1);
      expect(standIn.calls['/cgi-bin/stable_token']).to.equal(1);

      // WeChat refuses it (a forced refresh elsewhere): one forced refresh, whoever notices.
      standIn.expireTokens();
      const fresh = await Promise.all(instances.map((i) => sharedAccessToken({ redis: i.redis, wechat: i.deps.wechat! }, now, { rejected: tokens[0] })));
      expect(new Set(fresh).size).to.equal(1);
      expect(fresh[0]).to.not.equal(tokens[0]);
      expect(standIn.calls['/cgi-bin/stable_token']).to.equal(2);
    });

    it('is renewed ahead of its expiry by the scheduled job, once per tick', async () => {
      const standIn = testEnvironment().wechatStandIn;
      standIn.reset();
      await testEnvironment().redis.del(ACCESS_TOKEN_KEY);
      const job = JOBS.find((j) => j.name === 'wechat.refreshAccessToken')!;
      const tick = new Date('2031-03-01T07:00:00.000Z');
      const reports = await Promise.all(instances.map((i) => runJobTick(i.deps, job, tick, new Date())));
      expect(reports.filter((r) => r.status === 'ok').map((r) => r.counts)).to.deep.equal([{ refreshed: 1 }]);
      expect(standIn.calls['/cgi-bin/stable_token']).to.equal(1);
      // Two hours later the stored token is about to expire: the next tick renews it.
      const later = new Date(Date.now() + 7_100_000);
      const next = await runJobTick(instances[1]!.deps, job, new Date(tick.getTime() + 5 * MINUTE), later);
      expect(next.counts).to.deep.equal({ refreshed: 1 });
    });
  });

  describe('GET /api/v1/jobs', () => {
    it('answers 401 without a token and 403 to a resident', async () => {
      const { request } = createTestApp();
      expect((await request.get('/api/v1/jobs')).status).to.equal(401);
      const res = await request.get('/api/v1/jobs').set('Authorization', await bearerFor(await makeResident()));
      expect(res.status).to.equal(403);
      expect(res.body.error.code).to.equal('forbidden');
    });

    it('shows staff every job with its last run: duration, counts and errors', async () => {
      const { request } = createTestApp();
      const releaseJob = JOBS.find((j) => j.name === 'rooms.releaseNoShows')!;
      const tick = new Date('2031-03-01T08:00:00.000Z');
      await runJobTick(instances[0]!.deps, releaseJob, tick, tick);
      const broken: JobDefinition = { ...releaseJob, run: async () => { throw new Error('database unreachable'); } };
      const reminders = JOBS.find((j) => j.name === 'rooms.enqueueReminders')!;
      await runJobTick(instances[1]!.deps, { ...broken, name: reminders.name }, tick, tick);
      // The page survives Redis losing its copy: the last runs come from MongoDB then.
      await testEnvironment().redis.hdel('job:last-run', releaseJob.name);

      const { person } = await makeStaff();
      const res = await request.get('/api/v1/jobs').set('Authorization', await bearerFor(person));
      expect(res.status).to.equal(200);
      const byName = new Map((res.body.items as Array<{ name: string }>).map((j) => [j.name, j as Record<string, any>]));
      expect([...byName.keys()]).to.include.members(JOBS.map((j) => j.name));
      const release = byName.get('rooms.releaseNoShows')!;
      expect(release.lastRun).to.include({ status: 'ok', instance: 'instance-1', tick: tick.toISOString() });
      expect(release.lastRun.counts).to.deep.equal({ released: 0 });
      expect(release.lastRun.ms).to.be.a('number');
      const failed = byName.get('rooms.enqueueReminders')!;
      expect(failed.lastRun).to.include({ status: 'failed', instance: 'instance-2' });
      expect(failed.lastRun.error).to.contain('database unreachable');
      expect(byName.get('outbox.dispatch')).to.include({ mode: 'everyInstance' });
    });
  });
});
