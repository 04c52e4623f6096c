import path from 'node:path';
import type { Connection } from 'mongoose';
import type { Config } from '../config.js';
import { backfillDays } from '../commands/dailyFigures.js';
import type { Logger } from '../logger.js';
import { backfillNotificationKeys } from '../outbox/backfill.js';
import { backfillMealOrderMonths } from '../commands/mealOrderList.js';
import { backfillMonthsOfStart } from '../commands/monthWalk.js';
import { ensureFerretDbBinary, startFerretDb } from '../storage/ferretdb.js';
import { ensureJsonbIndexes } from '../storage/jsonbIndexes.js';
import { connectMongo, ensureIndexes } from '../storage/mongo.js';
import { runningPrivatePostgres, startPrivatePostgres } from '../storage/postgres.js';
import { isListening, startRedisServer } from '../storage/redis.js';
import { supervise } from '../storage/supervisor.js';

export interface ProvisionedStorage {
  mongoUri: string;
  /** The PostgreSQL under FerretDB, when this process knows it (jsonb indexes are made there). */
  postgresqlUrl?: string;
  /** Stops the servers this process started (none when it uses configured ones). */
  stop(): Promise<void>;
}

function withDatabase(uri: string, dbName: string): string {
  const url = new URL(uri);
  url.pathname = `/${dbName}`;
  return url.toString();
}

/** The database named in a MongoDB URI, if any (`mongodb://host/db?x` → `db`). */
export function databaseIn(uri: string): string | undefined {
  return /^mongodb(?:\+srv)?:\/\/[^/]+\/([^?]+)/.exec(uri)?.[1];
}

/** Connects the default mongoose connection as configured and creates every model's indexes. */
export async function openDatabase(config: Config, mongoUri: string, log: Logger, postgresqlUrl?: string): Promise<Connection> {
  const conn = await connectMongo({
    uri: mongoUri,
    dbName: databaseIn(mongoUri) ?? config.mongo.dbName,
    maxPoolSize: config.mongo.maxPoolSize,
    serverSelectionTimeoutMs: config.mongo.serverSelectionTimeoutMs,
  });
  await ensureIndexes(conn, log);
  if (postgresqlUrl) await ensureJsonbIndexes(conn, postgresqlUrl, log);
  // Records older than the `day` field get it (the staff reports read days by equality).
  const filled = await backfillDays();
  if (filled) log.info({ filled }, 'gave room bookings and volunteer assignments their day');
  // Notifications and read marks older than their read keys (`month`, `subject`) get them.
  const keyed = await backfillNotificationKeys();
  if (keyed) log.info({ keyed }, 'gave notifications and read marks their month and subject');
  // Meal orders older than their `month` get it (a resident's list reads a month at a time).
  const months = await backfillMealOrderMonths();
  if (months) log.info({ months }, 'gave meal orders their month');
  // Room bookings and volunteer assignments older than their `month` get it (their owners' lists read a month at a time).
  const ofStart = await backfillMonthsOfStart();
  if (ofStart) log.info({ months: ofStart }, 'gave room bookings and volunteer assignments their month');
  return conn;
}

/**
 * The embedded defaults: FerretDB when MONGODB_URI is unset — on PostgreSQL (FERRETDB_POSTGRESQL_URL,
 * or a private cluster under DATA_DIR/postgres) or on SQLite under DATA_DIR — and a local
 * redis-server when none answers at a loopback REDIS_URL. A server that already answers on the
 * configured port (e.g. started by another role's process) is reused. What this process starts
 * it also supervises: a server that exits is started again (see storage/supervisor.ts).
 */
export async function provisionStorage(config: Config, log: Logger): Promise<ProvisionedStorage> {
  const stops: Array<() => Promise<void>> = [];
  let mongoUri: string;
  let postgresqlUrl: string | undefined;

  if (config.mongo.uri) {
    mongoUri = config.mongo.uri;
  } else if (await isListening('127.0.0.1', config.ferretdb.port)) {
    log.info({ port: config.ferretdb.port }, 'using the FerretDB already running');
    mongoUri = withDatabase(`mongodb://127.0.0.1:${config.ferretdb.port}/`, config.mongo.dbName);
    if (config.ferretdb.handler === 'postgresql') {
      postgresqlUrl = config.ferretdb.postgresqlUrl ?? (await runningPrivatePostgres(path.join(config.dataDir, 'postgres')))?.url;
    }
  } else {
    const binary = config.ferretdb.binary ?? (await ensureFerretDbBinary(config.cacheDir, log));
    postgresqlUrl = config.ferretdb.postgresqlUrl;
    if (config.ferretdb.handler === 'postgresql' && !postgresqlUrl) {
      const pgOptions = { dataDir: path.join(config.dataDir, 'postgres'), binDir: config.ferretdb.postgresBinDir, log };
      const left = await runningPrivatePostgres(pgOptions.dataDir);
      if (left) {
        log.warn({ port: left.port, pid: left.pid }, 'using the private PostgreSQL an earlier run left running (not supervised)');
        postgresqlUrl = left.url;
      } else {
        const pg = await startPrivatePostgres(pgOptions);
        stops.push(supervise('PostgreSQL', pg, () => startPrivatePostgres({ ...pgOptions, port: pg.port }), log).stop);
        postgresqlUrl = pg.url;
      }
    }
    const ferretOptions = {
      binary,
      port: config.ferretdb.port,
      handler: config.ferretdb.handler,
      dataDir: path.join(config.dataDir, 'ferretdb'),
      postgresqlUrl,
      gogc: config.ferretdb.gogc,
      log,
    };
    const ferret = await startFerretDb(ferretOptions);
    stops.push(supervise('FerretDB', ferret, () => startFerretDb({ ...ferretOptions, port: ferret.port }), log).stop);
    mongoUri = withDatabase(ferret.uri, config.mongo.dbName);
  }

  const redisUrl = new URL(config.redis.url);
  const redisPort = Number(redisUrl.port || 6379);
  if (config.redis.startLocal && !(await isListening(redisUrl.hostname.replace(/^\[|\]$/g, ''), redisPort))) {
    const redisDir = path.join(config.dataDir, 'redis');
    const startRedis = async () => {
      const server = await startRedisServer(redisPort, redisDir);
      log.info({ port: redisPort, pid: server.process.pid }, 'started a local redis-server');
      return server;
    };
    stops.push(supervise('redis-server', await startRedis(), startRedis, log).stop);
  }

  return {
    mongoUri,
    postgresqlUrl: config.mongo.uri ? undefined : postgresqlUrl,
    async stop() {
      for (const stop of stops.reverse()) await stop();
    },
  };
}
