import { expect } from 'chai';
import { types } from 'wechaty';
import type { mock } from 'wechaty-puppet-mock';
import { replies } from '../bots/replies.js';
import { Identity, Person, ProxyLink, type PersonDoc } from '../models/index.js';
import { callerForContact } from '../bots/handlers/binding.js';
import { bindingSettings, issueBindingCode, unbindBotContacts, type BindingSettings } from '../src/commands/botBinding.js';
import { BindingCodeInvalidError } from '../src/errors.js';
import { makeIdentity, makeProxyLink, makeResident } from './factories/index.js';
import { testConfig, testEnvironment } from './support/env.js';
import { capturedLogLines } from './support/logs.js';
import { startTestBot, type Conversation, type TestBot } from './support/bot.js';
import { useCleanStorage } from './support/storage.js';

const INVALID = BindingCodeInvalidError().message;


describe('bot: binding a WeChat contact with a one-time code', () => {
  useCleanStorage();

  let tb: TestBot;
  let mocker: mock.Mocker;
  let botUser: mock.ContactMock;
  let settings: BindingSettings;
  /** Every code and phone number this file handled: none may appear in a log line. */
  const secrets: string[] = [];

  const redis = () => testEnvironment().redis;

  before(async () => {
    const config = testConfig();
    settings = bindingSettings(config.auth);
    tb = await startTestBot();
    ({ mocker, botUser } = tb);
  });

  after(async () => {
    await tb?.stop();
  });

  const nextReply = (where: Conversation, timeoutMs?: number) => tb.nextReply(where, timeoutMs);
  const staysSilent = (where: Conversation) => tb.staysSilent(where);
  const ask = (contact: mock.ContactMock, text: string) => tb.ask(contact, text);
  const sendNonText = (contact: mock.ContactMock, type: types.Message) => tb.sendNonText(contact, type);

  async function residentWithCode(): Promise<{ resident: PersonDoc; code: string }> {
    const resident = await makeResident();
    const { code } = await issueBindingCode(redis(), resident, settings);
    secrets.push(code, resident.phone!);
    return { resident, code };
  }

  const boundPerson = async (contact: mock.ContactMock) =>
    (await Identity.findOne({ provider: 'wechat_bot', subject: contact.id }))?.person;

  const fullWidth = (digits: string) => digits.replace(/[0-9]/g, (d) => String.fromCharCode(d.charCodeAt(0) + 0xfee0));

  describe('an unbound contact sending a code', () => {
    it('binds the contact with a good code and greets the resident by name', async () => {
      const { resident, code } = await residentWithCode();
      const contact = mocker.createContact({ name: '陈阿姨' });

      const answer = await ask(contact, code);

      expect(answer).to.equal(replies.bindingSucceeded(resident.name));
      expect(answer).to.include(resident.name!);
      expect(answer).not.to.include(resident.phone!);
      expect(String(await boundPerson(contact))).to.equal(String(resident._id));
    });

    it('refuses the same code from another contact: it worked once', async () => {
      const { resident, code } = await residentWithCode();
      const first = mocker.createContact({ name: '王先生' });
      const second = mocker.createContact({ name: '陌生人' });
      expect(await ask(first, code)).to.equal(replies.bindingSucceeded(resident.name));

      expect(await ask(second, code)).to.equal(INVALID);
      expect(await boundPerson(second)).to.equal(undefined);
    });

    it('refuses an expired code', async () => {
      const { code } = await residentWithCode();
      await redis().pexpire(`bot-binding:code:${code}`, 1);
      await new Promise((r) => setTimeout(r, 20));
      const contact = mocker.createContact({ name: '刘大爷' });

      expect(await ask(contact, code)).to.equal(INVALID);
      expect(await boundPerson(contact)).to.equal(undefined);
    });

    it('accepts full-width digits and surrounding spaces', async () => {
      const { resident, code } = await residentWithCode();
      const contact = mocker.createContact({ name: '赵奶奶' });

      expect(await ask(contact, `\u3000${fullWidth(code)} `)).to.equal(replies.bindingSucceeded(resident.name));
      expect(String(await boundPerson(contact))).to.equal(String(resident._id));
    });

    it(`refuses even the right code after too many wrong ones, for a limited time`, async () => {
      const { code } = await residentWithCode();
      const contact = mocker.createContact({ name: '试错的人' });
      const wrong: string[] = [];
      for (let n = 1; wrong.length < settings.maxAttempts; n += 1) {
        const candidate = String((Number(code) + n * 7919) % 1_000_000).padStart(6, '0');
        if (!(await redis().exists(`bot-binding:code:${candidate}`))) wrong.push(candidate);
      }
      for (const candidate of wrong) expect(await ask(contact, candidate)).to.equal(INVALID);

      const refused = await ask(contact, code);

      expect(refused).to.match(/^绑定码输错次数太多，请 \d+ 分钟后再试/);
      expect(await boundPerson(contact)).to.equal(undefined);
      const ttl = await redis().ttl(`bot-binding:attempts:${contact.id}`);
      expect(ttl).to.be.greaterThan(0).and.at.most(settings.ttlMinutes * 60);
      // The refused try did not use the code up: the resident can still bind another way.
      expect(await redis().exists(`bot-binding:code:${code}`)).to.equal(1);
    });
  });

  describe('other messages', () => {
    it('tells an unbound contact how to bind', async () => {
      const contact = mocker.createContact({ name: '新朋友' });
      expect(await ask(contact, '你好，我想订明天的午饭')).to.equal(replies.howToBind);
      // Digits that are not a 6-digit code are not a binding try.
      expect(await ask(contact, '12345')).to.equal(replies.howToBind);
      expect(await redis().exists(`bot-binding:attempts:${contact.id}`)).to.equal(0);
    });

    it('answers a bound contact with the menu, and does not treat digits as a code', async () => {
      const resident = await makeResident();
      secrets.push(resident.phone!);
      const contact = mocker.createContact({ name: '孙大爷' });
      await makeIdentity(resident, { subject: contact.id });

      expect(await ask(contact, '你好')).to.equal(replies.menu);
      expect(await ask(contact, '123456')).to.equal(replies.menu);
      expect(await redis().exists(`bot-binding:attempts:${contact.id}`)).to.equal(0);
    });

    it('asks for text when it gets a picture or a voice message', async () => {
      const contact = mocker.createContact({ name: '发图片的人' });
      expect(await sendNonText(contact, types.Message.Image)).to.equal(replies.textOnly);
      expect(await sendNonText(contact, types.Message.Audio)).to.equal(replies.textOnly);
    });
  });

  describe('who is talking: cached, and read afresh after every change that matters (issue 20)', () => {
    async function boundResident(name: string) {
      const resident = await makeResident();
      secrets.push(resident.phone!);
      const contact = mocker.createContact({ name });
      await makeIdentity(resident, { subject: contact.id });
      return { resident, contact };
    }

    it('a contact unbound is a stranger from its next message', async () => {
      const { resident, contact } = await boundResident('周阿姨');
      expect(await ask(contact, '你好')).to.equal(replies.menu); // the caller is cached now
      expect(await unbindBotContacts(resident._id, resident)).to.equal(1);
      expect(await ask(contact, '你好')).to.equal(replies.howToBind);
    });

    it('a 代办 link revoked, a role given, an account anonymised: each seen by the next message', async () => {
      const { resident, contact } = await boundResident('吴先生');
      const elder = await makeResident();
      const link = await makeProxyLink(resident, elder);
      expect([...(await callerForContact(contact.id))!.elders]).to.deep.equal([String(elder._id)]);
      await ProxyLink.updateOne({ _id: link._id }, { $set: { status: 'revoked' } });
      expect((await callerForContact(contact.id))!.elders.size).to.equal(0);
      await Person.updateOne({ _id: resident._id }, { $addToSet: { roles: 'volunteer' } });
      expect((await callerForContact(contact.id))!.roles).to.include('volunteer');
      await Person.updateOne({ _id: resident._id }, { $set: { status: 'anonymised' } });
      expect(await callerForContact(contact.id)).to.equal(null);
      expect(await ask(contact, '你好')).to.equal(replies.howToBind);
    });

    it('20 contacts writing at once (read together) are each their own person; a stranger among them is nobody', async () => {
      const bound = await Promise.all(Array.from({ length: 20 }, (_, i) => boundResident(`同时${i}`)));
      const elder = await makeResident();
      await makeProxyLink(bound[3]!.resident, elder);
      const stranger = mocker.createContact({ name: '陌生人' });
      const callers = await Promise.all([...bound.map((b) => callerForContact(b.contact.id)), callerForContact(stranger.id)]);
      expect(callers.slice(0, 20).map((c) => c?.id)).to.deep.equal(bound.map((b) => String(b.resident._id)));
      expect(callers.slice(0, 20).map((c) => c!.elders.size)).to.deep.equal(bound.map((_, i) => (i === 3 ? 1 : 0)));
      expect(callers[20]).to.equal(null);
    });
  });

  describe('in a group', () => {
    let member: mock.ContactMock;
    let room: mock.RoomMock;

    before(() => {
      member = mocker.createContact({ name: '周阿姨' });
      const neighbour = mocker.createContact({ name: '邻居' });
      room = mocker.createRoom({ topic: '幸福里邻里群', memberIdList: [botUser.id, member.id, neighbour.id] });
    });

    it('stays silent when not @-mentioned', async () => {
      const { code } = await residentWithCode();
      const silent = staysSilent(room);
      member.say('大家好，今天天气不错').to(room);
      member.say(code).to(room);
      expect(await silent).to.equal(true);
      expect(await boundPerson(member)).to.equal(undefined);
    });

    it('answers the member who @-mentions it, reading the text without the mention', async () => {
      const howTo = nextReply(room);
      member.say('@社区小助手\u2005你好', [botUser]).to(room);
      const answer = await howTo;
      expect(answer).to.include(replies.howToBind);
      expect(answer.startsWith('@周阿姨'), 'the reply @-mentions the sender').to.equal(true);

      const { resident, code } = await residentWithCode();
      const bound = nextReply(room);
      member.say(`@社区小助手 ${code}`, [botUser]).to(room);
      expect(await bound).to.include(replies.bindingSucceeded(resident.name));
      expect(String(await boundPerson(member))).to.equal(String(resident._id));
    });
  });

  // Mocha runs a suite's own tests before its nested suites: this one is nested to run last.
  describe('logs', () => {
    it('never hold a binding code or a phone number', () => {
      expect(secrets.length).to.be.greaterThan(0);
      expect(capturedLogLines.some((line) => line.includes('bot contact bound')), 'the bot did log').to.equal(true);
      // Digits on their own, so a timestamp that happens to contain them does not count.
      const patterns = secrets.map((secret) => new RegExp(`(?<![0-9])${secret}(?![0-9])`));
      for (const line of capturedLogLines) {
        for (const pattern of patterns) expect(line, 'a log line').not.to.match(pattern);
      }
    });
  });
});
