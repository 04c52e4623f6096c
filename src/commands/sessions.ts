import { trusted } from 'mongoose';
import argon2 from 'argon2';
import type { Redis } from 'ioredis';
import { Identity, verifyPassword } from '../../models/identity.js';
import { Person, type PersonFields } from '../../models/person.js';
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

export interface StaffLoginSettings {
  maxFailures: number;
  lockoutMinutes: number;
}

/**
 * Staff and admin login with username and password. Failures are counted per username in
 * Redis; reaching the limit locks the account for a while, whatever password comes next.
 */
export async function loginStaff(
  deps: { sessions: SessionSettings; redis: Redis; settings: StaffLoginSettings },
  username: string,
  password: string,
): Promise<{ tokens: SessionTokens; person: PersonFields }> {
  const subject = username.trim().toLowerCase();
  const lockKey = `auth:staff-lock:${subject}`;
  const failKey = `auth:staff-failures:${subject}`;
  const lockedFor = await deps.redis.ttl(lockKey);
  if (lockedFor > 0) throw AccountLockedError(lockedFor);

  const identity = await Identity.findOne({ provider: 'staff_password', subject });
  const ok = identity
    ? await verifyPassword(identity.passwordHash, password)
    : (await argon2.verify(await DUMMY_HASH, password), false);
  const person = ok ? await Person.findById(identity!.person) : null;
  if (person && person.status !== 'anonymised' && (person.roles.includes('staff') || person.roles.includes('admin'))) {
    await deps.redis.del(failKey);
    return { tokens: await startSession(deps.sessions, person._id), person };
  }

  const lockSeconds = deps.settings.lockoutMinutes * 60;
  const failures = await deps.redis.incr(failKey);
  if (failures === 1) await deps.redis.expire(failKey, lockSeconds);
  if (failures >= deps.settings.maxFailures) {
    await deps.redis.multi().set(lockKey, '1', 'EX', lockSeconds).del(failKey).exec();
    throw AccountLockedError(lockSeconds);
  }
  throw InvalidCredentialsError();
}
