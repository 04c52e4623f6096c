import { Schema, model, type HydratedDocumentFromSchema } from 'mongoose';

/** The services a ServiceRating can be about (meals have MealRating, which rates dishes too). */
export const RATED_SERVICES = ['room'] as const;
export type RatedService = (typeof RATED_SERVICES)[number];

/**
 * 好差评 of one use of a service, once: `subject` is what was used (a room booking). Staff of
 * the facility see the counts and the comments, not who wrote them (as with meals).
 */
const serviceRatingSchema = new Schema(
  {
    service: { type: String, enum: RATED_SERVICES, required: true },
    subject: { type: Schema.Types.ObjectId, required: true },
    /** The room of a room booking: the report counts per room. */
    unit: { type: Schema.Types.ObjectId, required: true },
    facility: { type: Schema.Types.ObjectId, ref: 'Facility', required: true },
    community: { type: Schema.Types.ObjectId, ref: 'Community', required: true },
    /** Shanghai day of the use, YYYY-MM-DD. */
    day: { type: String, required: true },
    person: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    by: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    good: { type: Boolean, required: true },
    comment: { type: String, trim: true },
  },
  { timestamps: true },
);
// One rating per use: the unique index is what keeps it so when two requests race.
serviceRatingSchema.index({ service: 1, subject: 1 }, { unique: true });
serviceRatingSchema.index({ facility: 1, day: 1 });

export type ServiceRatingDoc = HydratedDocumentFromSchema<typeof serviceRatingSchema>;
export const ServiceRating = model('ServiceRating', serviceRatingSchema);
