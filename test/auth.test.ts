import { trusted } from 'mongoose';
import { expect } from 'chai';
import { Identity, Person, RefreshToken } from '../models/index.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { TEST_JWT_SECRET, testConfig, testEnvironment } from './support/env.js';
import { capturedLogLines } from './support/logs.js';
import { cleanStorage, useCleanStorage } from './support/storage.js';
import { makeResident, makeStaff } from './factories/index.js';

describe('sign-in', () => {
  useCleanStorage();
  let request: ReturnType<typeof createTestApp>['request'];
  const standIn = () => testEnvironment().wechatStandIn;

  before(() => {
    ({ request } = createTestApp({ config: testConfig({ STAFF_LOGIN_MAX_FAILURES: '3', STAFF_LOCKOUT_MINUTES: '15' }) }));
  });
  beforeEach(() => standIn().reset());

  describe('POST /api/v1/auth/wechat/login', () => {
    beforeEach(cleanStorage);
    it('creates a pending resident on first login and signs the same person in next time', async () => {
      const first = await request.post('/api/v1/auth/wechat/login').send({ code: 'zhang#1' }).expect(200);
      expect(first.body).to.include({ tokenType: 'Bearer', expiresIn: 900, isNewUser: true });
      expect(first.body.person).to.include({ status: 'pending', name: null });
      expect(first.body.accessToken).to.be.a('string');
      expect(first.body.refreshToken).to.be.a('string');
      expect(JSON.stringify(first.body)).not.to.match(/session_?key/i);

      const again = await request.post('/api/v1/auth/wechat/login').send({ code: 'zhang#2' }).expect(200);
      expect(again.body.isNewUser).to.equal(false);
      expect(again.body.person.id).to.equal(first.body.person.id);
      expect(await Identity.countDocuments({ provider: 'wechat_miniprogram' })).to.equal(1);
      expect(await Identity.countDocuments({ provider: 'wechat_unionid' })).to.equal(1);
    });

    it('keeps session_key on the server: in Redis, in no response and no log line', async () => {
      const res = await request.post('/api/v1/auth/wechat/login').send({ code: 'li#1' }).expect(200);
      const [sessionKey] = standIn().issuedSessionKeys;
      expect(await testEnvironment().redis.get(`wechat:session-key:${res.body.person.id}`)).to.equal(sessionKey);
      expect(JSON.stringify(res.body)).not.to.include(sessionKey!);
      expect(capturedLogLines.join('\n')).not.to.include(sessionKey!);
    });

    it('creates one person when the same new user logs in twice at once', async () => {
      const results = await Promise.all(
        [1, 2, 3, 4, 5].map((n) => request.post('/api/v1/auth/wechat/login').send({ code: `wang#${n}` })),
      );
      const ids = new Set(results.map((r) => r.body.person?.id));
      expect(results.map((r) => r.status)).to.deep.equal([200, 200, 200, 200, 200]);
      expect(ids.size).to.equal(1);
      expect(await Person.countDocuments({ status: 'pending' })).to.equal(1);
    });

    const errors: Array<[string, number, string]> = [
      ['err--1', 503, 'wechat_busy'],
      ['err-40029', 401, 'wechat_code_invalid'],
      ['err-40163', 401, 'wechat_code_invalid'],
      ['err-45011', 429, 'wechat_rate_limited'],
      ['err-40226', 403, 'wechat_user_blocked'],
    ];
    for (const [code, status, errorCode] of errors) {
      it(`maps WeChat's ${code.slice(4)} to ${status} ${errorCode} and creates nobody`, async () => {
        const res = await request.post('/api/v1/auth/wechat/login').send({ code }).expect(status);
        expect(res.body.error.code).to.equal(errorCode);
        expect(res.body.error.message).to.match(/[\u4e00-\u9fff]/);
        expect(await Person.countDocuments()).to.equal(0);
      });
    }

    it('refuses a code used twice (WeChat 40163)', async () => {
      await request.post('/api/v1/auth/wechat/login').send({ code: 'once' }).expect(200);
      const res = await request.post('/api/v1/auth/wechat/login').send({ code: 'once' }).expect(401);
      expect(res.body.error.code).to.equal('wechat_code_invalid');
    });

    it('refuses a missing or non-string code with 400', async () => {
      await request.post('/api/v1/auth/wechat/login').send({}).expect(400);
      const res = await request.post('/api/v1/auth/wechat/login').send({ code: trusted({ $ne: null }) }).expect(400);
      expect(res.body.error.code).to.equal('validation_error');
    });
  });

  describe('POST /api/v1/auth/refresh', () => {
    async function login() {
      return (await request.post('/api/v1/auth/wechat/login').send({ code: `refresh-user-${Math.random()}#1` }).expect(200)).body;
    }

    it('rotates: a refresh token works once and returns a new pair', async () => {
      const session = await login();
      const next = await request.post('/api/v1/auth/refresh').send({ refreshToken: session.refreshToken }).expect(200);
      expect(next.body.refreshToken).not.to.equal(session.refreshToken);
      await request.get('/api/v1/me').set('Authorization', `Bearer ${next.body.accessToken}`).expect(200);
      await request.post('/api/v1/auth/refresh').send({ refreshToken: next.body.refreshToken }).expect(200);
    });

    it('detects reuse: replaying a rotated token revokes the whole family', async () => {
      const session = await login();
      const next = await request.post('/api/v1/auth/refresh').send({ refreshToken: session.refreshToken }).expect(200);
      const replay = await request.post('/api/v1/auth/refresh').send({ refreshToken: session.refreshToken }).expect(401);
      expect(replay.body.error.code).to.equal('refresh_token_reused');
      // The thief's copy and the owner's newer tokens are all dead now.
      const newer = await request.post('/api/v1/auth/refresh').send({ refreshToken: next.body.refreshToken }).expect(401);
      expect(newer.body.error.code).to.equal('refresh_token_reused');
      await request.get('/api/v1/me').set('Authorization', `Bearer ${next.body.accessToken}`).expect(401);
      const left = await RefreshToken.find({ person: session.person.id, status: trusted({ $ne: 'revoked' }) }).lean();
      expect(left, JSON.stringify(left)).to.have.length(0);
    });

    it('lets exactly one of many racing uses of the same token succeed', async () => {
      const session = await login();
      const results = await Promise.all(
        Array.from({ length: 10 }, () => request.post('/api/v1/auth/refresh').send({ refreshToken: session.refreshToken })),
      );
      expect(results.filter((r) => r.status === 200)).to.have.length(1);
    });

    it('refuses an unknown token with 401 token_invalid', async () => {
      const res = await request.post('/api/v1/auth/refresh').send({ refreshToken: 'x'.repeat(43) }).expect(401);
      expect(res.body.error.code).to.equal('token_invalid');
    });
  });

  describe('POST /api/v1/auth/logout', () => {
    it('ends the session: its access and refresh tokens stop working', async () => {
      const session = (await request.post('/api/v1/auth/wechat/login').send({ code: 'bye#1' }).expect(200)).body;
      await request.post('/api/v1/auth/logout').set('Authorization', `Bearer ${session.accessToken}`).expect(204);
      await request.get('/api/v1/me').set('Authorization', `Bearer ${session.accessToken}`).expect(401);
      await request.post('/api/v1/auth/refresh').send({ refreshToken: session.refreshToken }).expect(401);
    });

    it('needs a token (401)', async () => {
      const res = await request.post('/api/v1/auth/logout').expect(401);
      expect(res.body.error.code).to.equal('unauthenticated');
    });
  });

  describe('access tokens', () => {
    it('refuses a token signed with another algorithm, key or none', async () => {
      const resident = await makeResident();
      const good = (await bearerFor(resident)).slice('Bearer '.length);
      const [, payload] = good.split('.');
      const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;
      const { SignJWT } = await import('jose');
      const otherKey = await new SignJWT({ fam: 'x' }).setProtectedHeader({ alg: 'HS256' }).setSubject(String(resident._id))
        .setIssuer('community-service-booking').setAudience('community-service-api').setExpirationTime('5m')
        .sign(new TextEncoder().encode('another-secret-another-secret-another'));
      const hs512 = await new SignJWT({ fam: 'x' }).setProtectedHeader({ alg: 'HS512' }).setSubject(String(resident._id))
        .setIssuer('community-service-booking').setAudience('community-service-api').setExpirationTime('5m')
        .sign(new TextEncoder().encode(TEST_JWT_SECRET));
      for (const token of [none, otherKey, hs512, `${good}x`]) {
        const res = await request.get('/api/v1/me').set('Authorization', `Bearer ${token}`).expect(401);
        expect(res.body.error.code).to.equal('token_invalid');
      }
      await request.get('/api/v1/me').set('Authorization', `Bearer ${good}`).expect(200);
    });
  });

  describe('POST /api/v1/auth/staff/login', () => {
    it('signs staff in with username and password, and never returns the password or hash', async () => {
      await makeStaff({}, { username: 'zhaoli', password: 'correct horse battery' });
      const res = await request.post('/api/v1/auth/staff/login').send({ username: 'ZhaoLi', password: 'correct horse battery' }).expect(200);
      expect(res.body.person.roles).to.deep.equal(['staff']);
      const text = JSON.stringify(res.body);
      expect(text).not.to.include('correct horse battery');
      expect(text).not.to.include('$argon2');
      expect(capturedLogLines.join('\n')).not.to.include('correct horse battery');
    });

    it('answers a wrong password and an unknown user alike (401 invalid_credentials)', async () => {
      await makeStaff({}, { username: 'qianwei', password: 'right-password' });
      const wrong = await request.post('/api/v1/auth/staff/login').send({ username: 'qianwei', password: 'nope' }).expect(401);
      const unknown = await request.post('/api/v1/auth/staff/login').send({ username: 'nobody', password: 'nope' }).expect(401);
      expect(wrong.body).to.deep.equal(unknown.body);
      expect(wrong.body.error.code).to.equal('invalid_credentials');
    });

    it('locks the account after repeated failures, even for the right password, and says when to retry', async () => {
      await makeStaff({}, { username: 'sunli', password: 'right-password' });
      for (let i = 0; i < 2; i++) {
        await request.post('/api/v1/auth/staff/login').send({ username: 'sunli', password: 'bad' }).expect(401);
      }
      const locked = await request.post('/api/v1/auth/staff/login').send({ username: 'sunli', password: 'bad' }).expect(423);
      expect(locked.body.error.code).to.equal('account_locked');
      expect(locked.headers['retry-after']).to.equal('900');
      expect(locked.body.error.message).to.include('15 分钟');
      await request.post('/api/v1/auth/staff/login').send({ username: 'sunli', password: 'right-password' }).expect(423);
      expect(await testEnvironment().redis.ttl('auth:login-attempts:user:sunli')).to.be.within(890, 900);
    });

    it('does not let a resident without a staff role in', async () => {
      const { person } = await makeStaff({}, { username: 'notstaff', password: 'right-password' });
      await Person.updateOne({ _id: person._id }, { $set: { roles: ['resident'] } });
      await request.post('/api/v1/auth/staff/login').send({ username: 'notstaff', password: 'right-password' }).expect(401);
    });
  });
});
