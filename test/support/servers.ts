import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { ensureFerretDbBinary, startFerretDb, type RunningFerretDb } from '../../src/storage/ferretdb.js';
import { freePort } from '../../src/storage/freePort.js';
import { startPrivatePostgres, type RunningPostgres } from '../../src/storage/postgres.js';
import { isListening, startRedisServer, type RunningRedisServer } from '../../src/storage/redis.js';

/** A TCP port nobody listens on right now (the service's own helper). */
export { freePort };

/**
 * A FerretDB of the test's own, as the embedded default runs it: on a private PostgreSQL
 * cluster in a temporary folder (FERRETDB_POSTGRESQL_URL: on that server instead, in a
 * database of its own), or with FERRETDB_HANDLER=sqlite on SQLite in a temporary folder.
 * `stop()` and `restart()` (same port, same data) let a test take the database away and bring
 * it back; `postgres` is the private cluster, for tests that take that away instead.
 */
export async function startOwnFerretDb(): Promise<
  RunningFerretDb & { restart(): Promise<void>; dispose(): Promise<void>; postgres?: RunningPostgres; postgresqlUrl?: string }
> {
  const binary = process.env.FERRETDB_BIN ?? (await ensureFerretDbBinary(loadConfig(process.env).cacheDir));
  const handler = process.env.FERRETDB_HANDLER === 'sqlite' ? 'sqlite' : 'postgresql';
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'csb-ferretdb-'));
  let postgres: RunningPostgres | undefined;
  let postgresqlUrl = process.env.FERRETDB_POSTGRESQL_URL;
  if (handler === 'postgresql' && !postgresqlUrl) {
    postgres = await startPrivatePostgres({ dataDir: path.join(dataDir, 'postgres'), ephemeral: true });
    postgresqlUrl = postgres.url;
  }
  const options = { binary, handler, dataDir, postgresqlUrl } as const;
  let running = await startFerretDb({ ...options, port: 0 });
  const port = running.port;
  const handle = {
    get uri() {
      return running.uri;
    },
    get process() {
      return running.process;
    },
    port,
    postgres,
    postgresqlUrl,
    stop: () => running.stop(),
    async restart() {
      running = await startFerretDb({ ...options, port });
    },
    async dispose() {
      await running.stop();
      await postgres?.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return handle;
}

/** A redis-server of the test's own on a free port, that a test may stop and start again. */
export async function startOwnRedis(): Promise<RunningRedisServer & { restart(): Promise<void> }> {
  const port = await freePort();
  let running = await startRedisServer(port);
  return {
    port,
    get process() {
      return running.process;
    },
    stop: () => running.stop(),
    async restart() {
      running = await startRedisServer(port);
    },
  };
}

export interface TestServers {
  mongoUri: string;
  redisUrl: string;
  /** The FerretDB this call started, when MONGODB_URI was unset. */
  ferret?: RunningFerretDb & { postgresqlUrl?: string };
  /** Stops what this call started (nothing it was pointed at). */
  stop(): Promise<void>;
}

/**
 * The servers of a test or benchmark run: MONGODB_URI, or a FerretDB of our own in a temporary
 * folder; REDIS_URL, or the Redis on 127.0.0.1:6379, or a redis-server of our own.
 */
export async function useOrStartServers(): Promise<TestServers> {
  const stops: Array<() => Promise<void>> = [];
  let mongoUri = process.env.MONGODB_URI;
  let ferret: Awaited<ReturnType<typeof startOwnFerretDb>> | undefined;
  if (!mongoUri) {
    ferret = await startOwnFerretDb();
    stops.push(() => ferret!.dispose());
    mongoUri = ferret.uri;
  }
  let redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    if (await isListening('127.0.0.1', 6379)) {
      redisUrl = 'redis://127.0.0.1:6379';
    } else {
      const server = await startOwnRedis();
      stops.push(() => server.stop());
      redisUrl = `redis://127.0.0.1:${server.port}`;
    }
  }
  return {
    mongoUri,
    redisUrl,
    ferret,
    async stop() {
      for (const stop of stops.reverse()) await stop();
    },
  };
}
