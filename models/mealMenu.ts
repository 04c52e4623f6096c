import { Schema, model, type HydratedDocumentFromSchema, type InferRawDocTypeFromSchema } from 'mongoose';
import { atShanghai, isDay } from './calendar.js';
import { DIETARY_NEEDS } from './person.js';

export const MEALS = ['lunch', 'dinner'] as const;
export type Meal = (typeof MEALS)[number];

/** Default order cut-offs, Shanghai time on the day of the meal (config may override). */
export const DEFAULT_MEAL_CUTOFFS: Record<Meal, string> = { lunch: '09:30', dinner: '15:00' };

/** The cut-off instant of a meal on a Shanghai day, e.g. ('2026-03-02', 'lunch') → 09:30 +08:00. */
export function mealCutoff(day: string, meal: Meal, cutoffs: Record<Meal, string> = DEFAULT_MEAL_CUTOFFS): Date {
  return atShanghai(day, cutoffs[meal]);
}

const dishSchema = new Schema(
  {
    name: { type: String, required: true, trim: true },
    allergens: { type: [String], default: [] },
    /** Dietary needs this dish is fit for; the kitchen sheet matches orders against it. */
    suitableFor: { type: [{ type: String, enum: DIETARY_NEEDS }], default: [] },
  },
  { _id: false },
);

const nonNegativeInt = { validator: (n: number) => Number.isInteger(n) && n >= 0, message: '{PATH} must be a whole number ≥ 0' };

/**
 * One meal (lunch or dinner) of a kitchen on one Shanghai day. Portions are taken with
 * CapacityClaims (`claimPlaces`, key per menu), never with a guarded `$inc` on `remaining`:
 * FerretDB v1 does not apply guarded updates atomically (README, "Storage"). `remaining` is a
 * display counter only.
 */
const mealMenuSchema = new Schema(
  {
    kitchen: { type: Schema.Types.ObjectId, ref: 'Facility', required: true },
    /** The Shanghai calendar day 'YYYY-MM-DD': exact equality for "per day" queries. */
    date: { type: String, required: true, validate: { validator: isDay, message: 'date must be YYYY-MM-DD' } },
    meal: { type: String, enum: MEALS, required: true },
    dishes: {
      type: [dishSchema],
      default: [],
      validate: { validator: (d: unknown[]) => d.length > 0, message: 'a menu has at least one dish' },
    },
    /** Full price in fen (1200 = 12 元); the subsidy rule decides what a resident pays. */
    price: { type: Number, required: true, validate: nonNegativeInt },
    capacity: { type: Number, required: true, validate: nonNegativeInt },
    remaining: { type: Number, required: true, validate: nonNegativeInt },
    /** Orders and cancellations close here; computed at publish (see mealCutoff). */
    cutoff: { type: Date, required: true },
    published: { type: Boolean, required: true, default: false },
    /**
     * A random value every write to the menu's orders sets after it: the cached sheets are
     * reused only while it is unchanged (see mealSheets).
     */
    sheetStamp: { type: String },
    /** Set once the cut-off was processed (delivery runs made); re-running updates, never duplicates. */
    cutoffProcessedAt: { type: Date },
  },
  { timestamps: true },
);

mealMenuSchema.pre('validate', function () {
  if (this.remaining === undefined || this.remaining === null) this.remaining = this.capacity;
  if (this.remaining > this.capacity) this.invalidate('remaining', 'remaining cannot exceed capacity');
});

mealMenuSchema.index({ kitchen: 1, date: 1, meal: 1 }, { unique: true });
// Residents' "what is on this week" across kitchens, and the cut-off job's scan.
mealMenuSchema.index({ date: 1, meal: 1 });
mealMenuSchema.index({ cutoff: 1 });

/** From when a meal is served, Shanghai time: a dine-in or pickup order can be rated after it. */
export const MEAL_SERVED_FROM: Record<Meal, string> = { lunch: '11:00', dinner: '17:00' };

/**
 * When 送餐上门 meals go out, Shanghai time: volunteers collect them at the kitchen a quarter
 * of an hour before serving (MEAL_SERVED_FROM) and are back within 1½ hours. The volunteer
 * task of a delivery run spans this window.
 */
export const MEAL_DELIVERY_WINDOW: Record<Meal, { from: string; to: string }> = {
  lunch: { from: '10:45', to: '12:30' },
  dinner: { from: '16:45', to: '18:30' },
};

/**
 * Until when a meal is served (the meal window), Shanghai time: a 送餐上门 order still without
 * an outcome an hour after it is escalated (wellnessEscalation).
 */
export const MEAL_SERVED_UNTIL: Record<Meal, string> = { lunch: '13:00', dinner: '19:00' };

export const MEAL_LABELS: Record<Meal, string> = { lunch: '午餐', dinner: '晚餐' };

export type MealMenuFields = InferRawDocTypeFromSchema<typeof mealMenuSchema>;
export type MealMenuDoc = HydratedDocumentFromSchema<typeof mealMenuSchema>;
export const MealMenu = model('MealMenu', mealMenuSchema);
