import { randomInt } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Types } from 'mongoose';
import { Identity } from '../../models/identity.js';
import { Person, type PersonDoc, type PersonFields } from '../../models/person.js';
import { AccountAnonymisedError, BindingAttemptsExceededError, BindingCodeInvalidError } from '../errors.js';
import { forgetBotContacts, rememberBotContact } from '../outbox/contacts.js';
import { auditAction } from './audit.js';
import { cachedRead } from '../cache/readCache.js';

export interface BindingSettings {
  ttlMinutes: number;
  maxAttempts: number;
}

const codeKey = (code: string) => `bot-binding:code:${code}`;
const personKey = (personId: string) => `bot-binding:person:${personId}`;
const attemptsKey = (contactId: string) => `bot-binding:attempts:${contactId}`;

/**
 * A one-time 6-digit code that binds a WeChat contact to this resident when sent to the bot.
 * Kept in Redis with its expiry; a new code replaces the person's previous one.
 */
export async function issueBindingCode(redis: Redis, person: PersonFields, settings: BindingSettings) {
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
 * so it works once even if two messages race; wrong tries are counted per contact and stop
 * after the limit until the window passes.
 */
export async function bindBotContact(redis: Redis, contactId: string, code: string, settings: BindingSettings): Promise<PersonDoc> {
  const window = settings.ttlMinutes * 60;
  const attempts = await redis.incr(attemptsKey(contactId));
  if (attempts === 1) await redis.expire(attemptsKey(contactId), window);
  if (attempts > settings.maxAttempts) throw BindingAttemptsExceededError(Math.max(await redis.ttl(attemptsKey(contactId)), 1));

  const personId = await redis.getdel(codeKey(code));
  if (!personId) throw BindingCodeInvalidError();
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

/** The id of the resident bound to a bot contact, if any. */
export function personIdForContact(contactId: string): Promise<Types.ObjectId | null> {
  // Asked for every message the bot gets: cached (src/cache/readCache.ts).
  return cachedRead(`bot-contact:${contactId}`, ['Identity'], async () =>
    (await Identity.findOne({ provider: 'wechat_bot', subject: contactId }).lean())?.person ?? null);
}

/** Removes every bot contact bound to a person; returns how many were bound. */
export async function unbindBotContacts(actor: Types.ObjectId | string, person: PersonFields): Promise<number> {
  const { deletedCount } = await Identity.deleteMany({ provider: 'wechat_bot', person: person._id });
  await forgetBotContacts(person._id);
  await auditAction(actor, 'botBinding.unbind', person._id);
  return deletedCount;
}
