import { Schema, model, type HydratedDocumentFromSchema } from 'mongoose';

/**
 * The booking core's one invariant keeper. Whatever is scarce is split into numbered slots
 * under a key: the 30-minute units of a room (`room:<id>`, slot = unit since the epoch), the
 * places of a meal or a session (`meal:<id>`, slot = place number), a resident's weekly quota
 * (`room-quota:<person>:<week>`, slot = 0 … quota-1). Taking a slot is inserting its claim;
 * the unique (key, slot) index lets exactly one insert win however many race, on MongoDB and
 * on FerretDB alike (where a guarded update is not atomic).
 */
const capacityClaimSchema = new Schema(
  {
    key: { type: String, required: true },
    slot: { type: Number, required: true },
    /** The booking (or hold) that owns the slot. */
    holder: { type: Schema.Types.ObjectId, required: true },
    /** A hold that lapses: after it, the slot may be taken over (see claims.ts). */
    expiresAt: { type: Date },
  },
  { timestamps: { createdAt: true, updatedAt: false }, versionKey: false },
);
capacityClaimSchema.index({ key: 1, slot: 1 }, { unique: true });
capacityClaimSchema.index({ holder: 1 });

export type CapacityClaimDoc = HydratedDocumentFromSchema<typeof capacityClaimSchema>;
export const CapacityClaim = model('CapacityClaim', capacityClaimSchema);
