import { trusted } from 'mongoose';
import { IdempotencyRecord } from '../../models/idempotencyRecord.js';

/** How long a retry with the same Idempotency-Key is answered from the stored outcome. */
export const IDEMPOTENCY_RETENTION_HOURS = 24;

/**
 * Deletes up to `limit` idempotency records (leases and answers) older than 24 hours: FerretDB
 * v1 has no TTL indexes, so the `idempotency.purge` job does it. Safe to re-run; a key older
 * than that is a new request again (the Redis copy expires at the same age).
 */
export async function purgeIdempotencyRecords(now: Date, limit: number): Promise<{ deleted: number }> {
  const before = new Date(now.getTime() - IDEMPOTENCY_RETENTION_HOURS * 3_600_000);
  const old = await IdempotencyRecord.find({ createdAt: trusted({ $lt: before }) }, { _id: 1 }).limit(limit).lean();
  if (old.length === 0) return { deleted: 0 };
  const { deletedCount } = await IdempotencyRecord.deleteMany({ _id: trusted({ $in: old.map((r) => r._id) }), createdAt: trusted({ $lt: before }) });
  return { deleted: deletedCount };
}
