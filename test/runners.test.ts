import { expect } from 'chai';
import mongoose from 'mongoose';
import { isFresh, startBot } from '../bots/index.js';
import { startJobs, type JobDefinition } from '../jobs/index.js';
import { testConfig, testEnvironment } from './support/env.js';
import { capturedLogLines, createTestLogger } from './support/logs.js';
import { useCleanStorage } from './support/storage.js';

const deps = () => ({
  config: testConfig(),
  logger: createTestLogger(),
  mongo: mongoose.connection,
  redis: testEnvironment().redis,
});

describe('job runner', () => {
  useCleanStorage();

  it('runs a scheduled job, logs its counts, and waits for a run in progress on stop', async () => {
    let finished = 0;
    const job: JobDefinition = {
      name: 'test.everySecond',
      schedule: '* * * * * *',
      run: async () => {
        await new Promise((r) => setTimeout(r, 300));
        finished += 1;
        return { processed: 3 };
      },
    };
    const jobs = startJobs(deps(), [job]);
    expect(jobs.scheduled).to.deep.equal(['test.everySecond']);
    await new Promise((r) => setTimeout(r, 1_150));
    await jobs.stop();
    const afterStop = finished;
    expect(afterStop).to.be.greaterThan(0);
    await new Promise((r) => setTimeout(r, 1_100));
    expect(finished, 'no run after stop').to.equal(afterStop);
    const line = capturedLogLines.map((l) => JSON.parse(l)).find((l) => l.job === 'test.everySecond');
    expect(line).to.include({ msg: 'job finished', processed: 3 });
  });
});

describe('bot runner (Wechaty with the mock puppet)', () => {
  useCleanStorage();

  it('starts, logs the mock bot in, ignores its own and old messages, and stops', async () => {
    const bot = await startBot(deps());
    try {
      expect(bot.wechaty.isLoggedIn).to.equal(true);
      const resident = bot.mocker!.createContact({ name: '张阿姨' });
      const received = new Promise<{ fresh: boolean; self: boolean }>((resolve) => {
        bot.wechaty.once('message', (m) => resolve({ fresh: isFresh(m, new Date(Date.now() - 60_000)), self: m.self() }));
      });
      resident.say('你好').to(bot.botUser!);
      expect(await received).to.deep.equal({ fresh: true, self: false });
      const old = new Promise<boolean>((resolve) => {
        bot.wechaty.once('message', (m) => resolve(isFresh(m, new Date(Date.now() + 60_000))));
      });
      resident.say('昨天的消息').to(bot.botUser!);
      expect(await old).to.equal(false);
    } finally {
      await bot.stop();
    }
    expect(bot.wechaty.isLoggedIn).to.equal(false);
  });
});
