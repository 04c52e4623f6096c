import { Schema, model, type HydratedDocumentFromSchema, type InferRawDocTypeFromSchema } from 'mongoose';

/**
 * 好差评 of one meal order, once. `dishes` rate single dishes; a dish not rated on its own
 * takes the meal's rating in the per-dish report.
 */
const mealRatingSchema = new Schema(
  {
    order: { type: Schema.Types.ObjectId, ref: 'MealOrder', required: true },
    menu: { type: Schema.Types.ObjectId, ref: 'MealMenu', required: true },
    kitchen: { type: Schema.Types.ObjectId, ref: 'Facility', required: true },
    community: { type: Schema.Types.ObjectId, ref: 'Community', required: true },
    date: { type: String, required: true },
    person: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    by: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    good: { type: Boolean, required: true },
    comment: { type: String, trim: true },
    dishes: { type: [{ _id: false, name: { type: String, required: true }, good: { type: Boolean, required: true } }], default: [] },
  },
  { timestamps: true },
);
// One rating per order: the unique index is what keeps it so when two requests race.
mealRatingSchema.index({ order: 1 }, { unique: true });
mealRatingSchema.index({ kitchen: 1, date: 1 });

export type MealRatingFields = InferRawDocTypeFromSchema<typeof mealRatingSchema>;
export type MealRatingDoc = HydratedDocumentFromSchema<typeof mealRatingSchema>;
export const MealRating = model('MealRating', mealRatingSchema);
