import { randomInt } from 'node:crypto';
import type { Redis } from 'ioredis';
import { trusted, type Types } from 'mongoose';
import { Identity } from '../../models/identity.js';
import { Person, type PersonDoc, type PersonFields } from '../../models/person.js';
import type { Config } from '../config.js';
import { AccountAnonymisedError, BindingAttemptsExceededError, BindingCodeInvalidError, BindingPausedError, RedisUnavailableError } from '../errors.js';
import { notifyMany } from './notify.js';
import { forgetBotContacts, rememberBotContact } from '../outbox/contacts.js';
import { auditAction } from './audit.js';
import { cachedRead } from '../cache/readCache.js';
import { batchedLoad, readAsOne } from '../cache/batch.js';

export interface BindingSettings {
  ttlMinutes: number;
  /** Wrong tries per WeChat contact per code lifetime. */
  maxAttempts: number;
  /** Wrong tries over all contacts per code lifetime: past it binding pauses for everyone. */
  maxWrongCodesGlobal: number;
}

/** The binding settings of a configuration (the API and the bot use the same). */
export const bindingSettings = (auth: Config['auth']): BindingSettings => ({
  ttlMinutes: auth.bindingCodeTtlMinutes,
  maxAttempts: auth.bindingMaxAttempts,
  maxWrongCodesGlobal: auth.bindingMaxWrongCodesGlobal,
});

const codeKey = (code: string) => `bot-binding:code:${code}`;
const personKey = (personId: string) => `bot-binding:person:${personId}`;
const attemptsKey = (contactId: string) => `bot-binding:attempts:${contactId}`;
const GLOBAL_TRIES_KEY = 'bot-binding:tries';
const ALERTED_KEY = 'bot-binding:burst-alerted';

/**
 * A one-time 6-digit code that binds a WeChat contact to this resident when sent to the bot.
 * Kept in Redis with its expiry; a new code replaces the person's previous one.
 */
export async function issueBindingCode(redis: Redis, person: PersonFields, settings: BindingSettings) {
  requireRedis(redis);
  const ttl = settings.ttlMinutes * 60;
  const previous = await redis.get(personKey(String(person._id)));
  for (;;) {
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    // NX: two residents never hold the same live code.
    if (await redis.set(codeKey(code), String(person._id), 'EX', ttl, 'NX')) {
      await redis.set(personKey(String(person._id)), code, 'EX', ttl);
      if (previous) await redis.del(codeKey(previous));
      return { code, expiresAt: new Date(Date.now() + ttl * 1000) };
    }
  }
}

/**
 * Binds the contact that sent `code` to the code's resident. The code is taken with GETDEL,
 * so it works once even if two messages race. Wrong tries are counted per contact and over
 * all contacts: a million codes cannot be walked by many contacts at once, because past the
 * global limit binding pauses for everyone until the window passes, and staff are told once.
 */
export async function bindBotContact(redis: Redis, contactId: string, code: string, settings: BindingSettings): Promise<PersonDoc> {
  requireRedis(redis); // codes and the counts of wrong tries live only there: fail closed
  const window = settings.ttlMinutes * 60;
  // Both tries are taken before the code is looked at, so guesses sent at once cannot outrun
  // the limits; a right code gives its tries back.
  const [[, attempts], , [, tries], , [, contactTtl], [, globalTtl]] = (await redis
    .multi()
    .incr(attemptsKey(contactId))
    .expire(attemptsKey(contactId), window, 'NX')
    .incr(GLOBAL_TRIES_KEY)
    .expire(GLOBAL_TRIES_KEY, window, 'NX')
    .ttl(attemptsKey(contactId))
    .ttl(GLOBAL_TRIES_KEY)
    .exec())! as Array<[Error | null, unknown]>;
  if (Number(tries) > settings.maxWrongCodesGlobal) {
    await alertStaffOnce(redis, settings, contactId);
    throw BindingPausedError(Math.max(Number(globalTtl), 1));
  }
  if (Number(attempts) > settings.maxAttempts) throw BindingAttemptsExceededError(Math.max(Number(contactTtl), 1));

  const personId = await redis.getdel(codeKey(code));
  if (!personId) throw BindingCodeInvalidError();
  await redis.decr(GLOBAL_TRIES_KEY);
  await redis.del(personKey(personId), attemptsKey(contactId));
  const person = await Person.findById(personId);
  if (!person || person.status === 'anonymised') throw AccountAnonymisedError();
  // A contact belongs to one resident: binding it again moves it to the new code's owner.
  const before = await Identity.findOneAndUpdate(
    { provider: 'wechat_bot', subject: contactId },
    { $set: { person: person._id } },
    { upsert: true, returnDocument: 'before' },
  );
  // The outbox reaches the person through this contact from now on (and the previous owner not).
  await rememberBotContact(person._id, contactId, before?.person);
  await auditAction(person._id, 'botBinding.bind', person._id);
  return person;
}

/** Binding has just paused for everyone: the admins are told, once per window. */
async function alertStaffOnce(redis: Redis, settings: BindingSettings, contactId: string): Promise<void> {
  const window = settings.ttlMinutes * 60;
  if (!(await redis.set(ALERTED_KEY, '1', 'EX', window, 'NX'))) return;
  const admins = await Person.find({ roles: 'admin', status: 'active' }, { _id: 1 }).lean();
  const windowKey = Math.floor(Date.now() / (window * 1000));
  await notifyMany(
    admins.map((a) => ({
      person: a._id,
      key: `binding-burst:${windowKey}:${a._id}`,
      kind: 'security.binding_burst',
      text: `【安全提醒】${settings.ttlMinutes} 分钟内绑定码被输错超过 ${settings.maxWrongCodesGlobal} 次（其中一次来自微信联系人 ${contactId}），机器人绑定已暂停，窗口结束后自动恢复。如非居民正常操作，可能有人在猜测绑定码。`,
    })),
  );
}

/** The persons bound to the contacts asked for at the same moment (src/cache/batch.ts). */
const personsOfContacts = batchedLoad<Types.ObjectId>(async (subjects) => {
  if (!readAsOne(subjects.length)) {
    const found = await Promise.all(subjects.map((subject) => Identity.findOne({ provider: 'wechat_bot', subject }).lean()));
    return new Map(found.flatMap((identity, i) => (identity ? [[subjects[i]!, identity.person] as const] : [])));
  }
  const found = await Identity.find({ provider: 'wechat_bot', subject: trusted({ $in: subjects }) }, { subject: 1, person: 1 }).lean();
  const bySubject = new Map(found.map((identity) => [identity.subject, identity.person]));
  return new Map(subjects.flatMap((s) => (bySubject.has(s.trim()) ? [[s, bySubject.get(s.trim())!] as const] : [])));
});

/** The id of the resident bound to a bot contact, if any. */
export function personIdForContact(contactId: string): Promise<Types.ObjectId | null> {
  // Asked for every message the bot gets: cached (src/cache/readCache.ts; any Identity write
  // outdates it), and read together with the other contacts' first messages of the moment.
  return cachedRead(`bot-contact:${contactId}`, ['Identity'], async () => (await personsOfContacts(contactId)) ?? null, { shared: true });
}

/** Whether a WeChat contact of the bot is bound to the person (staff see it beside 解除绑定). */
export async function isBoundToBot(person: PersonFields): Promise<boolean> {
  return !!(await Identity.findOne({ provider: 'wechat_bot', person: person._id }, { _id: 1 }).lean());
}

/** Removes every bot contact bound to a person; returns how many were bound. */
export async function unbindBotContacts(actor: Types.ObjectId | string, person: PersonFields): Promise<number> {
  const { deletedCount } = await Identity.deleteMany({ provider: 'wechat_bot', person: person._id });
  await forgetBotContacts(person._id);
  await auditAction(actor, 'botBinding.unbind', person._id);
  return deletedCount;
}

/** Binding codes and their try counts live only in Redis: without it, refuse before touching anything. */
function requireRedis(redis: Redis): void {
  if (redis.status !== 'ready') throw RedisUnavailableError();
}
