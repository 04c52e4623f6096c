import mongoose from 'mongoose';
import supertest from 'supertest';
import { createApp, type AppDeps } from '../../src/app.js';
import { WechatClient } from '../../src/wechat/index.js';
import { testConfig, testEnvironment } from './env.js';
import { createTestLogger } from './logs.js';
import { responseCheck } from './responseCheck.js';

/** The app on the test database and Redis, with overridable deps, plus a supertest agent. */
export function createTestApp(overrides: Partial<AppDeps> = {}) {
  const config = overrides.config ?? testConfig();
  const deps: AppDeps = {
    config,
    logger: createTestLogger(),
    mongo: mongoose.connection,
    redis: testEnvironment().redis,
    jwtSecret: config.auth.jwtSecret!,
    wechat: new WechatClient({
      baseUrl: testEnvironment().wechatStandIn.baseUrl,
      appId: config.wechat.appId,
      appSecret: config.wechat.appSecret,
      timeoutMs: 1_000,
    }),
    ...overrides,
  };
  const { app, routes, document } = createApp(deps);
  // First of all, so it sees the final status and body (test/support/responseCheck.ts).
  app.middleware.unshift(responseCheck(document));
  return { app, routes, deps, request: supertest(app.callback()) };
}
