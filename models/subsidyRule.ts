import { Schema, model, type HydratedDocumentFromSchema, type InferRawDocTypeFromSchema } from 'mongoose';
import { RESIDENT_TAGS } from './person.js';

const fen = { validator: (n: number) => Number.isInteger(n) && n >= 0, message: '{PATH} must be whole fen ≥ 0' };

const tierSchema = new Schema(
  {
    label: { type: String, required: true, trim: true },
    minAge: { type: Number, required: true, min: 0, validate: Number.isInteger },
    /** Inclusive; unset = no upper bound. */
    maxAge: { type: Number, min: 0, validate: Number.isInteger },
    /** The resident needs at least one of these tags; unset or empty = no tag needed. */
    requiresAnyTag: { type: [{ type: String, enum: RESIDENT_TAGS }], default: undefined },
    /** What the resident pays for one meal, in fen (capped at the menu price). */
    pay: { type: Number, required: true, validate: fen },
  },
  { _id: false },
);

/**
 * The meal subsidy rule of a community (助餐补贴). Tiers are tried in order and the first
 * that matches the resident's age and tags sets the price, so the most generous tier comes
 * first; no match means the full menu price.
 */
const subsidyRuleSchema = new Schema(
  {
    community: { type: Schema.Types.ObjectId, ref: 'Community', required: true },
    tiers: {
      type: [tierSchema],
      default: [],
      validate: {
        validator: (tiers: Array<{ minAge: number; maxAge?: number | null }>) =>
          tiers.every((t) => t.maxAge === undefined || t.maxAge === null || t.maxAge >= t.minAge),
        message: 'a tier’s maxAge must not be below its minAge',
      },
    },
    /** Added to a 送餐上门 order, in fen. */
    deliveryFee: { type: Number, required: true, default: 0, validate: fen },
  },
  { timestamps: true },
);

// One rule per community: the price a resident sees comes from exactly one place.
subsidyRuleSchema.index({ community: 1 }, { unique: true });

export interface SubsidyTier {
  label: string;
  minAge: number;
  maxAge?: number | null;
  requiresAnyTag?: readonly string[] | null;
  pay: number;
}

/** The first tier that fits a resident of `age` with `tags`, or undefined (full price). */
export function matchingTier<T extends SubsidyTier>(tiers: readonly T[], age: number, tags: readonly string[]): T | undefined {
  return tiers.find(
    (t) =>
      age >= t.minAge &&
      (t.maxAge === undefined || t.maxAge === null || age <= t.maxAge) &&
      (!t.requiresAnyTag || t.requiresAnyTag.length === 0 || t.requiresAnyTag.some((tag) => tags.includes(tag))),
  );
}

/** What a resident pays for a meal of `menuPrice` fen: the matching tier, never above the menu price. */
export function subsidisedPrice(tiers: readonly SubsidyTier[], age: number, tags: readonly string[], menuPrice: number): number {
  const tier = matchingTier(tiers, age, tags);
  return tier ? Math.min(tier.pay, menuPrice) : menuPrice;
}

export type SubsidyRuleFields = InferRawDocTypeFromSchema<typeof subsidyRuleSchema>;
export type SubsidyRuleDoc = HydratedDocumentFromSchema<typeof subsidyRuleSchema>;
export const SubsidyRule = model('SubsidyRule', subsidyRuleSchema);
