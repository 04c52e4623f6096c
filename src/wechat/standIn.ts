import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The WeChat API paths the stand-in answers. */
export type WechatStandInPath = '/sns/jscode2session' | '/cgi-bin/stable_token' | '/cgi-bin/message/subscribe/send';

/** How `failNext` breaks a call: a WeChat errcode, a 500, a non-JSON 200, or no answer at all. */
export type WechatStandInFailure = number | 'http500' | 'garbage' | 'hang';

export interface WechatStandInOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  appId?: string;
  appSecret?: string;
}

/** A subscribe message the stand-in accepted, flattened for assertions. */
export interface SentSubscribeMessage {
  toUser: string;
  templateId: string;
  page?: string;
  miniprogramState?: string;
  lang?: string;
  data: Record<string, string>;
}

const PATHS: WechatStandInPath[] = ['/sns/jscode2session', '/cgi-bin/stable_token', '/cgi-bin/message/subscribe/send'];

/** WeChat's wording for the errcodes we meet (it appends a request id, as here). */
const ERRMSG: Record<number, string> = {
  [-1]: 'system error',
  40001: 'invalid credential, access_token is invalid or not latest',
  40002: 'invalid grant_type',
  40003: 'invalid openid',
  40013: 'invalid appid',
  40029: 'invalid code',
  40037: 'invalid template_id',
  40125: 'invalid appsecret',
  40163: 'code been used',
  40226: 'invalid code, high risk user',
  41008: 'missing code',
  42001: 'access_token expired',
  43101: 'user refuse to accept the msg',
  45011: 'api minute-quota reach limit  mustslower  retry next minute',
  47001: 'data format error',
  47003: 'argument invalid!',
};

/** Subscribe field limits in characters, by key prefix, as WeChat documents them. */
const FIELD_LIMITS: Record<string, number> = { thing: 20, phrase: 5, name: 10, character_string: 32, number: 32 };

const TOKEN_LIFETIME_MS = 7200_000;

/** Throws out of a handler to answer `{ errcode, errmsg }`. */
class Errcode {
  constructor(readonly errcode: number, readonly detail = '') {}
}

function hashId(input: string): string {
  return 'o' + createHash('sha256').update(input).digest('base64url').slice(0, 27);
}

/**
 * A local server answering like WeChat's code2session, stable_token and subscribe/send, for
 * the tests and the local demo. Conventions:
 * - the user of a code is the part before its last `#`: `alice#1` and `alice#2` are one
 *   user with two fresh codes; a code with no `#` is its own user;
 * - each code works once (40163 after), like WeChat's;
 * - a code starting with `err-<errcode>` answers that errcode (`err-40029`, `err--1`);
 * - `failNext(path, failure)` queues a one-off failure in front of everything else.
 */
export class WechatStandIn {
  /** Requests received per path, failures included. */
  calls: Record<string, number> = {};
  /** Every subscribe message accepted, in order. */
  sentMessages: SentSubscribeMessage[] = [];
  /** Every session_key handed out, so tests can assert that none leaks. */
  issuedSessionKeys: string[] = [];

  #users = new Map<string, { openid: string; unionid?: string }>();
  #usedCodes = new Set<string>();
  #failures = new Map<string, WechatStandInFailure[]>();
  #grants = new Map<string, number>();
  #token: { value: string; expiresAt: number } | undefined;
  #expiredTokens = new Set<string>();

  private constructor(
    private readonly server: ReturnType<typeof createServer>,
    readonly baseUrl: string,
    readonly port: number,
    private readonly appId: string,
    private readonly appSecret: string,
  ) {}

  /** Starts a stand-in; see startWechatStandIn. */
  static async start(opts: WechatStandInOptions = {}): Promise<WechatStandIn> {
    const host = opts.host ?? '127.0.0.1';
    let standIn: WechatStandIn | undefined;
    // A handler bug must not crash the test run: drop that one connection instead.
    const server = createServer((req, res) => void standIn?.handle(req, res).catch(() => res.destroy()));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const urlHost = host.includes(':') ? `[${host}]` : host;
    standIn = new WechatStandIn(server, `http://${urlHost}:${port}`, port,
      opts.appId ?? 'wx-demo-appid', opts.appSecret ?? 'demo-app-secret');
    return standIn;
  }

  /** Pins a user key (the part of a code before `#`) to a given openid / unionid. */
  registerUser(userKey: string, ids: { openid: string; unionid?: string }): void {
    this.#users.set(userKey, ids);
  }

  /** Makes the next call to `path` fail this way (calls queue up: call twice for two failures). */
  failNext(path: WechatStandInPath, failure: WechatStandInFailure): void {
    this.#failures.set(path, [...(this.#failures.get(path) ?? []), failure]);
  }

  /** The user accepted `count` more subscribe messages of this template (one grant = one message). */
  grantSubscription(openid: string, templateId: string, count = 1): void {
    const key = `${openid} ${templateId}`;
    this.#grants.set(key, (this.#grants.get(key) ?? 0) + count);
  }

  /** Grants the user still has for a template. */
  grantsLeft(openid: string, templateId: string): number {
    return this.#grants.get(`${openid} ${templateId}`) ?? 0;
  }

  /** Expires the current access token: it answers 42001, and stable_token issues a new one. */
  expireTokens(): void {
    if (this.#token) this.#expiredTokens.add(this.#token.value);
    this.#token = undefined;
  }

  /** Forgets users, codes, grants, tokens, queued failures, counters and sent messages. */
  reset(): void {
    this.calls = {};
    this.sentMessages = [];
    this.issuedSessionKeys = [];
    this.#users.clear();
    this.#usedCodes.clear();
    this.#failures.clear();
    this.#grants.clear();
    this.#token = undefined;
    this.#expiredTokens.clear();
  }

  /** Stops listening and drops open connections, including hung requests. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const path = url.pathname;
    let raw = '';
    for await (const chunk of req) raw += chunk;
    if (!PATHS.includes(path as WechatStandInPath)) return void reply(res, 404, 'not found');
    this.calls[path] = (this.calls[path] ?? 0) + 1;

    const failure = this.#failures.get(path)?.shift();
    if (failure === 'hang') return; // never answered; close() drops the connection
    if (failure === 'http500') return void reply(res, 500, '<html><body>500 Internal Server Error</body></html>');
    if (failure === 'garbage') return void reply(res, 200, '<html><body>502 Bad Gateway</body></html>');
    try {
      if (typeof failure === 'number') throw new Errcode(failure);
      const body = parseBody(raw);
      if (path === '/sns/jscode2session') return void replyJson(res, this.code2session(url.searchParams));
      if (path === '/cgi-bin/stable_token') return void replyJson(res, this.stableToken(body));
      replyJson(res, this.subscribeSend(url.searchParams.get('access_token') ?? '', body));
    } catch (err) {
      if (!(err instanceof Errcode)) throw err;
      const errmsg = `${ERRMSG[err.errcode] ?? `stand-in error ${err.errcode}`}${err.detail}`;
      replyJson(res, { errcode: err.errcode, errmsg: `${errmsg} rid: ${randomBytes(6).toString('hex')}` });
    }
  }

  private checkApp(appid: unknown, secret: unknown): void {
    if (appid !== this.appId) throw new Errcode(40013);
    if (secret !== this.appSecret) throw new Errcode(40125);
  }

  private code2session(query: URLSearchParams): Record<string, unknown> {
    const code = query.get('js_code') ?? '';
    const forced = /^err-(-?\d+)/.exec(code);
    if (forced) throw new Errcode(Number(forced[1]));
    this.checkApp(query.get('appid'), query.get('secret'));
    if (query.get('grant_type') !== 'authorization_code') throw new Errcode(40002);
    if (!code) throw new Errcode(41008);
    if (this.#usedCodes.has(code)) throw new Errcode(40163);
    this.#usedCodes.add(code);

    const hash = code.lastIndexOf('#');
    const userKey = hash === -1 ? code : code.slice(0, hash);
    const user = this.#users.get(userKey) ?? {
      openid: hashId(`${this.appId}:${userKey}`),
      // unionid is the same across apps of one open-platform account: no appid in it.
      unionid: hashId(`unionid:${userKey}`),
    };
    const sessionKey = randomBytes(24).toString('base64');
    this.issuedSessionKeys.push(sessionKey);
    return { openid: user.openid, ...(user.unionid ? { unionid: user.unionid } : {}), session_key: sessionKey };
  }

  private stableToken(body: Record<string, unknown>): Record<string, unknown> {
    if (body.grant_type !== 'client_credential') throw new Errcode(40002);
    this.checkApp(body.appid, body.secret);
    const now = Date.now();
    if (!this.#token || this.#token.expiresAt <= now || body.force_refresh === true) {
      // Force refresh invalidates the previous token at once (40001), as WeChat documents.
      this.#token = { value: `st-${randomBytes(24).toString('base64url')}`, expiresAt: now + TOKEN_LIFETIME_MS };
    }
    return { access_token: this.#token.value, expires_in: Math.ceil((this.#token.expiresAt - now) / 1000) };
  }

  private subscribeSend(accessToken: string, body: Record<string, unknown>): Record<string, unknown> {
    if (this.#expiredTokens.has(accessToken)) throw new Errcode(42001);
    if (!this.#token || accessToken !== this.#token.value) throw new Errcode(40001);
    if (this.#token.expiresAt <= Date.now()) throw new Errcode(42001);
    const { touser, template_id: templateId, data } = body;
    if (typeof touser !== 'string' || !touser) throw new Errcode(40003);
    if (typeof templateId !== 'string' || !templateId) throw new Errcode(40037);
    const values = checkedData(data);

    const key = `${touser} ${templateId}`;
    const grants = this.#grants.get(key) ?? 0;
    if (grants < 1) throw new Errcode(43101);
    this.#grants.set(key, grants - 1);
    this.sentMessages.push({
      toUser: touser,
      templateId,
      page: typeof body.page === 'string' ? body.page : undefined,
      miniprogramState: typeof body.miniprogram_state === 'string' ? body.miniprogram_state : undefined,
      lang: typeof body.lang === 'string' ? body.lang : undefined,
      data: values,
    });
    return { errcode: 0, errmsg: 'ok' };
  }
}

function parseBody(raw: string): Record<string, unknown> {
  if (!raw) return {};
  try {
    const body: unknown = JSON.parse(raw);
    if (body && typeof body === 'object' && !Array.isArray(body)) return body as Record<string, unknown>;
  } catch {
    // answered below, as WeChat does
  }
  throw new Errcode(47001);
}

/** `data` must be `{ key: { value: string } }` with each value within its kind's limit (47003). */
function checkedData(data: unknown): Record<string, string> {
  if (!data || typeof data !== 'object') throw new Errcode(47003, ' data missing');
  const values: Record<string, string> = {};
  for (const [key, field] of Object.entries(data as Record<string, unknown>)) {
    const value = (field as { value?: unknown } | null)?.value;
    const limit = FIELD_LIMITS[/^([a-z_]+?)\d+$/.exec(key)?.[1] ?? ''];
    if (typeof value !== 'string' || !value || (limit !== undefined && Array.from(value).length > limit)) {
      throw new Errcode(47003, ` data.${key}.value invalid`);
    }
    values[key] = value;
  }
  return values;
}

function reply(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/html' }).end(text);
}

/** WeChat answers HTTP 200 with JSON, errors included. */
function replyJson(res: ServerResponse, body: Record<string, unknown>): void {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

/** Starts a WeChat stand-in on `port` (0 = a free one) of `host` (127.0.0.1). */
export function startWechatStandIn(opts?: WechatStandInOptions): Promise<WechatStandIn> {
  return WechatStandIn.start(opts);
}
