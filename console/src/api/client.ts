/**
 * The console's only way to data: the service's /api/v1 (no server-side shortcut). One place
 * turns every failure into an ApiError whose Chinese message can be shown next to its cause,
 * and refreshes the access token silently (one refresh at a time, each refresh token once).
 */

export type FailureKind = 'refused' | 'network' | 'server';

export class ApiError extends Error {
  constructor(
    readonly kind: FailureKind,
    readonly status: number,
    readonly code: string,
    message: string,
    /** Field-level messages of a validation_error: shown next to the field. */
    readonly details: Array<{ field: string; message: string }> = [],
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The message for a field of the form, when the API named it. */
  fieldMessage(field: string): string | undefined {
    return this.details.find((d) => d.field === field || d.field.endsWith(`.${field}`))?.message;
  }
}

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  /** Epoch ms when the access token stops working. */
  expiresAt: number;
}

export interface TokenStore {
  get(): Tokens | null;
  set(tokens: Tokens | null): void;
}

export interface ClientOptions {
  baseUrl?: string;
  fetch?: typeof fetch;
  tokens: TokenStore;
  /** Called once the session cannot be refreshed: the console goes back to sign-in. */
  onSignedOut?: (reason: string) => void;
  now?: () => number;
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  /** Sign-in and refresh themselves go without a token. */
  anonymous?: boolean;
  headers?: Record<string, string>;
}

export const NETWORK_MESSAGE = '无法连接服务器，请检查网络后重试（已填写的内容仍然保留）';
export const serverMessage = (status: number) => `服务器暂时出错（${status}），请稍后重试（已填写的内容仍然保留）`;

/** Refresh this long before the access token expires, so a request never races its expiry. */
const REFRESH_MARGIN_MS = 60_000;

export function toQuery(query: RequestOptions['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** Reads a failed response into an ApiError; a body that is not the API's error shape is a server failure. */
export async function errorFrom(res: Response): Promise<ApiError> {
  let body: { error?: { code?: string; message?: string; details?: ApiError['details'] } } | undefined;
  try {
    body = (await res.json()) as typeof body;
  } catch {
    body = undefined;
  }
  const retryAfter = Number(res.headers.get('Retry-After')) || undefined;
  const err = body?.error;
  if (res.status >= 500) {
    // 503 storage_unavailable and friends carry an actionable Chinese message: keep it.
    return new ApiError('server', res.status, err?.code ?? 'server_error', err?.message ?? serverMessage(res.status), err?.details, retryAfter);
  }
  return new ApiError('refused', res.status, err?.code ?? 'http_' + res.status, err?.message ?? `请求被拒绝（${res.status}）`, err?.details ?? [], retryAfter);
}

export function createClient(opts: ClientOptions) {
  const doFetch = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const base = opts.baseUrl ?? '/api/v1';
  const now = opts.now ?? Date.now;
  let refreshing: Promise<boolean> | null = null;

  async function send(method: string, path: string, o: RequestOptions, token?: string): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json', ...o.headers };
    if (o.body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    try {
      return await doFetch(base + path + toQuery(o.query), {
        method,
        headers,
        body: o.body === undefined ? undefined : JSON.stringify(o.body),
      });
    } catch {
      throw new ApiError('network', 0, 'network_error', NETWORK_MESSAGE);
    }
  }

  /** One refresh for every request that needs it; false when the session is over. */
  function refresh(): Promise<boolean> {
    refreshing ??= (async () => {
      const current = opts.tokens.get();
      if (!current) return false;
      const res = await send('POST', '/auth/refresh', { body: { refreshToken: current.refreshToken } });
      if (!res.ok) {
        const err = await errorFrom(res);
        if (err.kind === 'refused') {
          opts.tokens.set(null);
          opts.onSignedOut?.(err.message);
          return false;
        }
        throw err; // network or server: keep the session, the user may retry
      }
      const body = (await res.json()) as { accessToken: string; refreshToken: string; expiresIn: number };
      opts.tokens.set({ accessToken: body.accessToken, refreshToken: body.refreshToken, expiresAt: now() + body.expiresIn * 1000 });
      return true;
    })().finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  async function raw(method: string, path: string, o: RequestOptions = {}): Promise<Response> {
    if (o.anonymous) return send(method, path, o);
    let tokens = opts.tokens.get();
    if (tokens && tokens.expiresAt - now() < REFRESH_MARGIN_MS) {
      await refresh();
      tokens = opts.tokens.get();
    }
    if (!tokens) throw new ApiError('refused', 401, 'unauthenticated', '请先登录');
    let res = await send(method, path, o, tokens.accessToken);
    if (res.status === 401) {
      // The access token may have been refused for its age only: one refresh, one retry.
      const sent = tokens.accessToken;
      const ok = opts.tokens.get()?.accessToken !== sent || (await refresh());
      const again = opts.tokens.get();
      if (ok && again) res = await send(method, path, o, again.accessToken);
    }
    return res;
  }

  async function request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const res = await raw(method, path, o);
    if (!res.ok) throw await errorFrom(res);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  return {
    request,
    raw,
    refresh,
    get: <T>(path: string, query?: RequestOptions['query']) => request<T>('GET', path, { query }),
    post: <T>(path: string, body?: unknown, headers?: Record<string, string>) => request<T>('POST', path, { body, headers }),
    put: <T>(path: string, body?: unknown) => request<T>('PUT', path, { body: body ?? {} }),
    patch: <T>(path: string, body?: unknown) => request<T>('PATCH', path, { body: body ?? {} }),
    del: <T>(path: string) => request<T>('DELETE', path),
  };
}

export type ApiClient = ReturnType<typeof createClient>;

/** What to show for a caught error: the API's (Chinese) message, or the error's own text. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
