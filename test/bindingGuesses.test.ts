import { expect } from 'chai';
import { Identity, Notification } from '../models/index.js';
import { bindBotContact, issueBindingCode, type BindingSettings } from '../src/commands/botBinding.js';
import { AppError } from '../src/errors.js';
import { testEnvironment } from './support/env.js';
import { cleanStorage, useCleanStorage } from './support/storage.js';
import { makeResident, makeStaff } from './factories/index.js';

const settings: BindingSettings = { ttlMinutes: 10, maxAttempts: 5, maxWrongCodesGlobal: 50 };
const codeOf = async (attempt: Promise<unknown>) => {
  try {
    await attempt;
    return 'bound';
  } catch (err) {
    return (err as AppError).code;
  }
};

describe('binding codes under a guessing attack', () => {
  useCleanStorage();
  beforeEach(cleanStorage);
  const redis = () => testEnvironment().redis;

  describe('bindBotContact', () => {
    it('pauses binding for everyone after 50 wrong codes from 200 contacts, and tells the admins once', async () => {
      const { person: admin } = await makeStaff({ roles: ['admin'], staffScope: undefined });
      const resident = await makeResident();
      const { code } = await issueBindingCode(redis(), resident, settings);
      const wrong = (i: number) => String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0');
      // 200 contacts × 5 tries, all wrong and all at once: 1,000 guesses.
      const outcomes = await Promise.all(
        Array.from({ length: 1_000 }, (_, i) => codeOf(bindBotContact(redis(), `guesser-${i % 200}`, wrong(i), settings))),
      );
      const counts = (c: string) => outcomes.filter((o) => o === c).length;
      expect(counts('binding_code_invalid')).to.equal(50);
      expect(counts('binding_paused')).to.equal(950);
      expect(counts('bound')).to.equal(0);

      // The right code is refused too while binding is paused: a lucky guess would not bind.
      expect(await codeOf(bindBotContact(redis(), 'guesser-lucky', code, settings))).to.equal('binding_paused');
      expect(await Identity.countDocuments({ provider: 'wechat_bot' })).to.equal(0);

      const alerts = await Notification.find({ kind: 'security.binding_burst' }).lean();
      expect(alerts.map((a) => String(a.person))).to.deep.equal([String(admin._id)]);
      expect(alerts[0]!.text).to.include('绑定码被输错超过 50 次');
    });

    it('still binds a resident whose family sent one wrong code first', async () => {
      const resident = await makeResident();
      const { code } = await issueBindingCode(redis(), resident, settings);
      expect(await codeOf(bindBotContact(redis(), 'family-1', '000000' === code ? '000001' : '000000', settings))).to.equal('binding_code_invalid');
      const bound = await bindBotContact(redis(), 'family-1', code, settings);
      expect(String(bound._id)).to.equal(String(resident._id));
    });

    it('answers the paused state in Chinese with when to try again', async () => {
      await redis().set('bot-binding:tries', '50', 'EX', 300);
      const err = await bindBotContact(redis(), 'someone', '123456', settings).catch((e: AppError) => e);
      expect(err).to.be.instanceOf(AppError);
      expect((err as AppError).status).to.equal(429);
      expect((err as AppError).message).to.match(/5 分钟后/);
      expect((err as AppError).headers).to.deep.equal({ 'Retry-After': '300' });
    });
  });
});
