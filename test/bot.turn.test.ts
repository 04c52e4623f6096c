import { expect } from 'chai';
import type { mock } from 'wechaty-puppet-mock';
import { replies } from '../bots/replies.js';
import type { CommunityDoc } from '../models/index.js';
import { createMetrics } from '../src/metrics.js';
import { createRateLimits } from '../src/rateLimit/limiter.js';
import { makeCommunity, makeResident } from './factories/index.js';
import { startTestBot, type TestBot } from './support/bot.js';
import { testConfig, testEnvironment } from './support/env.js';
import { createTestLogger } from './support/logs.js';
import { useCleanStorage } from './support/storage.js';

/**
 * A message's turn (bots/dialogue/session.ts): the rate limit, the per-contact lock and the
 * dialogue state read in one round trip when it begins; the state written, the message
 * remembered and the lock released in one when it ends.
 */
describe('bot: a message\'s turn (limit, lock, state in two round trips)', () => {
  useCleanStorage();

  let tb: TestBot;
  let community: CommunityDoc;
  let contact: mock.ContactMock;
  const redis = () => testEnvironment().redis;

  before(async () => {
    tb = await startTestBot({ RATE_LIMIT_BOT: '6/60' });
    community = await makeCommunity();
  });
  after(async () => tb.stop());

  beforeEach(async () => {
    contact = await tb.contactOf(await makeResident({ community: community._id }));
  });

  it('counts each message on the same counter as the API\'s limiter (rate-limiter-flexible)', async () => {
    await tb.ask(contact, '你好');
    await tb.ask(contact, '你好');
    expect(await redis().get(`rate:bot:contact:${contact.id}`)).to.equal('2');
    // The limiter the API uses sees those two, and counts on from them.
    const limits = createRateLimits(redis(), testConfig({ RATE_LIMIT_BOT: '6/60' }).rateLimits, createMetrics(false), createTestLogger());
    const decision = await limits.consume('bot', `contact:${contact.id}`);
    expect(decision).to.include({ outcome: 'allowed', remaining: 3 });
    await tb.ask(contact, '你好');
    expect(await redis().get(`rate:bot:contact:${contact.id}`)).to.equal('4');
  });

  it('over the limit: one warning, then silence; the dialogue is left as it was', async () => {
    expect(await tb.ask(contact, '我想借活动室')).to.include('哪天');
    for (let i = 0; i < 5; i++) await tb.ask(contact, '你好');
    const state = await redis().get(`bot-dialogue:${contact.id}`);
    expect(state).to.be.a('string');
    const warning = await tb.ask(contact, '明天');
    expect(warning).to.include('发消息太快了');
    expect(await tb.staysSilent(contact)).to.equal(true); // nothing pending
    contact.say('明天').to(tb.botUser);
    expect(await tb.staysSilent(contact)).to.equal(true);
    expect(await redis().get(`bot-dialogue:${contact.id}`)).to.equal(state);
    expect(await redis().exists(`bot-dialogue-lock:${contact.id}`)).to.equal(0);
  });

  it('waits for a lock another instance holds (never taking it) and answers once it lapses', async () => {
    await redis().set(`bot-dialogue-lock:${contact.id}`, 'another-instance', 'PX', 400);
    const t0 = Date.now();
    expect(await tb.ask(contact, '你好')).to.equal(replies.menu);
    expect(Date.now() - t0).to.be.at.least(350);
    expect(await redis().exists(`bot-dialogue-lock:${contact.id}`)).to.equal(0);
    // Another instance's turn going on: ours waits for it.
    await redis().set(`bot-dialogue-lock:${contact.id}`, 'another-instance', 'PX', 200);
    const answer = tb.ask(contact, '你好');
    await new Promise((r) => setTimeout(r, 50));
    expect(await redis().get(`bot-dialogue-lock:${contact.id}`)).to.equal('another-instance');
    expect(await answer).to.equal(replies.menu);
  });

  it('keeps the dialogue (30 minutes) and the last five messages when the turn ends, a turn\'s own writes seen by it', async () => {
    expect(await tb.ask(contact, '我想借活动室')).to.include('哪天');
    expect(await redis().ttl(`bot-dialogue:${contact.id}`)).to.be.greaterThan(1700);
    expect(JSON.parse((await redis().get(`bot-dialogue:${contact.id}`))!)).to.include({ flow: 'room.book' });
    for (const text of ['明天', '返回', '后天', '下午3点到4点', '取消']) await tb.ask(contact, text);
    expect(await redis().exists(`bot-dialogue:${contact.id}`)).to.equal(0);
    expect(await redis().lrange(`bot-recent:${contact.id}`, 0, -1)).to.deep.equal(['取消', '下午3点到4点', '后天', '返回', '明天']);
    expect(await redis().ttl(`bot-recent:${contact.id}`)).to.be.greaterThan(1700);
    expect(await redis().exists(`bot-dialogue-lock:${contact.id}`)).to.equal(0);
  });
});
