import { expect } from 'chai';
import mongoose from 'mongoose';
import type { mock } from 'wechaty-puppet-mock';
import { TurnQueue } from '../bots/dialogue/turnQueue.js';
import type { CommunityDoc } from '../models/index.js';
import { makeCommunity, makeResident } from './factories/index.js';
import { startTestBot, type TestBot } from './support/bot.js';
import { bindingSettings, issueBindingCode } from '../src/commands/botBinding.js';
import { testConfig, testEnvironment } from './support/env.js';
import { useCleanStorage } from './support/storage.js';

/** A promise and the function that settles it, to hold a turn open as long as a test wants. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

describe('bot: the turn queue (a few turns at once, the rest in arrival order)', () => {
  useCleanStorage();

  describe('TurnQueue', () => {
    it('runs at most `limit` turns at once and starts the others in the order they came', async () => {
      const queue = new TurnQueue(2);
      const gates = Array.from({ length: 5 }, gate);
      const started: number[] = [];
      let running = 0;
      let most = 0;
      const done = gates.map((g, i) => queue.run(async () => {
        started.push(i);
        running += 1;
        most = Math.max(most, running);
        await g.opened;
        running -= 1;
        return i;
      }));
      await new Promise((r) => setImmediate(r));
      expect(started).to.deep.equal([0, 1]);
      expect(queue.queued).to.equal(3);
      gates[1]!.open(); // the second finishes first: the third takes its place, not a later one
      await new Promise((r) => setImmediate(r));
      expect(started).to.deep.equal([0, 1, 2]);
      for (const g of gates) g.open();
      expect(await Promise.all(done)).to.deep.equal([0, 1, 2, 3, 4]);
      expect(started).to.deep.equal([0, 1, 2, 3, 4]);
      expect(most).to.equal(2);
      expect(queue.queued).to.equal(0);
    });

    it('a turn that fails gives its place to the next one', async () => {
      const queue = new TurnQueue(1);
      const failed = queue.run(async () => {
        throw new Error('boom');
      });
      const next = queue.run(async () => 'answered');
      const error = await failed.then(() => undefined, (err: Error) => err);
      expect(error?.message).to.equal('boom');
      expect(await next).to.equal('answered');
    });

    it('refuses a queue without a place', () => {
      expect(() => new TurnQueue(0)).to.throw(RangeError);
    });
  });

  describe('in conversations: messages wait their turn, urgent ones never do', () => {
    let tb: TestBot;
    let community: CommunityDoc;

    before(async () => {
      // One turn at a time, so thirty residents writing at once make a queue.
      tb = await startTestBot({ BOT_CONCURRENT_TURNS: '1' });
      community = await makeCommunity({ dutyPhone: '020-82661234' });
    });
    after(async () => tb.stop());

    it('thirty residents at once are answered once each, in the order they wrote; a fall message sent after them does not wait for them', async () => {
      const residents: mock.ContactMock[] = [];
      for (let i = 0; i < 30; i++) residents.push(await tb.contactOf(await makeResident({ community: community._id }), `排队居民${i}`));
      const elder = await tb.contactOf(await makeResident({ community: community._id, name: '摔倒的老人' }));
      const order: string[] = [];
      const answers = new Map<string, string[]>();
      const listener = (m: { self(): boolean; listener(): { id: string } | undefined; text(): string }) => {
        const to = m.listener()?.id;
        if (!m.self() || !to) return;
        order.push(to);
        answers.set(to, [...(answers.get(to) ?? []), m.text()]);
      };
      tb.bot.wechaty.on('message', listener);
      try {
        for (const r of residents) r.say('我的预约').to(tb.botUser);
        elder.say('我摔倒了 起不来').to(tb.botUser);
        const urgentAnswer = await tb.nextReply(elder, 20_000);
        expect(urgentAnswer).to.include('120').and.include('020-82661234');
        for (let waited = 0; order.length < 31 && waited < 20_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
        // All at once (no queue), the fall message was answered last, after every booking list.
        expect(order.indexOf(elder.id)).to.be.below(order.indexOf(residents.at(-1)!.id));
        expect(order.filter((id) => id !== elder.id)).to.deep.equal(residents.map((r) => r.id)); // in the order they wrote
        for (const r of residents) expect(answers.get(r.id), r.id).to.have.length(1);
        expect(answers.get(residents[0]!.id)![0]).to.include('您现在没有预约');
      } finally {
        tb.bot.wechaty.off('message', listener);
      }
    });

    it('a burst of first messages reads its senders together while they wait, not one at a time as their turns come', async () => {
      const residents = await Promise.all(Array.from({ length: 30 }, async (_, i) =>
        tb.contactOf(await makeResident({ community: community._id }), `一起来的居民${i}`)));
      const reads: string[] = [];
      mongoose.set('debug', (collection: string, method: string) => {
        if (collection === 'people' || collection === 'identities') reads.push(`${collection}.${method}`);
      });
      try {
        const replies = residents.map((r) => tb.nextReply(r, 30_000));
        for (const r of residents) r.say('你好').to(tb.botUser);
        for (const reply of await Promise.all(replies)) expect(reply).to.include('订饭');
      } finally {
        mongoose.set('debug', false);
      }
      // One turn at a time: looked up as each turn began, that was one read of each per resident (60).
      expect(reads.length, reads.join(', ')).to.be.below(10);
    });

    it('a message sent right behind a binding code is answered as the person the code bound', async () => {
      const resident = await makeResident({ community: community._id });
      const contact = tb.mocker.createContact({ name: '刚绑定的居民' });
      const { code } = await issueBindingCode(testEnvironment().redis, resident, bindingSettings(testConfig().auth));
      const answers: string[] = [];
      const listener = (m: { self(): boolean; listener(): { id: string } | undefined; text(): string }) => {
        if (m.self() && m.listener()?.id === contact.id) answers.push(m.text());
      };
      tb.bot.wechaty.on('message', listener);
      try {
        contact.say(code).to(tb.botUser);
        contact.say('你好').to(tb.botUser); // waits behind the code, with its sender looked up before the binding
        for (let waited = 0; answers.length < 2 && waited < 20_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
      } finally {
        tb.bot.wechaty.off('message', listener);
      }
      expect(answers).to.have.length(2);
      expect(answers[0]).to.include('绑定成功');
      expect(answers[1]).to.include('订饭'); // the menu, not how to bind
    });
  });
});
