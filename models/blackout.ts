import { Schema, model, type HydratedDocumentFromSchema } from 'mongoose';
import { invalidatesCachedReads } from '../src/cache/readCache.js';

/** A period a room (or a whole facility, without room) cannot be booked: maintenance, holidays. */
const blackoutSchema = new Schema(
  {
    facility: { type: Schema.Types.ObjectId, ref: 'Facility', required: true },
    room: { type: Schema.Types.ObjectId, ref: 'Room' },
    start: { type: Date, required: true },
    end: { type: Date, required: true },
    reason: { type: String, required: true, trim: true },
    createdBy: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
  },
  { timestamps: true },
);
blackoutSchema.index({ facility: 1, start: 1 });

export type BlackoutDoc = HydratedDocumentFromSchema<typeof blackoutSchema>;
// Read on every booking through the read cache; each write makes those reads fresh.
blackoutSchema.plugin(invalidatesCachedReads('Blackout'));
export const Blackout = model('Blackout', blackoutSchema);
