import { trusted } from 'mongoose';
import argon2 from 'argon2';
import type { Redis } from 'ioredis';
import { Identity, verifyPassword } from '../../models/identity.js';
import { Person, type PersonFields } from '../../models/person.js';
import { attemptFailed, attemptSucceeded, takeLoginAttempt, type LockoutSettings } from '../auth/loginLockout.js';
import { startSession, type SessionSettings, type SessionTokens } from '../auth/sessions.js';
import { AccountAnonymisedError, AccountLockedError, InvalidCredentialsError } from '../errors.js';
import type { WechatClient } from '../wechat/index.js';
import { isDuplicateKey } from '../storage/mongo.js';

const SESSION_KEY_TTL_SECONDS = 3 * 86_400;

// Verified against when the username is unknown, so a wrong username costs as much time as
// a wrong password and response times do not tell which usernames exist.
const DUMMY_HASH = argon2.hash('not-a-real-password');

/**
 * Mini-program login: exchanges the wx.login code through code2session and signs the WeChat
 * user in, creating a pending resident on first login. The session_key is kept in Redis for
 * later decryption of WeChat data and never leaves the server.
 */
export async function loginWithWechat(
  deps: { wechat: WechatClient; sessions: SessionSettings; redis: Redis },
  code: string,
): Promise<{ tokens: SessionTokens; person: PersonFields; isNew: boolean }> {
  const { openid, unionid, sessionKey } = await deps.wechat.code2Session(code);
  let { person, isNew } = await findOrCreateWechatPerson(openid, unionid);
  if (person.status === 'anonymised') throw AccountAnonymisedError();
  await deps.redis.set(`wechat:session-key:${person._id}`, sessionKey, 'EX', SESSION_KEY_TTL_SECONDS);
  return { tokens: await startSession(deps.sessions, person._id), person, isNew };
}

async function findOrCreateWechatPerson(openid: string, unionid?: string): Promise<{ person: PersonFields; isNew: boolean }> {
  const existing = await Identity.findOne({ provider: 'wechat_miniprogram', subject: openid });
  if (existing) return { person: (await Person.findById(existing.person))!, isNew: false };

  // The same WeChat user may already be known through another app of the same platform.
  const byUnion = unionid ? await Identity.findOne({ provider: 'wechat_unionid', subject: unionid }) : null;
  const person = byUnion ? (await Person.findById(byUnion.person))! : await Person.create({ status: 'pending', roles: ['resident'] });
  try {
    await Identity.create({ provider: 'wechat_miniprogram', subject: openid, person: person._id });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    // A concurrent first login won the unique (provider, subject) race: use its person and
    // remove the one this request created for nothing.
    if (!byUnion) await Person.deleteOne({ _id: person._id, status: 'pending', name: trusted({ $exists: false }) });
    const winner = await Identity.findOne({ provider: 'wechat_miniprogram', subject: openid });
    return { person: (await Person.findById(winner!.person))!, isNew: false };
  }
  if (unionid && !byUnion) {
    await Identity.create({ provider: 'wechat_unionid', subject: unionid, person: person._id }).catch((err) => {
      if (!isDuplicateKey(err)) throw err;
    });
  }
  return { person, isNew: !byUnion };
}

export interface StaffLoginSettings extends LockoutSettings {
  /** Counted once per password actually checked (the lockout's tests and metrics read it). */
  onPasswordCheck?: () => void;
}

/**
 * Staff and admin login with username and password. An attempt is taken per username and
 * per address before the password is looked at, so parallel guesses cannot outrun the limit;
 * reaching it locks the username in Redis and on its identity in MongoDB, so a Redis restart
 * does not lift the lock.
 */
export async function loginStaff(
  deps: { sessions: SessionSettings; redis: Redis; settings: StaffLoginSettings },
  username: string,
  password: string,
  address: string,
): Promise<{ tokens: SessionTokens; person: PersonFields }> {
  const subject = username.trim().toLowerCase();
  await takeLoginAttempt(deps.redis, deps.settings, subject, address);

  const identity = await Identity.findOne({ provider: 'staff_password', subject });
  const lockedFor = identity?.lockedUntil ? Math.ceil((identity.lockedUntil.getTime() - Date.now()) / 1000) : 0;
  if (lockedFor > 0) throw AccountLockedError(lockedFor);

  deps.settings.onPasswordCheck?.();
  const ok = identity
    ? await verifyPassword(identity.passwordHash, password)
    : (await argon2.verify(await DUMMY_HASH, password), false);
  const person = ok ? await Person.findById(identity!.person) : null;
  if (person && person.status !== 'anonymised' && (person.roles.includes('staff') || person.roles.includes('admin'))) {
    await attemptSucceeded(deps.redis, subject, address);
    return { tokens: await startSession(deps.sessions, person._id), person };
  }

  const lockSeconds = await attemptFailed(deps.redis, deps.settings, subject);
  if (lockSeconds === null) throw InvalidCredentialsError();
  if (identity) {
    await Identity.updateOne({ _id: identity._id }, { $set: { lockedUntil: new Date(Date.now() + lockSeconds * 1000) } });
  }
  throw AccountLockedError(lockSeconds);
}
