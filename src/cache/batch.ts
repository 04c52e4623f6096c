import { storeKind } from '../storage/storeKind.js';

/**
 * Coalesces loads by key: the keys asked for in the same turn of the event loop are loaded by
 * one call of `loadMany` (issue 20: 200 residents writing at once made 200 × 3 reads of the same
 * three collections for their first messages; now a few reads of each). A key asked for alone
 * is loaded alone. `loadMany` answers a map; a key it leaves out resolves to undefined. If it
 * fails, every caller of that batch gets the error.
 *
 * Only for reads: it changes how many round trips carry them, not what they see. Put it under
 * cachedRead's loader (src/cache/readCache.ts), whose generation tokens are read before it runs.
 */
export function batchedLoad<V>(loadMany: (keys: string[]) => Promise<Map<string, V>>): (key: string) => Promise<V | undefined> {
  let pending: Map<string, Array<{ resolve(v: V | undefined): void; reject(err: unknown): void }>> | null = null;
  const flush = (batch: NonNullable<typeof pending>) => {
    loadMany([...batch.keys()]).then(
      (found) => {
        for (const [key, waiters] of batch) for (const w of waiters) w.resolve(found.get(key));
      },
      (err: unknown) => {
        for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
      },
    );
  };
  return (key) =>
    new Promise<V | undefined>((resolve, reject) => {
      if (!pending) {
        const batch = (pending = new Map());
        setImmediate(() => {
          pending = null;
          flush(batch);
        });
      }
      const waiters = pending.get(key) ?? [];
      waiters.push({ resolve, reject });
      pending.set(key, waiters);
    });
}

/**
 * Whether `n` keys are best read with one `$in` query rather than one equality read each. On
 * index-backed stores always (from 2). On FerretDB v1 an `$in` is filtered in Go after decoding
 * the whole collection, measured at about 5 equality reads' worth, so only from 6.
 */
export const readAsOne = (n: number): boolean => n >= (storeKind() === 'indexed' ? 2 : 6);
