import { detectStoreKind } from './storeKind.js';
import mongoose, { type Connection } from 'mongoose';
import type { Logger } from '../logger.js';

mongoose.set('strictQuery', true);
// An object with `$` keys that reaches a filter from outside (say `{"$ne": null}` slipping past
// validation) is turned into an equality; the code's own operators are marked `trusted()`.
mongoose.set('sanitizeFilter', true);
// Indexes are created once at start by ensureIndexes(), where a failure stops the start
// instead of being logged and forgotten by mongoose's background autoIndex.
mongoose.set('autoIndex', false);
mongoose.set('autoCreate', false);

export interface MongoOptions {
  uri: string;
  dbName: string;
  maxPoolSize: number;
  serverSelectionTimeoutMs: number;
}

/**
 * Opens a mongoose connection. Commands are not buffered: while the server is away they fail
 * fast (and /readyz says so) instead of piling up behind a dead socket.
 */
export async function connectMongo(opts: MongoOptions, conn: Connection = mongoose.connection): Promise<Connection> {
  await conn.openUri(opts.uri, {
    dbName: opts.dbName,
    maxPoolSize: opts.maxPoolSize,
    minPoolSize: 0,
    serverSelectionTimeoutMS: opts.serverSelectionTimeoutMs,
    connectTimeoutMS: 5_000,
    socketTimeoutMS: 30_000,
    heartbeatFrequencyMS: 2_000,
    bufferCommands: false,
  });
  await detectStoreKind(conn);
  return conn;
}

/**
 * Whether an error is a unique-index refusal (11000), alone or inside a bulk write: the
 * answer "already taken" that every invariant here relies on.
 */
export function isDuplicateKey(err: unknown): boolean {
  const e = err as { code?: number; writeErrors?: Array<{ code?: number }> };
  return e?.code === 11000 || (e?.writeErrors ?? []).some((w) => w.code === 11000);
}

/** Raised when one or more indexes cannot be built; names each model and why. */
export class IndexCreationError extends Error {
  constructor(readonly failures: Array<{ model: string; error: string }>) {
    super(`Could not create indexes:\n${failures.map((f) => `  - ${f.model}: ${f.error}`).join('\n')}`);
    this.name = 'IndexCreationError';
  }
}

/**
 * Creates each model's collection and indexes on this connection. Invariants such as "one
 * identity per provider and subject" live in unique indexes, so a missing index is a broken
 * rule, not a slow query: any failure is thrown, naming every model that failed.
 */
export async function ensureIndexes(conn: Connection, log?: Logger): Promise<void> {
  const failures: Array<{ model: string; error: string }> = [];
  for (const model of Object.values(conn.models)) {
    try {
      await model.createCollection().catch((err: { codeName?: string; code?: number }) => {
        if (err.codeName !== 'NamespaceExists' && err.code !== 48) throw err;
      });
      await model.createIndexes();
    } catch (err) {
      failures.push({ model: model.modelName, error: (err as Error).message });
    }
  }
  if (failures.length > 0) throw new IndexCreationError(failures);
  log?.info({ models: Object.keys(conn.models).length }, 'indexes ensured');
}
