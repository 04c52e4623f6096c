import { setTimeout as delay } from 'node:timers/promises';
import {
  WechatBusyError,
  WechatCodeInvalidError,
  WechatError,
  WechatRateLimitedError,
  WechatUserBlockedError,
  type AppError,
} from '../errors.js';
import type { Logger } from '../logger.js';

/** How to reach WeChat: `baseUrl` is https://api.weixin.qq.com in production, the stand-in in tests. */
export interface WechatClientOptions {
  baseUrl: string;
  appId: string;
  appSecret: string;
  timeoutMs?: number;
  logger?: Logger;
}

/** What code2session proves: who the mini-program user is. `sessionKey` must stay on the server. */
export interface WechatSession {
  openid: string;
  unionid?: string;
  sessionKey: string;
}

/** One subscribe message; `data` maps template keys (`thing1`, `time2`, …) to their text. */
export interface SubscribeMessage {
  toUser: string;
  templateId: string;
  page?: string;
  data: Record<string, string>;
  miniprogramState?: 'developer' | 'trial' | 'formal';
}

/** errcodes of subscribe/send that a later attempt can fix: busy, or a token to refresh first. */
const RETRYABLE_SEND_ERRCODES = new Set([-1, 40001, 42001]);
/** errcodes meaning "this access token is no good": fetch a new one before retrying. */
const TOKEN_ERRCODES = new Set([40001, 42001]);

/**
 * A failed subscribe/send. Not a user-facing AppError: the notifications outbox reads
 * `retryable` (and `tokenInvalid`, to force a token refresh first) to decide what to do.
 * Transport failures (no answer, timeout, non-2xx, non-JSON) have errcode -1 and an errmsg
 * naming the failure (`network`, `timeout`, `http_500`, `invalid_json`).
 */
export class WechatApiError extends Error {
  readonly retryable: boolean;
  readonly tokenInvalid: boolean;

  constructor(readonly errcode: number, readonly errmsg: string) {
    super(`WeChat subscribe/send failed: errcode ${errcode} (${errmsg})`);
    this.name = 'WechatApiError';
    this.retryable = RETRYABLE_SEND_ERRCODES.has(errcode);
    this.tokenInvalid = TOKEN_ERRCODES.has(errcode);
  }
}

/** Why an exchange produced no JSON body. Only `network` (nothing answered) is safe to retry. */
type TransportFailure = 'network' | 'timeout' | `http_${number}` | 'invalid_json';
type Exchange = { ok: true; body: Record<string, unknown> } | { ok: false; failure: TransportFailure };
type ApiName = 'code2session' | 'stable_token' | 'subscribe_send';

const RETRY_DELAY_MS = 200;

/**
 * The server side of WeChat's mini-program APIs. Secrets live in private fields so that
 * logging or inspecting the client shows none of them; nothing secret is ever logged or
 * put in an error (the URL of code2session carries the secret and the code, so it is
 * never logged either). One log line per call: `{ api, errcode, ms }`.
 */
export class WechatClient {
  readonly #baseUrl: string;
  readonly #appId: string;
  readonly #appSecret: string;
  readonly #timeoutMs: number;
  readonly #logger: Logger | undefined;

  constructor(options: WechatClientOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#appId = options.appId;
    this.#appSecret = options.appSecret;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#logger = options.logger;
  }

  /**
   * Exchanges a `wx.login` code for the user's openid (and unionid, when the app is bound
   * to an open-platform account) and session key. Throws the WeChat AppErrors of
   * src/errors.ts; an answer without openid or session_key is `WechatError(0)`.
   */
  async code2Session(code: string): Promise<WechatSession> {
    if (!code) throw WechatCodeInvalidError();
    const url = this.#url('/sns/jscode2session', {
      appid: this.#appId,
      secret: this.#appSecret,
      js_code: code,
      grant_type: 'authorization_code',
    });
    const body = bodyOrAppError(await this.#call('code2session', url, {}, true));
    const { openid, unionid, session_key: sessionKey } = body;
    if (typeof openid !== 'string' || !openid || typeof sessionKey !== 'string' || !sessionKey) {
      throw WechatError(0);
    }
    return typeof unionid === 'string' && unionid ? { openid, unionid, sessionKey } : { openid, sessionKey };
  }

  /**
   * The stable access token (same token on every call until it expires, unless
   * `forceRefresh`, which WeChat allows 20 times a day and invalidates the previous token).
   */
  async getStableAccessToken(forceRefresh = false): Promise<{ accessToken: string; expiresIn: number }> {
    const body = bodyOrAppError(
      await this.#call('stable_token', this.#url('/cgi-bin/stable_token'), postJson({
        grant_type: 'client_credential',
        appid: this.#appId,
        secret: this.#appSecret,
        force_refresh: forceRefresh,
      }), true),
    );
    const { access_token: accessToken, expires_in: expiresIn } = body;
    if (typeof accessToken !== 'string' || !accessToken || typeof expiresIn !== 'number') throw WechatError(0);
    return { accessToken, expiresIn };
  }

  /**
   * Sends one subscribe message (consumes one of the user's grants). Never retried here:
   * throws WechatApiError and lets the caller's outbox decide.
   */
  async sendSubscribeMessage(accessToken: string, msg: SubscribeMessage): Promise<void> {
    const url = this.#url('/cgi-bin/message/subscribe/send', { access_token: accessToken });
    const result = await this.#call('subscribe_send', url, postJson({
      touser: msg.toUser,
      template_id: msg.templateId,
      page: msg.page,
      miniprogram_state: msg.miniprogramState ?? 'formal',
      lang: 'zh_CN',
      data: Object.fromEntries(Object.entries(msg.data).map(([key, value]) => [key, { value }])),
    }), false);
    if (!result.ok) throw new WechatApiError(-1, result.failure);
    const errcode = errcodeOf(result.body);
    if (errcode !== 0) {
      // errmsg is WeChat's text; strip the token in case it is ever echoed back.
      const errmsg = String(result.body.errmsg ?? '').split(accessToken).join('[redacted]').slice(0, 200);
      throw new WechatApiError(errcode, errmsg);
    }
  }

  #url(path: string, query: Record<string, string> = {}): URL {
    const url = new URL(this.#baseUrl + path);
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    return url;
  }

  /** One call, retried once after a short delay on errcode -1 or when nothing answered. */
  async #call(api: ApiName, url: URL, init: RequestInit, retryOnce: boolean): Promise<Exchange> {
    const started = performance.now();
    let result = await this.#exchange(url, init);
    if (retryOnce && isRetryable(result)) {
      await delay(RETRY_DELAY_MS);
      result = await this.#exchange(url, init);
    }
    const errcode = result.ok ? errcodeOf(result.body) : result.failure;
    const ms = Math.round(performance.now() - started);
    if (errcode === 0) this.#logger?.debug({ api, errcode, ms });
    else this.#logger?.warn({ api, errcode, ms });
    return result;
  }

  /** One HTTP exchange. Never throws: the original error may quote the URL, which holds secrets. */
  async #exchange(url: URL, init: RequestInit): Promise<Exchange> {
    let text: string;
    let status: number;
    try {
      const response = await fetch(url, { ...init, signal: AbortSignal.timeout(this.#timeoutMs) });
      status = response.status;
      text = await response.text();
    } catch (err) {
      return { ok: false, failure: err instanceof Error && err.name === 'TimeoutError' ? 'timeout' : 'network' };
    }
    if (status < 200 || status > 299) return { ok: false, failure: `http_${status}` };
    try {
      const body: unknown = JSON.parse(text);
      if (body && typeof body === 'object' && !Array.isArray(body)) return { ok: true, body: body as Record<string, unknown> };
    } catch {
      // fall through: WeChat always answers a JSON object, anything else is a broken gateway
    }
    return { ok: false, failure: 'invalid_json' };
  }
}

/**
 * Only errcode -1 and "nothing answered" are retried. A timeout, a 5xx or a garbled body may
 * come after WeChat used the code (single-use), and a retry would wrongly report it invalid.
 */
function isRetryable(result: Exchange): boolean {
  return result.ok ? errcodeOf(result.body) === -1 : result.failure === 'network';
}

function errcodeOf(body: Record<string, unknown>): number {
  const errcode = Number(body.errcode ?? 0);
  return Number.isFinite(errcode) ? errcode : 0;
}

/** The body of a successful call, or the user-facing AppError for what went wrong. */
function bodyOrAppError(result: Exchange): Record<string, unknown> {
  if (!result.ok) throw WechatBusyError();
  const errcode = errcodeOf(result.body);
  if (errcode !== 0) throw appErrorFor(errcode);
  return result.body;
}

function appErrorFor(errcode: number): AppError {
  switch (errcode) {
    case -1:
      return WechatBusyError();
    case 40029: // invalid code
    case 40163: // code already used
      return WechatCodeInvalidError();
    case 45011:
      return WechatRateLimitedError();
    case 40226:
      return WechatUserBlockedError();
    default:
      return WechatError(errcode);
  }
}

function postJson(body: unknown): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** Subscribe-message field kinds, by the prefix of their template key (`thing1` → thing). */
export type SubscribeFieldKind = 'thing' | 'phrase' | 'name' | 'character_string' | 'number' | 'time' | 'date';

/** WeChat's documented maximum length of each kind, in characters; time and date are formats. */
const SUBSCRIBE_LIMITS: Partial<Record<SubscribeFieldKind, number>> = {
  thing: 20,
  phrase: 5,
  name: 10,
  character_string: 32,
  number: 32,
};

const graphemes = new Intl.Segmenter('zh', { granularity: 'grapheme' });

/**
 * Cuts `value` to WeChat's limit for `kind` (a longer value makes the whole send fail with
 * 47003). Counts code points, as WeChat does, but cuts between graphemes so an emoji is never
 * split in half. Readable text (thing, name) ends with "…" when cut; codes and numbers are cut
 * bare because "…" is not allowed in them.
 */
export function truncateSubscribeValue(kind: SubscribeFieldKind, value: string): string {
  const limit = SUBSCRIBE_LIMITS[kind];
  if (limit === undefined || Array.from(value).length <= limit) return value;
  const ellipsis = kind === 'thing' || kind === 'name' ? '…' : '';
  const room = limit - ellipsis.length;
  let kept = '';
  let count = 0;
  for (const { segment } of graphemes.segment(value)) {
    const length = Array.from(segment).length;
    if (count + length > room) break;
    kept += segment;
    count += length;
  }
  return kept + ellipsis;
}
