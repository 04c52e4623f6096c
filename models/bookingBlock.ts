import { Schema, model } from 'mongoose';

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

export const BookingBlock = model('BookingBlock', bookingBlockSchema);
