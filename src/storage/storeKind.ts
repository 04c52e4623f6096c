import type { Connection } from 'mongoose';

/**
 * What kind of store answers: `scan` for FerretDB v1 (SQLite or PostgreSQL handler: only
 * `_id` and scalar equality reach the store, and no index serves them, so a read of "which
 * places are taken" decodes a whole collection while a refused insert is cheap), `indexed`
 * for MongoDB and FerretDB v2 on DocumentDB (indexed reads take ~2 ms, a duplicate-key error
 * ~40 ms). Commands that can do either pick the cheap one (see booking/claims.ts).
 */
export type StoreKind = 'scan' | 'indexed';

let kind: StoreKind = 'scan';

export const storeKind = (): StoreKind => kind;

/** For tests: run the other path on whatever store is there (both must be correct anywhere). */
export function setStoreKind(next: StoreKind): void {
  kind = next;
}

/** Asks the server (buildInfo) and remembers the answer for this process. */
export async function detectStoreKind(conn: Connection): Promise<StoreKind> {
  const info = (await conn.db!.admin().command({ buildInfo: 1 })) as { ferretdbFeatures?: unknown; ferretdbVersion?: unknown };
  const v1 = info.ferretdbFeatures !== undefined || (typeof info.ferretdbVersion === 'string' && info.ferretdbVersion.startsWith('v1.'));
  kind = v1 ? 'scan' : 'indexed';
  return kind;
}
