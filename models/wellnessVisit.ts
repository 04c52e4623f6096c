import { Schema, model, type HydratedDocumentFromSchema, type InferRawDocTypeFromSchema } from 'mongoose';

export const WELLNESS_VISIT_SOURCES = ['visit', 'meal_delivery'] as const;

/**
 * A recorded visit to an elder (探访). Elders tagged 特困 or 独居 need one every month; a meal
 * handed over in person (delivered, or needs attention) counts too (source meal_delivery).
 */
const wellnessVisitSchema = new Schema(
  {
    elder: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    community: { type: Schema.Types.ObjectId, ref: 'Community', required: true },
    at: { type: Date, required: true },
    /** The Shanghai month 'YYYY-MM' of `at`, for the monthly report. */
    month: { type: String, required: true, match: /^\d{4}-(0[1-9]|1[0-2])$/ },
    by: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    note: { type: String, trim: true },
    source: { type: String, enum: WELLNESS_VISIT_SOURCES, required: true, default: 'visit' },
    /** The meal order, for a visit made by delivering a meal. */
    order: { type: Schema.Types.ObjectId, ref: 'MealOrder' },
  },
  { timestamps: true },
);
wellnessVisitSchema.index({ community: 1, month: 1 });
wellnessVisitSchema.index({ elder: 1, at: -1 });

export type WellnessVisitFields = InferRawDocTypeFromSchema<typeof wellnessVisitSchema>;
export type WellnessVisitDoc = HydratedDocumentFromSchema<typeof wellnessVisitSchema>;
export const WellnessVisit = model('WellnessVisit', wellnessVisitSchema);
