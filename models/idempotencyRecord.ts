import { Schema, model } from 'mongoose';

/**
 * What the `Idempotency-Key` middleware keeps in MongoDB so that a retry's outcome never
 * depends on Redis (src/middlewares/idempotency.ts). Two records per key, both written by
 * insert (the `_id` is the unique index, and FerretDB v1 serves only `_id` equality from its
 * storage, so every read here is by `_id`):
 *
 * - `<hash>`: the lease. Its insert decides which of racing requests runs; `leaseUntil` says
 *   how long the others answer 409 idempotency_in_progress (an expired lease may be taken
 *   over with a guarded update, or is deleted when the request failed having changed nothing);
 * - `<hash>#answer`: the answer (status and JSON body), inserted before the client is
 *   answered, so a retry finds it even when Redis lost its copy.
 *
 * `<hash>` is sha256 of user, method, path and the key. The `idempotency.purge` job deletes
 * records older than 24 hours (no TTL indexes on FerretDB v1).
 */
const idempotencyRecordSchema = new Schema(
  {
    _id: { type: String, required: true },
    kind: { type: String, enum: ['lease', 'answer'], required: true },
    /** sha256 of the request body: the same key with another body is refused. */
    fingerprint: { type: String, required: true },
    leaseUntil: { type: Date },
    status: { type: Number },
    /** The answer's body as JSON text (kept as text: its keys may not suit a document). */
    body: { type: String },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false },
);
idempotencyRecordSchema.index({ createdAt: 1 });

export const IdempotencyRecord = model('IdempotencyRecord', idempotencyRecordSchema);

/** The record as stored (the middleware writes it with the driver). */
export interface IdempotencyRecordFields {
  _id: string;
  kind: 'lease' | 'answer';
  fingerprint: string;
  leaseUntil?: Date;
  status?: number;
  body?: string;
  createdAt: Date;
}
