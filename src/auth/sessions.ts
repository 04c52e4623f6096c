import { trusted } from 'mongoose';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { Redis } from 'ioredis';
import type { Types } from 'mongoose';
import { RefreshToken } from '../../models/refreshToken.js';
import { RefreshTokenReusedError, TokenInvalidError } from '../errors.js';
import { isDuplicateKey } from '../storage/mongo.js';
import { isRevoked, rememberRevoked } from './revocations.js';

const ISSUER = 'community-service-booking';
const AUDIENCE = 'community-service-api';
// Pinned: a token signed with any other algorithm (or "none") is refused.
const ALGORITHM = 'HS256';

export interface SessionSettings {
  jwtSecret: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlDays: number;
  redis: Redis;
}

export interface SessionTokens {
  tokenType: 'Bearer';
  accessToken: string;
  /** Seconds until the access token expires. */
  expiresIn: number;
  refreshToken: string;
}

export interface AccessClaims {
  personId: string;
  /** The sign-in session; revoking it ends every token issued in it. */
  family: string;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');

/** Throws a duplicate-key error (11000) when `parent` already has a successor. */
async function issueTokens(s: SessionSettings, personId: string, family: string, parent: string): Promise<SessionTokens> {
  const refreshToken = randomBytes(32).toString('base64url');
  await RefreshToken.create({
    family,
    parent,
    tokenHash: hashToken(refreshToken),
    person: personId,
    expiresAt: new Date(Date.now() + s.refreshTokenTtlDays * 86_400_000),
  });
  const accessToken = await new SignJWT({ fam: family })
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setSubject(personId)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${s.accessTokenTtlSeconds}s`)
    .sign(new TextEncoder().encode(s.jwtSecret));
  return { tokenType: 'Bearer', accessToken, expiresIn: s.accessTokenTtlSeconds, refreshToken };
}

/** Starts a sign-in session for a person: a short-lived access token and a refresh token. */
export function startSession(s: SessionSettings, personId: string | Types.ObjectId): Promise<SessionTokens> {
  const family = randomUUID();
  return issueTokens(s, String(personId), family, `family:${family}`);
}

/**
 * Swaps a refresh token for a new pair. The successor is inserted under the unique `parent`
 * key, so of two racing uses only one gets a successor; the other, like any later replay, is
 * a reuse and ends the whole session (the token has been copied, or a retry raced itself).
 */
export async function refreshSession(s: SessionSettings, refreshToken: string): Promise<SessionTokens> {
  const tokenHash = hashToken(refreshToken);
  const used = await RefreshToken.findOne({ tokenHash });
  if (!used || used.expiresAt <= new Date()) throw TokenInvalidError();
  if (used.status !== 'active' || (await isRevoked(s.redis, used.family, s.accessTokenTtlSeconds))) {
    await revokeFamily(s, used.family);
    throw RefreshTokenReusedError();
  }
  let tokens: SessionTokens;
  try {
    tokens = await issueTokens(s, String(used.person), used.family, tokenHash);
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    await revokeFamily(s, used.family);
    throw RefreshTokenReusedError();
  }
  await RefreshToken.updateOne({ _id: used._id, status: 'active' }, { $set: { status: 'rotated', rotatedAt: new Date() } });
  return tokens;
}

/** Ends a session: its refresh tokens stop working now, its access tokens too. */
export async function revokeFamily(s: SessionSettings, family: string): Promise<void> {
  await RefreshToken.updateMany({ family, status: trusted({ $ne: 'revoked' }) }, { $set: { status: 'revoked', revokedAt: new Date() } });
  // Access tokens are stateless: remember the family as revoked for as long as one can live.
  await rememberRevoked(s.redis, family, s.accessTokenTtlSeconds);
}

/** Ends every session of a person (sign-out everywhere, anonymisation). */
export async function revokeAllSessions(s: SessionSettings, personId: string | Types.ObjectId): Promise<void> {
  const families = await RefreshToken.distinct('family', { person: personId, status: trusted({ $ne: 'revoked' }) });
  for (const family of families) await revokeFamily(s, family as string);
}

/** Checks an access token's signature, algorithm, issuer, audience, expiry and session. */
export async function verifyAccessToken(s: SessionSettings, token: string): Promise<AccessClaims> {
  let payload;
  try {
    ({ payload } = await jwtVerify(token, new TextEncoder().encode(s.jwtSecret), {
      algorithms: [ALGORITHM],
      issuer: ISSUER,
      audience: AUDIENCE,
    }));
  } catch {
    throw TokenInvalidError();
  }
  const family = typeof payload.fam === 'string' ? payload.fam : undefined;
  if (!payload.sub || !family) throw TokenInvalidError();
  // Redis when its copy can be trusted, MongoDB otherwise (src/auth/revocations.ts).
  if (await isRevoked(s.redis, family, s.accessTokenTtlSeconds)) throw TokenInvalidError();
  return { personId: payload.sub, family };
}
