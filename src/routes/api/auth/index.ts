import { refreshSession, revokeFamily } from '../../../auth/sessions.js';
import { asSelf } from '../../../auth/user.js';
import { loginStaff, loginWithWechat } from '../../../commands/sessions.js';
import { presentPerson } from '../../../presenters/person.js';
import type { ApiRouter } from '../../apiRouter.js';
import type { RouteDeps } from '../deps.js';
import { RefreshBody, SessionResponse, StaffLoginBody, WechatLoginBody } from './schema.js';

const tags = ['登录'];

/** Sign-in for the mini-program (wx.login code) and for staff (password), refresh, sign-out. */
export function registerAuthRoutes(api: ApiRouter, deps: RouteDeps): void {
  // Signing in is counted per client address: nobody is signed in yet.
  const loginLimit = deps.limit('login', (ctx) => `ip:${ctx.ip}`);
  api.route({
    method: 'post',
    path: '/auth/wechat/login',
    operationId: 'auth.wechatLogin',
    summary: '小程序登录（wx.login 的 code 换取令牌）',
    description: 'First login creates a pending resident who then completes the profile (PATCH /me).',
    tags,
    before: [loginLimit],
    schema: { body: WechatLoginBody },
    responses: {
      200: { description: 'Signed in', schema: SessionResponse },
      401: { description: 'wechat_code_invalid: call wx.login again' },
      403: { description: 'wechat_user_blocked or account_deleted' },
      429: { description: 'wechat_rate_limited' },
      503: { description: 'wechat_busy: retry later' },
    },
    handler: async (ctx) => {
      const { tokens, person, isNew } = await loginWithWechat(deps, ctx.state.input.body.code as string);
      ctx.body = { ...tokens, person: presentPerson(person, asSelf(person)), isNewUser: isNew };
    },
  });

  api.route({
    method: 'post',
    path: '/auth/staff/login',
    operationId: 'auth.staffLogin',
    summary: '工作人员登录（用户名和密码）',
    description:
      'Each attempt is counted before the password is checked; STAFF_LOGIN_MAX_FAILURES wrong passwords lock the username (and STAFF_LOGIN_MAX_FAILURES_PER_ADDRESS the address) for STAFF_LOCKOUT_MINUTES (423 account_locked).',
    tags,
    before: [loginLimit],
    schema: { body: StaffLoginBody },
    responses: {
      200: { description: 'Signed in', schema: SessionResponse },
      401: { description: 'invalid_credentials' },
      423: { description: 'account_locked, with Retry-After' },
      503: { description: 'login_unavailable: attempts cannot be counted (Redis away), with Retry-After' },
    },
    handler: async (ctx) => {
      const { username, password } = ctx.state.input.body as { username: string; password: string };
      const { tokens, person } = await loginStaff({ ...deps, settings: deps.staffLogin }, username, password, ctx.ip);
      ctx.body = { ...tokens, person: presentPerson(person, asSelf(person)), isNewUser: false };
    },
  });

  api.route({
    method: 'post',
    path: '/auth/refresh',
    operationId: 'auth.refresh',
    summary: '刷新令牌（每个 refreshToken 只能用一次）',
    description: 'Reusing a refresh token signs the whole session out (401 refresh_token_reused).',
    tags,
    before: [loginLimit],
    schema: { body: RefreshBody },
    responses: {
      200: { description: 'A new token pair', schema: SessionResponse.fork(['person', 'isNewUser'], (s) => s.forbidden()) },
      401: { description: 'token_invalid or refresh_token_reused' },
    },
    handler: async (ctx) => {
      ctx.body = await refreshSession(deps.sessions, ctx.state.input.body.refreshToken as string);
    },
  });

  api.route({
    method: 'post',
    path: '/auth/logout',
    operationId: 'auth.logout',
    summary: '退出登录（结束本次会话的所有令牌）',
    tags,
    before: [deps.authenticate],
    responses: { 204: { description: 'Signed out' }, 401: { description: 'unauthenticated' } },
    handler: async (ctx) => {
      await revokeFamily(deps.sessions, ctx.state.user.family);
      ctx.status = 204;
    },
  });
}
