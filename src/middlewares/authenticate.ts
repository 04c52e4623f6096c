import type { Middleware } from 'koa';
import { Types, trusted } from 'mongoose';
import { Person, type PersonFields } from '../../models/person.js';
import { batchedLoad, readAsOne } from '../cache/batch.js';
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

type AuthRecord = { person: PersonFields; elders: string[] };

/**
 * The person and the elders they act for, of the ids asked for at the same moment: one read
 * of each collection for many callers (issue 20: 200 residents' first messages at once), one
 * equality read each for a few (src/cache/batch.ts).
 */
const authRecords = batchedLoad<AuthRecord>(async (ids) => {
  const valid = ids.filter((id) => Types.ObjectId.isValid(id));
  if (!readAsOne(valid.length)) {
    // Both at once: the links are keyed by the id we already have (one wait, not two).
    const found = await Promise.all(valid.map((id) => Promise.all([
      Person.findById(id).lean(),
      ProxyLink.find({ proxy: id, status: 'active' }).distinct('elder'),
    ])));
    return new Map(found.flatMap(([person, elders], i) => (person ? [[valid[i]!, { person, elders: elders.map(String) }] as const] : [])));
  }
  const [people, links] = await Promise.all([
    Person.find({ _id: trusted({ $in: valid }) }).lean(),
    ProxyLink.find({ proxy: trusted({ $in: valid }), status: 'active' }, { proxy: 1, elder: 1 }).lean(),
  ]);
  return new Map(people.map((person) => [String(person._id), {
    person,
    elders: [...new Set(links.filter((l) => l.proxy.equals(person._id)).map((l) => String(l.elder)))],
  }]));
});

/** Loads the person behind a verified token, with the elders they may act for. */
export async function loadAuthUser(personId: string, family: string): Promise<AuthUser> {
  // Every authenticated request (and bot message) needs these two reads: cached
  // (src/cache/readCache.ts: a write to either collection outdates every entry), and when not,
  // read together with those of the callers asking at the same moment.
  const found = await cachedRead(`auth:${personId}`, ['Person', 'ProxyLink'], async () => (await authRecords(personId)) ?? null, { shared: true });
  if (!found) throw TokenInvalidError();
  // The cached record, marked for the policies: hydrating a document on every request cost
  // more CPU than the policies that read it (docs/performance.md). A copy: the cached one is
  // shared by every caller of this process.
  const person = recordOf(Person, { ...found.person });
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
