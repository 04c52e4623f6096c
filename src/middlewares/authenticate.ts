import type { Middleware } from 'koa';
import { Types } from 'mongoose';
import { Person } from '../../models/person.js';
import { ProxyLink } from '../../models/proxyLink.js';
import { cachedRead } from '../cache/readCache.js';
import { recordOf } from '../policies/policy.js';
import { verifyAccessToken, type SessionSettings } from '../auth/sessions.js';
import type { AuthUser } from '../auth/user.js';
import { documented, RATE_LIMIT_ERRORS } from './documented.js';
import { AccountAnonymisedError, AuthenticationError, TokenInvalidError } from '../errors.js';

declare module 'koa' {
  interface DefaultState {
    user: AuthUser;
  }
}

/** Loads the person behind a verified token, with the elders they may act for. */
export async function loadAuthUser(personId: string, family: string): Promise<AuthUser> {
  // Every authenticated request needs these two reads: cached (src/cache/readCache.ts).
  const found = await cachedRead(`auth:${personId}`, ['Person', 'ProxyLink'], async () => {
    // Both at once: the links are keyed by the id we already have (one wait, not two).
    const [person, elders] = await Promise.all([
      Person.findById(personId).lean(),
      Types.ObjectId.isValid(personId) ? ProxyLink.find({ proxy: personId, status: 'active' }).distinct('elder') : [],
    ]);
    if (!person) return null;
    return { person, elders: elders.map(String) };
  });
  if (!found) throw TokenInvalidError();
  // The cached record itself, marked for the policies: hydrating a document on every request
  // cost more CPU than the policies that read it (docs/performance.md).
  const person = recordOf(Person, found.person);
  if (person.status === 'anonymised') throw AccountAnonymisedError();
  return { id: String(person._id), person, roles: [...person.roles], family, elders: new Set(found.elders) };
}

/**
 * Requires `Authorization: Bearer <access token>` and puts the caller on `ctx.state.user`.
 * Runs before validation, so a caller without a token learns nothing about the input rules.
 */
export function authenticate(
  sessions: SessionSettings,
  limits?: { perPerson: Middleware; anonymous: Middleware },
): Middleware {
  return documented(async (ctx, next) => {
    const header = ctx.get('Authorization');
    const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header);
    let claims;
    try {
      if (!match) throw AuthenticationError();
      claims = await verifyAccessToken(sessions, match[1]!);
    } catch (err) {
      // A request with a bad token is a stranger's: it counts against the address's
      // anonymous budget, so a client looping on an expired token is limited like any other.
      if (limits) await limits.anonymous(ctx, async () => undefined);
      throw err;
    }
    ctx.state.user = await loadAuthUser(claims.personId, claims.family);
    await (limits ? limits.perPerson(ctx, next) : next());
  }, {
    bearer: true,
    errors: {
      401: 'unauthenticated (no token) or token_invalid (expired, revoked or unknown): sign in again',
      403: 'forbidden (the policy refuses this caller) or account_deleted',
      ...RATE_LIMIT_ERRORS,
    },
  });
}
