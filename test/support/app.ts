import mongoose from 'mongoose';
import supertest from 'supertest';
import { createApp, type AppDeps } from '../../src/app.js';
import { testConfig, testEnvironment } from './env.js';
import { createTestLogger } from './logs.js';

/** The app on the test database and Redis, with overridable deps, plus a supertest agent. */
export function createTestApp(overrides: Partial<AppDeps> = {}) {
  const deps: AppDeps = {
    config: testConfig(),
    logger: createTestLogger(),
    mongo: mongoose.connection,
    redis: testEnvironment().redis,
    ...overrides,
  };
  const { app, routes } = createApp(deps);
  return { app, routes, deps, request: supertest(app.callback()) };
}
