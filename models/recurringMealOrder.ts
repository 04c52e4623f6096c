import { Schema, model, type HydratedDocumentFromSchema, type InferRawDocTypeFromSchema } from 'mongoose';
import { isDay } from './calendar.js';
import { MEALS } from './mealMenu.js';
import { MEAL_MODES } from './mealOrder.js';
import { DIETARY_NEEDS } from './person.js';

const day = { type: String, required: true, validate: { validator: isDay, message: '{PATH} must be YYYY-MM-DD' } };

/**
 * A standing order (e.g. every weekday lunch until a date). The materialise job turns it into
 * ordinary MealOrders for the menus ahead of their cut-off; a suspension (hospital stay)
 * skips the days from `from` up to the day before `resumeOn`, and ordering resumes by itself.
 */
const recurringMealOrderSchema = new Schema(
  {
    kitchen: { type: Schema.Types.ObjectId, ref: 'Facility', required: true },
    community: { type: Schema.Types.ObjectId, ref: 'Community', required: true },
    bookedFor: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    bookedBy: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    meal: { type: String, enum: MEALS, required: true },
    /** 0 = Sunday … 6 = Saturday (Shanghai). */
    weekdays: { type: [{ type: Number, min: 0, max: 6 }], required: true },
    mode: { type: String, enum: MEAL_MODES, required: true },
    quantity: { type: Number, required: true, min: 1 },
    /** Unset: the profile's needs on each day. */
    dietaryNeeds: { type: [{ type: String, enum: DIETARY_NEEDS }], default: undefined },
    from: day,
    until: day,
    status: { type: String, enum: ['active', 'ended'], required: true, default: 'active' },
    suspensions: {
      type: [{ _id: false, from: day, resumeOn: day, reason: String, by: Schema.Types.ObjectId, at: Date }],
      default: [],
    },
    /** Menus this order will not be placed on again (sold out, already ordered by hand, refused). */
    skippedMenus: { type: [{ _id: false, menu: Schema.Types.ObjectId, reason: String }], default: [] },
  },
  { timestamps: true },
);
recurringMealOrderSchema.index({ status: 1, until: 1 });
recurringMealOrderSchema.index({ bookedFor: 1 });

/** Whether `day` falls in a suspension of `r` ([from, resumeOn)). */
export function isSuspended(r: { suspensions: ReadonlyArray<{ from: string; resumeOn: string }> }, day: string): boolean {
  return r.suspensions.some((s) => s.from <= day && day < s.resumeOn);
}

export type RecurringMealOrderFields = InferRawDocTypeFromSchema<typeof recurringMealOrderSchema>;
export type RecurringMealOrderDoc = HydratedDocumentFromSchema<typeof recurringMealOrderSchema>;
export const RecurringMealOrder = model('RecurringMealOrder', recurringMealOrderSchema);
