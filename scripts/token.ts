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
import mongoose from 'mongoose';
import { pino } from 'pino';
import { Refusal, findPerson, parseWho } from './people.js';
import { resolveJwtSecret } from '../src/auth/secret.js';
import { startSession } from '../src/auth/sessions.js';
import { API_PREFIX } from '../src/routes/api/index.js';
import { createLogger } from '../src/logger.js';
import { configFromEnvironment, exitOnFailure } from '../src/runtime/cli.js';
import { openDatabase, provisionStorage } from '../src/runtime/storage.js';
import { createRedis } from '../src/storage/redis.js';

async function main(): Promise<void> {
  const who = parseWho('token');
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
    await openDatabase(config, storage.mongoUri, logger, storage.postgresqlUrl);
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
