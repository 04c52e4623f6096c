import { Schema, model } from 'mongoose';
import { invalidatesCachedReads } from '../src/cache/readCache.js';

/**
 * Until when a person may not book a service (no-shows), keyed `<service>:<person>` so the
 * check on every booking is a lookup by `_id` (the one FerretDB v1 answers from an index).
 * Derived from NoShow records whenever one is added; NoShow stays the source of truth.
 */
const bookingBlockSchema = new Schema(
  {
    _id: { type: String },
    until: { type: Date, required: true },
  },
  { versionKey: false, timestamps: { createdAt: false, updatedAt: true } },
);

// Read on every booking through the read cache; each write makes those reads fresh.
bookingBlockSchema.plugin(invalidatesCachedReads('BookingBlock'));
export const BookingBlock = model('BookingBlock', bookingBlockSchema);
