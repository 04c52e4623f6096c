import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { AppError } from '../src/errors.js';
import {
  WechatApiError,
  WechatClient,
  startWechatStandIn,
  truncateSubscribeValue,
  type SubscribeMessage,
  type WechatStandIn,
} from '../src/wechat/index.js';
import { capturedLogLines, createTestLogger } from './support/logs.js';
import { useCleanStorage } from './support/storage.js';

const APP_ID = 'wx-test-appid';
// Unique per run, so a hit in the captured logs can only come from this file's calls.
const APP_SECRET = `secret-${randomUUID()}`;
const CODE2SESSION = '/sns/jscode2session';
const STABLE_TOKEN = '/cgi-bin/stable_token';
const SEND = '/cgi-bin/message/subscribe/send';
const TEMPLATE = 'tmpl-booking-confirmed';

/** A fresh single-use code for `user` (the stand-in's user is the part before `#`). */
const code = (user = `user-${randomUUID()}`) => `${user}#${randomUUID()}`;

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

async function expectAppError(promise: Promise<unknown>, status: number, errorCode: string): Promise<AppError> {
  const err = await rejection(promise);
  expect(err).to.be.instanceOf(AppError);
  expect(err).to.include({ status, code: errorCode });
  return err as AppError;
}

async function expectApiError(promise: Promise<unknown>, errcode: number, retryable: boolean): Promise<WechatApiError> {
  const err = await rejection(promise);
  expect(err).to.be.instanceOf(WechatApiError);
  expect(err).to.include({ errcode, retryable });
  return err as WechatApiError;
}

describe('WeChat client and stand-in', () => {
  useCleanStorage();
  let standIn: WechatStandIn;
  let client: WechatClient;
  const clientFor = (baseUrl: string, appSecret = APP_SECRET) =>
    new WechatClient({ baseUrl, appId: APP_ID, appSecret, timeoutMs: 500, logger: createTestLogger() });

  before(async () => {
    standIn = await startWechatStandIn({ appId: APP_ID, appSecret: APP_SECRET });
    client = clientFor(standIn.baseUrl);
  });
  beforeEach(() => standIn.reset());
  after(() => standIn.close());

  describe('code2Session', () => {
    it('exchanges a good code for openid, unionid and the session key', async () => {
      const session = await client.code2Session(code('alice'));
      expect(session.openid).to.match(/^o[\w-]{27}$/);
      expect(session.unionid).to.match(/^o[\w-]{27}$/);
      expect(Buffer.from(session.sessionKey, 'base64')).to.have.length(24);
      expect(standIn.issuedSessionKeys).to.deep.equal([session.sessionKey]);
    });

    it('logs the same user in with two fresh codes, and tells users apart', async () => {
      const first = await client.code2Session('alice#1');
      const second = await client.code2Session('alice#2');
      const bob = await client.code2Session('bob#1');
      expect(second).to.include({ openid: first.openid, unionid: first.unionid });
      expect(second.sessionKey).not.to.equal(first.sessionKey);
      expect(bob.openid).not.to.equal(first.openid);
    });

    it('answers a registered user with the pinned ids (no unionid when none is pinned)', async () => {
      standIn.registerUser('carol', { openid: 'o-carol-pinned' });
      const session = await client.code2Session(code('carol'));
      expect(session.openid).to.equal('o-carol-pinned');
      expect(session).not.to.have.property('unionid');
    });

    it('refuses a code used twice, as WeChat does (401 wechat_code_invalid)', async () => {
      const once = code();
      await client.code2Session(once);
      await expectAppError(client.code2Session(once), 401, 'wechat_code_invalid');
    });

    it('refuses an empty code without calling WeChat', async () => {
      await expectAppError(client.code2Session(''), 401, 'wechat_code_invalid');
      expect(standIn.calls[CODE2SESSION]).to.equal(undefined);
    });

    it('retries -1 (system busy) once, then answers 503 wechat_busy', async () => {
      for (let i = 0; i < 3; i++) standIn.failNext(CODE2SESSION, -1);
      const err = await expectAppError(client.code2Session(code()), 503, 'wechat_busy');
      expect(err.headers).to.deep.equal({ 'Retry-After': '5' });
      expect(standIn.calls[CODE2SESSION]).to.equal(2);
    });

    it('succeeds when the retry after -1 succeeds', async () => {
      standIn.failNext(CODE2SESSION, -1);
      const session = await client.code2Session(code('dave'));
      expect(session.openid).to.match(/^o/);
      expect(standIn.calls[CODE2SESSION]).to.equal(2);
    });

    const mappings: Array<[number, number, string]> = [
      [40029, 401, 'wechat_code_invalid'],
      [40163, 401, 'wechat_code_invalid'],
      [45011, 429, 'wechat_rate_limited'],
      [40226, 403, 'wechat_user_blocked'],
      [40013, 502, 'wechat_error'],
    ];
    for (const [errcode, status, errorCode] of mappings) {
      it(`maps errcode ${errcode} to ${status} ${errorCode}, without a retry`, async () => {
        await expectAppError(client.code2Session(`err-${errcode}#${randomUUID()}`), status, errorCode);
        expect(standIn.calls[CODE2SESSION]).to.equal(1);
      });
    }

    it('names an unknown errcode in the generic error', async () => {
      const err = await expectAppError(client.code2Session('err-40125'), 502, 'wechat_error');
      expect(err.message).to.include('40125');
    });

    it('reports a wrong app secret as wechat_error, not as a bad code', async () => {
      await expectAppError(clientFor(standIn.baseUrl, 'wrong-secret').code2Session(code()), 502, 'wechat_error');
    });

    it('answers wechat_busy when nothing listens', async () => {
      const gone = await startWechatStandIn();
      await gone.close();
      await expectAppError(clientFor(gone.baseUrl).code2Session(code()), 503, 'wechat_busy');
    });

    for (const failure of ['garbage', 'http500'] as const) {
      it(`answers wechat_busy on ${failure}, without a retry (the code may be used up)`, async () => {
        standIn.failNext(CODE2SESSION, failure);
        await expectAppError(client.code2Session(code()), 503, 'wechat_busy');
        expect(standIn.calls[CODE2SESSION]).to.equal(1);
      });
    }

    it('gives up after the timeout when WeChat hangs', async () => {
      standIn.failNext(CODE2SESSION, 'hang');
      const started = Date.now();
      await expectAppError(client.code2Session(code()), 503, 'wechat_busy');
      expect(Date.now() - started).to.be.within(450, 2000);
      expect(standIn.calls[CODE2SESSION]).to.equal(1);
    });
  });

  describe('getStableAccessToken', () => {
    it('answers the same token until a forced refresh', async () => {
      const first = await client.getStableAccessToken();
      const again = await client.getStableAccessToken();
      expect(again.accessToken).to.equal(first.accessToken);
      expect(first.expiresIn).to.be.within(7190, 7200);
      const refreshed = await client.getStableAccessToken(true);
      expect(refreshed.accessToken).not.to.equal(first.accessToken);
      expect(standIn.calls[STABLE_TOKEN]).to.equal(3);
    });

    it('issues a new token once the current one is expired', async () => {
      const first = await client.getStableAccessToken();
      standIn.expireTokens();
      expect((await client.getStableAccessToken()).accessToken).not.to.equal(first.accessToken);
    });

    it('retries -1 once', async () => {
      standIn.failNext(STABLE_TOKEN, -1);
      expect((await client.getStableAccessToken()).accessToken).to.be.a('string');
      expect(standIn.calls[STABLE_TOKEN]).to.equal(2);
    });

    it('maps a wrong secret to wechat_error and a hang to wechat_busy', async () => {
      await expectAppError(clientFor(standIn.baseUrl, 'wrong-secret').getStableAccessToken(), 502, 'wechat_error');
      standIn.failNext(STABLE_TOKEN, 'hang');
      await expectAppError(client.getStableAccessToken(), 503, 'wechat_busy');
    });
  });

  describe('sendSubscribeMessage', () => {
    const message = (openid: string, data: Record<string, string> = { thing1: '老年助餐 午餐', time2: '2026-03-02 11:30' }): SubscribeMessage => ({
      toUser: openid,
      templateId: TEMPLATE,
      page: 'pages/bookings/index',
      data,
    });
    let token: string;
    beforeEach(async () => {
      ({ accessToken: token } = await client.getStableAccessToken());
    });

    it('sends one message per grant, then answers 43101 (not retryable)', async () => {
      standIn.grantSubscription('o-user', TEMPLATE);
      await client.sendSubscribeMessage(token, message('o-user'));
      expect(standIn.sentMessages).to.deep.equal([{
        toUser: 'o-user',
        templateId: TEMPLATE,
        page: 'pages/bookings/index',
        miniprogramState: 'formal',
        lang: 'zh_CN',
        data: { thing1: '老年助餐 午餐', time2: '2026-03-02 11:30' },
      }]);
      const err = await expectApiError(client.sendSubscribeMessage(token, message('o-user')), 43101, false);
      expect(err.tokenInvalid).to.equal(false);
    });

    it('counts several grants', async () => {
      standIn.grantSubscription('o-user', TEMPLATE, 2);
      await client.sendSubscribeMessage(token, message('o-user'));
      await client.sendSubscribeMessage(token, message('o-user'));
      await expectApiError(client.sendSubscribeMessage(token, message('o-user')), 43101, false);
      expect(standIn.sentMessages).to.have.length(2);
    });

    it('answers 40001 (retryable, token invalid) for an unknown or replaced token, keeping the grant', async () => {
      standIn.grantSubscription('o-user', TEMPLATE);
      const err = await expectApiError(client.sendSubscribeMessage('not-a-token', message('o-user')), 40001, true);
      expect(err.tokenInvalid).to.equal(true);
      await client.getStableAccessToken(true);
      await expectApiError(client.sendSubscribeMessage(token, message('o-user')), 40001, true);
      expect(standIn.grantsLeft('o-user', TEMPLATE)).to.equal(1);
    });

    it('answers 42001 (retryable) for an expired token', async () => {
      standIn.grantSubscription('o-user', TEMPLATE);
      standIn.expireTokens();
      const err = await expectApiError(client.sendSubscribeMessage(token, message('o-user')), 42001, true);
      expect(err.tokenInvalid).to.equal(true);
    });

    it('answers 47003 (not retryable) for a field over its limit, and accepts it truncated', async () => {
      standIn.grantSubscription('o-user', TEMPLATE);
      const long = '社区活动室二楼书法教室预约已经确认请准时到达';
      await expectApiError(client.sendSubscribeMessage(token, message('o-user', { thing1: long })), 47003, false);
      expect(standIn.grantsLeft('o-user', TEMPLATE)).to.equal(1);
      await client.sendSubscribeMessage(token, message('o-user', { thing1: truncateSubscribeValue('thing', long) }));
      expect(standIn.sentMessages).to.have.length(1);
    });

    it('does not retry: -1, a hang and a 500 are reported as retryable errcode -1', async () => {
      standIn.failNext(SEND, -1);
      await expectApiError(client.sendSubscribeMessage(token, message('o-user')), -1, true);
      expect(standIn.calls[SEND]).to.equal(1);
      standIn.failNext(SEND, 'hang');
      expect(await expectApiError(client.sendSubscribeMessage(token, message('o-user')), -1, true))
        .to.include({ errmsg: 'timeout' });
      standIn.failNext(SEND, 'http500');
      expect(await expectApiError(client.sendSubscribeMessage(token, message('o-user')), -1, true))
        .to.include({ errmsg: 'http_500' });
    });
  });

  describe('truncateSubscribeValue', () => {
    const chars = (s: string) => Array.from(s).length;

    it('cuts each kind to its limit, with "…" only in readable text', () => {
      const thing = truncateSubscribeValue('thing', '一二三四五六七八九十一二三四五六七八九十一二');
      expect(thing).to.equal('一二三四五六七八九十一二三四五六七八九…');
      expect(truncateSubscribeValue('phrase', '预约已经成功了')).to.equal('预约已经成');
      expect(chars(truncateSubscribeValue('name', '欧阳'.repeat(6)))).to.equal(10);
      expect(truncateSubscribeValue('character_string', 'A'.repeat(40))).to.equal('A'.repeat(32));
      expect(truncateSubscribeValue('number', '9'.repeat(40))).to.equal('9'.repeat(32));
    });

    it('leaves values within the limit, times and dates alone', () => {
      expect(truncateSubscribeValue('thing', '二'.repeat(20))).to.equal('二'.repeat(20));
      expect(truncateSubscribeValue('time', '2026-03-02 11:30:00 星期一 午餐时段')).to.equal('2026-03-02 11:30:00 星期一 午餐时段');
      expect(truncateSubscribeValue('date', '2026年03月02日')).to.equal('2026年03月02日');
    });

    it('counts an emoji as one character and never splits one', () => {
      const smiles = truncateSubscribeValue('thing', '😀'.repeat(25));
      expect(chars(smiles)).to.equal(20);
      expect(Buffer.from(smiles).toString()).to.equal(smiles); // no lone surrogate
      const family = truncateSubscribeValue('thing', `${'a'.repeat(18)}👨‍👩‍👧`);
      expect(family).to.equal(`${'a'.repeat(18)}…`);
      expect(truncateSubscribeValue('thing', '🎉'.repeat(20))).to.equal('🎉'.repeat(20));
    });
  });

  describe('secrets', () => {
    it('never puts the secret, a code, a session key or a token in a log line or an error', async () => {
      const from = capturedLogLines.length;
      const secrets = [APP_SECRET];
      const errors: unknown[] = [];
      const attempt = async <T>(promise: Promise<T>) => promise.catch((err: unknown) => void errors.push(err));

      const good = code('erin');
      secrets.push(good, (await client.code2Session(good)).sessionKey);
      await attempt(client.code2Session(good));
      for (const bad of ['err-40029#x1', 'err--1#x2', 'err-45011#x3']) await attempt(client.code2Session(bad));
      standIn.failNext(CODE2SESSION, 'garbage');
      const garbled = code();
      secrets.push(garbled);
      await attempt(client.code2Session(garbled));
      const { accessToken } = await client.getStableAccessToken();
      secrets.push(accessToken);
      await attempt(client.sendSubscribeMessage(accessToken, { toUser: 'o-x', templateId: TEMPLATE, data: {} }));
      standIn.expireTokens();
      await attempt(client.sendSubscribeMessage(accessToken, { toUser: 'o-x', templateId: TEMPLATE, data: {} }));

      const lines = capturedLogLines.slice(from);
      expect(lines.some((l) => /"api":"code2session","errcode":40029,"ms":\d+/.test(l))).to.equal(true);
      expect(errors).to.have.length(7);
      const shown = [...lines, ...errors.map((e) => `${inspect(e)} ${JSON.stringify(e)}`), inspect(client), JSON.stringify(client)];
      for (const text of shown) for (const secret of secrets) expect(text).not.to.include(secret);
    });
  });

  describe('scripts/wechat-stand-in.ts', () => {
    it('prints its base URL, answers like WeChat and stops on SIGTERM', async () => {
      const script = fileURLToPath(new URL('../scripts/wechat-stand-in.ts', import.meta.url));
      const child = spawn(process.execPath, ['--import', 'tsx', script, '--port', '0', '--app-id', APP_ID, '--app-secret', APP_SECRET], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const [first] = (await once(child.stdout!, 'data')) as [Buffer];
      const baseUrl = /(http:\/\/127\.0\.0\.1:\d+)/.exec(first.toString())?.[1];
      expect(baseUrl, first.toString()).to.be.a('string');
      expect((await clientFor(baseUrl!).code2Session(code())).openid).to.match(/^o/);
      child.kill('SIGTERM');
      const [exitCode] = await once(child, 'exit');
      expect(exitCode).to.equal(0);
    });
  });
});
