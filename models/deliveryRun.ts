import { Schema, model, type HydratedDocumentFromSchema, type InferRawDocTypeFromSchema } from 'mongoose';
import { MEALS } from './mealMenu.js';

/**
 * One delivery round of a meal: the stops of one grid in walking order, made at the cut-off,
 * with its volunteer task (meal_delivery, key `meal-run:<menu>:<grid>`, see createDeliveryRun).
 * One per menu and grid: re-processing the cut-off updates it, and never makes a second task.
 */
const deliveryRunSchema = new Schema(
  {
    menu: { type: Schema.Types.ObjectId, ref: 'MealMenu', required: true },
    kitchen: { type: Schema.Types.ObjectId, ref: 'Facility', required: true },
    community: { type: Schema.Types.ObjectId, ref: 'Community', required: true },
    date: { type: String, required: true },
    meal: { type: String, enum: MEALS, required: true },
    grid: { type: String, required: true },
    portions: { type: Number, required: true, min: 0 },
    stops: {
      type: [{
        _id: false,
        order: { type: Schema.Types.ObjectId, ref: 'MealOrder', required: true },
        person: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
        building: String,
        unit: String,
        room: String,
        quantity: Number,
        dietaryNeeds: [String],
      }],
      default: [],
    },
    /** Its volunteer task; unset when the cut-off was processed after the delivery window began. */
    volunteerTask: { type: Schema.Types.ObjectId, ref: 'VolunteerTask' },
  },
  { timestamps: true },
);
deliveryRunSchema.index({ menu: 1, grid: 1 }, { unique: true });

export type DeliveryRunFields = InferRawDocTypeFromSchema<typeof deliveryRunSchema>;
export type DeliveryRunDoc = HydratedDocumentFromSchema<typeof deliveryRunSchema>;
export const DeliveryRun = model('DeliveryRun', deliveryRunSchema);
