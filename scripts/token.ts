/**
 * `npm run -s token -- --as <who>`: signs a demo person in on a local run and prints
 * `{ personId, roles, accessToken, refreshToken, expiresIn }` as JSON on stdout (a curl
 * example goes to stderr), for curl or a test client. It connects to the configured database
 * (or the FerretDB under DATA_DIR) exactly as `scripts/seed.ts` does, and signs with the
 * service's key (JWT_SECRET or DATA_DIR/secrets/jwt-secret), so a service started on the same
 * settings accepts the token.
 *
 * <who> is one of
 *   resident   the first active person whose only role is resident, aged 60 or more, and
 *              preferably with no active 代办 link (one who books for themself)
 *   elder      the oldest active resident aged 80+ tagged 独居 (the demo's 86-year-old)
 *   proxy      the proxy of the first active 代办 link (a family member or grid worker)
 *   volunteer  the first active volunteer (a verified one when there is one)
 *   staff      the first active staff member
 *   admin      the first active admin
 * or a phone number, or a person id. "First" is in creation order.
 *
 * Prints ids and roles only, never a name or phone. Exit codes: 0 signed in, 1 no such person
 * (run `npm run seed`) or a failure, 64 bad arguments, 78 bad configuration. Refuses to run
 * with NODE_ENV=production: there, people sign in through the login endpoints.
 */
import { parseArgs } from 'node:util';
import mongoose from 'mongoose';
import { pino } from 'pino';
import { Person, ProxyLink, ageOn, type PersonDoc } from '../models/index.js';
import { resolveJwtSecret } from '../src/auth/secret.js';
import { startSession } from '../src/auth/sessions.js';
import { API_PREFIX } from '../src/routes/api/index.js';
import { createLogger } from '../src/logger.js';
import { configFromEnvironment, exitOnFailure } from '../src/runtime/cli.js';
import { openDatabase, provisionStorage } from '../src/runtime/storage.js';
import { createRedis } from '../src/storage/redis.js';

const PICKS = ['resident', 'elder', 'proxy', 'volunteer', 'staff', 'admin'] as const;
type Pick = (typeof PICKS)[number];
const PHONE = /^1\d{10}$|^0\d{2,3}-?\d{7,8}$/;
const PERSON_ID = /^[0-9a-f]{24}$/i;
const USAGE = `usage: npm run -s token -- --as ${PICKS.join('|')}|<phone>|<personId>`;

/** A failure the operator can act on: its message is printed without a stack. */
class Refusal extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

function parseWho(): string {
  let values: { as?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ options: { as: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (err) {
    throw new Refusal(`${(err as Error).message}\n${USAGE}`, 64);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const who = values.as?.trim();
  if (!who) throw new Refusal(USAGE, 64);
  if (!(PICKS as readonly string[]).includes(who) && !PHONE.test(who) && !PERSON_ID.test(who)) {
    throw new Refusal(`--as ${who}: not one of ${PICKS.join(', ')}, a phone number or a person id\n${USAGE}`, 64);
  }
  return who;
}

const isElder = (p: PersonDoc, years: number, now: Date) => !!p.birthDate && ageOn(p.birthDate, now) >= years;

/** The person a pick names, or null when the database has none. */
async function pickPerson(pick: Pick, now: Date): Promise<PersonDoc | null> {
  const active = { status: 'active' as const };
  switch (pick) {
    case 'resident': {
      // Preferably one who books for themself (no active 代办 link), so that `resident` and
      // `elder` are two different people in the demo; otherwise any such elder.
      const candidates = await Person.find({ ...active, roles: 'resident', birthDate: { $exists: true } }).sort({ _id: 1 });
      const elders = candidates.filter((p) => p.roles.length === 1 && isElder(p, 60, now));
      for (const p of elders) if (!(await ProxyLink.exists({ elder: p._id, status: 'active' }))) return p;
      return elders[0] ?? null;
    }
    case 'elder': {
      const candidates = await Person.find({ ...active, roles: 'resident', tags: '独居', birthDate: { $exists: true } }).sort({ birthDate: 1 });
      return candidates.find((p) => isElder(p, 80, now)) ?? null;
    }
    case 'proxy': {
      for await (const link of ProxyLink.find({ status: 'active' }).sort({ _id: 1 }).cursor()) {
        const proxy = await Person.findOne({ _id: link.proxy, ...active });
        if (proxy) return proxy;
      }
      return null;
    }
    case 'volunteer':
      return (
        (await Person.findOne({ ...active, roles: 'volunteer', 'volunteer.verified': true }).sort({ _id: 1 })) ??
        (await Person.findOne({ ...active, roles: 'volunteer' }).sort({ _id: 1 }))
      );
    case 'staff':
    case 'admin':
      return Person.findOne({ ...active, roles: pick }).sort({ _id: 1 });
  }
}

async function findPerson(who: string, now: Date): Promise<PersonDoc> {
  if ((PICKS as readonly string[]).includes(who)) {
    const person = await pickPerson(who as Pick, now);
    if (!person) throw new Refusal(`no ${who} in this database: seed the demo first (npm run seed)`, 1);
    return person;
  }
  const matches = PERSON_ID.test(who) ? await Person.find({ _id: who }) : await Person.find({ phone: who }).sort({ _id: 1 });
  const usable = matches.filter((p) => p.status !== 'anonymised');
  if (usable.length === 0) {
    const why = matches.length > 0 ? 'that account has been deleted (anonymised)' : 'no such person in this database';
    throw new Refusal(`--as ${who}: ${why}; seed the demo with npm run seed, or pick ${PICKS.join(', ')}`, 1);
  }
  if (usable.length > 1) {
    // A landline may be shared: let the operator choose by id rather than guess.
    const list = usable.map((p) => `  ${String(p._id)}  ${p.roles.join(',')}`).join('\n');
    throw new Refusal(`--as ${who}: ${usable.length} people share this number; use --as <personId>:\n${list}`, 1);
  }
  return usable[0]!;
}

async function main(): Promise<void> {
  const who = parseWho();
  const config = configFromEnvironment();
  if (config.env === 'production') {
    throw new Refusal('refusing to mint a token with NODE_ENV=production: sign in through /api/v1/auth/… instead', 1);
  }
  // stdout carries the JSON only: the storage's log lines go to stderr.
  const logger = createLogger(config, pino.destination({ dest: 2, sync: true }));
  // Like the seed: no redis-server started for this. Sessions write to Redis only to revoke,
  // so the client connects lazily, on its first command, if there ever is one.
  const storage = await provisionStorage({ ...config, redis: { ...config.redis, startLocal: false } }, logger);
  const redis = createRedis(config.redis, logger);
  try {
    await openDatabase(config, storage.mongoUri, logger);
    const person = await findPerson(who, new Date());
    const tokens = await startSession(
      {
        jwtSecret: await resolveJwtSecret(config),
        accessTokenTtlSeconds: config.auth.accessTokenTtlSeconds,
        refreshTokenTtlDays: config.auth.refreshTokenTtlDays,
        redis,
      },
      person._id,
    );
    const personId = String(person._id);
    process.stdout.write(
      `${JSON.stringify(
        {
          personId,
          roles: person.roles,
          accessToken: tokens.accessToken,
          refreshToken: tokens.refreshToken,
          expiresIn: tokens.expiresIn,
        },
        null,
        2,
      )}\n`,
    );
    const host = ['0.0.0.0', '::'].includes(config.host) ? 'localhost' : config.host;
    process.stderr.write(
      `signed in ${personId} (${person.roles.join(', ')}) for ${tokens.expiresIn} s; try:\n` +
        `curl -s http://${host}:${config.port}${API_PREFIX}/me -H "Authorization: Bearer ${tokens.accessToken}"\n`,
    );
  } finally {
    redis.disconnect();
    await mongoose.disconnect();
    await storage.stop();
  }
}

main().catch((err: unknown) => {
  if (err instanceof Refusal) {
    process.stderr.write(`token: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  exitOnFailure('token failed')(err);
});
