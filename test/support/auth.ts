import type { Types } from 'mongoose';
import { startSession, type SessionSettings } from '../../src/auth/sessions.js';
import { TEST_JWT_SECRET, testEnvironment } from './env.js';

/** The session settings the test apps use (testConfig's defaults). */
export function testSessions(): SessionSettings {
  return { jwtSecret: TEST_JWT_SECRET, accessTokenTtlSeconds: 900, refreshTokenTtlDays: 30, redis: testEnvironment().redis };
}

/** `Authorization` header value for a person, through a real session. */
export async function bearerFor(person: { _id: Types.ObjectId }): Promise<string> {
  const { accessToken } = await startSession(testSessions(), person._id);
  return `Bearer ${accessToken}`;
}
