import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import mongoose, { type Schema } from 'mongoose';

/**
 * Read-through cache in Redis for the few documents every booking reads (the caller, their
 * proxy links, the room and facility, blackouts, the no-show block). On FerretDB v1 each read
 * scans its collection, so these reads cost as much as the writes (docs/performance.md).
 *
 * Invalidation is by collection generation: each cached collection has a key `gen:<name>`
 * holding a random token that every write to the collection replaces (schema hooks, below).
 * An entry is stored with the tokens read *before* the database was read, and is used only
 * while every token is unchanged. So a reader racing a writer can at worst store an entry
 * that is already outdated, never one that is used: the writer replaced the token after its
 * write, and the entry carries the older one. Random tokens, not counters, so entries written
 * before Redis lost its data can never match again.
 *
 * One Redis per process (`useReadCache`), shared by every app instance. Without it, or while
 * it is not ready, reads go to the database and writes bump nothing; entries also expire after
 * `ENTRY_TTL_SECONDS`, which bounds how long a write made while Redis was unreachable can be
 * missed. Writes that bypass mongoose (`Model.collection.*`) must call `bumpGeneration`.
 */

const ENTRY_TTL_SECONDS = 300;
const { BSON } = mongoose.mongo;

let client: Redis | null = null;

/** Sets (or with null, clears) the Redis that caches reads and keeps generations in this process. */
export function useReadCache(redis: Redis | null): void {
  client = redis;
}

const genKey = (collection: string) => `gen:${collection}`;
const ready = (): Redis | null => (client && client.status === 'ready' ? client : null);

/** Marks every cached read of `collection` outdated. */
export async function bumpGeneration(collection: string): Promise<void> {
  const redis = ready();
  if (!redis) return;
  await redis.set(genKey(collection), randomUUID()).catch(() => undefined);
}

export interface CachedReadOptions {
  /**
   * The value is read-only to every caller: this process keeps it decoded and hands the same
   * one to every caller while the tokens are unchanged (decoding the entry again on every
   * read was a quarter of the bot's CPU on a room question: docs/performance.md). Frozen under
   * test (freezeSharedReads), so a caller that changes it fails there.
   */
  shared?: boolean;
}

/**
 * The value under `key`, from Redis while none of `collections` changed since it was stored,
 * else from `load()` (then stored). `null` is cached like any value. Values are stored as BSON,
 * so ObjectIds and Dates come back as such.
 */
export async function cachedRead<T>(key: string, collections: readonly string[], load: () => Promise<T>, options: CachedReadOptions = {}): Promise<T> {
  const redis = ready();
  if (!redis) return load();
  let stored: Buffer | null;
  let gens: Array<string | null>;
  try {
    const [entry, ...tokens] = await redis.mgetBuffer(`cache:${key}`, ...collections.map(genKey));
    stored = entry ?? null;
    gens = tokens.map((t) => (t ? t.toString() : null));
  } catch {
    return load();
  }
  if (options.shared) {
    // Still one round trip: the tokens decide, as for the entry itself.
    const kept = decoded.get(key);
    if (kept && kept.until > Date.now() && sameTokens(kept.g, gens)) return kept.v as T;
  }
  if (stored) {
    // BSON keeps ObjectIds and Dates, and decodes faster than JSON for these documents.
    const entry = BSON.deserialize(stored) as { g: string[]; v: T };
    if (sameTokens(entry.g, gens)) {
      if (options.shared) keepDecoded(key, entry.g, entry.v);
      return entry.v;
    }
  }
  if (gens.some((g) => g === null)) {
    // A collection nobody has written since Redis started (or lost its data): it gets a token
    // now, before the database is read, so this load can be stored (issue 20: else the 200
    // residents' second message read the same thing again). Taken in one MULTI, so a token
    // another reader set first is the one used.
    try {
      gens = await Promise.all(collections.map((c, i) => (gens[i] !== null ? gens[i]! : firstGeneration(redis, c))));
    } catch {
      return load();
    }
  }
  // One load per key and generation in this process: a cold key read by many at once (200
  // residents' first message, a room list) costs one database read, not one each. Waiters
  // get their own copy, decoded from the value as loaded (encoded before the first caller
  // can touch it: callers may turn it into records in place).
  const flightKey = `${key}|${gens.join('|')}`;
  const inFlight = loading.get(flightKey);
  if (inFlight) return inFlight.then((bytes) => (BSON.deserialize(bytes) as { v: T }).v);
  // A mongoose Query is a thenable that runs again on every then(): adopt it once.
  const loaded = Promise.resolve(load());
  const encoded = loaded.then((v) => Buffer.from(BSON.serialize({ v })));
  encoded.catch(() => undefined);
  loading.set(flightKey, encoded);
  let value: T;
  try {
    value = await loaded;
  } finally {
    void encoded.finally(() => loading.delete(flightKey)).catch(() => undefined);
  }
  if (gens.every((g) => g !== null)) {
    redis.set(`cache:${key}`, Buffer.from(BSON.serialize({ g: gens, v: value })), 'EX', ENTRY_TTL_SECONDS).catch(() => undefined);
    if (options.shared) keepDecoded(key, gens as string[], value);
  }
  return value;
}

const sameTokens = (kept: readonly string[], now: ReadonlyArray<string | null>) =>
  kept.length === now.length && kept.every((g, i) => g === now[i]);

/**
 * Shared values of this process (CachedReadOptions.shared), by key, with the tokens they were
 * read under; as long-lived as a Redis entry, and at most DECODED_LIMIT of them (the oldest
 * stored goes first).
 */
const decoded = new Map<string, { g: string[]; v: unknown; until: number }>();
const DECODED_LIMIT = 5_000;
let freezeShared = false;

/** Tests: shared values are deep-frozen, so a caller that changes one throws (test/support/hooks.ts). */
export function freezeSharedReads(on: boolean): void {
  freezeShared = on;
}

function keepDecoded(key: string, g: string[], v: unknown): void {
  if (freezeShared) deepFreeze(v);
  decoded.delete(key);
  decoded.set(key, { g, v, until: Date.now() + ENTRY_TTL_SECONDS * 1000 });
  if (decoded.size > DECODED_LIMIT) decoded.delete(decoded.keys().next().value!);
}

/** Plain objects and arrays, all the way down (ObjectIds, Dates and buffers are left as they are). */
function deepFreeze(v: unknown): void {
  if (v === null || typeof v !== 'object' || Object.isFrozen(v)) return;
  const proto = Object.getPrototypeOf(v);
  if (!Array.isArray(v) && proto !== Object.prototype && proto !== null) return;
  Object.freeze(v);
  for (const child of Object.values(v)) deepFreeze(child);
}

/**
 * The token of a collection that has none, set if still missing (one MULTI), once per process
 * however many readers find it missing at the same moment. Each waits for it before reading.
 */
function firstGeneration(redis: Redis, collection: string): Promise<string | null> {
  let pending = initialising.get(collection);
  if (!pending) {
    pending = redis.multi().set(genKey(collection), randomUUID(), 'NX').get(genKey(collection)).exec()
      .then((replies) => (replies![1]![1] as string | null))
      .finally(() => initialising.delete(collection));
    initialising.set(collection, pending);
  }
  return pending;
}
const initialising = new Map<string, Promise<string | null>>();

/** Loads in progress in this process, by key and generations (see cachedRead). */
const loading = new Map<string, Promise<Buffer>>();

const WRITE_QUERIES = [
  'updateOne', 'updateMany', 'findOneAndUpdate', 'findOneAndDelete', 'findOneAndReplace', 'replaceOne', 'deleteOne', 'deleteMany',
] as const;

const cachedCollections = new Set<string>();

/**
 * Marks every cached read outdated: for writers that bypass the hooks, such as a script run
 * with no read cache of its own against a live service's database.
 */
export async function forgetCachedReads(redis: Redis): Promise<void> {
  await Promise.all([...cachedCollections].map((c) => redis.set(genKey(c), randomUUID())));
}

/** Schema plugin: every write through the model marks the collection's cached reads outdated. */
export function invalidatesCachedReads(collection: string) {
  cachedCollections.add(collection);
  return (schema: Schema) => {
    const bump = async () => bumpGeneration(collection);
    schema.post('save', bump);
    schema.post('deleteOne', { document: true, query: false }, bump);
    for (const op of WRITE_QUERIES) schema.post(op as 'updateOne', { document: false, query: true }, bump);
    schema.post('insertMany', bump);
    schema.post('bulkWrite', bump);
  };
}
