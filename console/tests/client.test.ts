import { describe, expect, it } from 'vitest';
import { ApiError, createClient, NETWORK_MESSAGE, type Tokens } from '../src/api/client';

function memoryTokens(initial: Tokens | null) {
  let t = initial;
  return { get: () => t, set: (v: Tokens | null) => void (t = v) };
}
const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
const fresh = (): Tokens => ({ accessToken: 'a1', refreshToken: 'r1'.repeat(10), expiresAt: Date.now() + 600_000 });

describe('the API client', () => {
  it('turns a refusal into its Chinese message, code and field details', async () => {
    const api = createClient({
      tokens: memoryTokens(fresh()),
      fetch: async () => json(400, { error: { code: 'validation_error', message: '提交的内容有误：请填写「原因」', details: [{ field: 'reason', message: '请填写「原因」' }] } }),
    });
    const err = await api.post('/room-bookings/x/reject', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ kind: 'refused', status: 400, code: 'validation_error', message: '提交的内容有误：请填写「原因」' });
    expect((err as ApiError).fieldMessage('reason')).toBe('请填写「原因」');
  });

  it('shows the lockout\'s message and its Retry-After', async () => {
    const api = createClient({ tokens: memoryTokens(null), fetch: async () => json(423, { error: { code: 'account_locked', message: '密码错误次数过多，账号已锁定 15 分钟' } }, { 'Retry-After': '900' }) });
    const err = (await api.request('POST', '/auth/staff/login', { body: {}, anonymous: true }).catch((e: unknown) => e)) as ApiError;
    expect(err.message).toBe('密码错误次数过多，账号已锁定 15 分钟');
    expect(err.retryAfter).toBe(900);
  });

  it('says a network failure is one, keeping the user\'s input theirs to retry', async () => {
    const api = createClient({ tokens: memoryTokens(fresh()), fetch: async () => { throw new TypeError('Failed to fetch'); } });
    await expect(api.get('/rooms')).rejects.toMatchObject({ kind: 'network', message: NETWORK_MESSAGE });
  });

  it('says a 5xx without the API\'s body is the server\'s failure', async () => {
    const api = createClient({ tokens: memoryTokens(fresh()), fetch: async () => new Response('<html>Bad gateway</html>', { status: 502 }) });
    await expect(api.get('/rooms')).rejects.toMatchObject({ kind: 'server', status: 502, message: expect.stringContaining('服务器暂时出错（502）') });
  });

  it('refreshes once when the access token is refused, then retries', async () => {
    const tokens = memoryTokens(fresh());
    const calls: string[] = [];
    const api = createClient({
      tokens,
      fetch: async (input, init) => {
        const url = String(input);
        const auth = (init?.headers as Record<string, string>).Authorization;
        calls.push(`${url} ${auth ?? ''}`);
        if (url.endsWith('/auth/refresh')) return json(200, { accessToken: 'a2', refreshToken: 'r2'.repeat(10), expiresIn: 900 });
        return auth === 'Bearer a2' ? json(200, { items: [] }) : json(401, { error: { code: 'token_invalid', message: '登录已失效，请重新登录' } });
      },
    });
    const [a, b] = await Promise.all([api.get('/rooms'), api.get('/rooms')]);
    expect(a).toEqual({ items: [] });
    expect(b).toEqual({ items: [] });
    expect(calls.filter((c) => c.includes('/auth/refresh'))).toHaveLength(1);
    expect(tokens.get()?.accessToken).toBe('a2');
  });

  it('refreshes ahead of expiry, and signs out when the refresh is refused', async () => {
    const tokens = memoryTokens({ ...fresh(), expiresAt: Date.now() + 10_000 });
    let signedOut = '';
    const api = createClient({
      tokens,
      onSignedOut: (reason) => (signedOut = reason),
      fetch: async () => json(401, { error: { code: 'refresh_token_reused', message: '登录凭证已被使用过，为保护账号安全已退出所有设备，请重新登录' } }),
    });
    await expect(api.get('/rooms')).rejects.toMatchObject({ status: 401 });
    expect(tokens.get()).toBeNull();
    expect(signedOut).toContain('请重新登录');
  });
});
