import { Schema, model, type HydratedDocumentFromSchema, type InferRawDocTypeFromSchema } from 'mongoose';
import { MEALS } from './mealMenu.js';
import { DIETARY_NEEDS } from './person.js';

export const MEAL_MODES = ['dine_in', 'pickup', 'delivery'] as const;
export type MealMode = (typeof MEAL_MODES)[number];
export const MEAL_MODE_LABELS: Record<MealMode, string> = { dine_in: '堂食', pickup: '自取', delivery: '送餐上门' };

/** confirmed → cancelled, or (送餐上门) delivered / not_at_home / needs_attention at the door. */
export const MEAL_ORDER_STATUSES = ['confirmed', 'cancelled', 'delivered', 'not_at_home', 'needs_attention'] as const;
export type MealOrderStatus = (typeof MEAL_ORDER_STATUSES)[number];
export const DELIVERY_OUTCOMES = ['delivered', 'not_at_home', 'needs_attention'] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

const fen = { type: Number, required: true, min: 0 };

/**
 * The price of an order as the resident saw it before confirming (and as it was charged):
 * menu price × quantity, minus the subsidy of the resident's tier (one portion per person
 * and meal is subsidised), plus the delivery fee. All amounts in fen.
 */
const breakdownSchema = new Schema(
  {
    unitPrice: fen,
    quantity: { type: Number, required: true, min: 1 },
    /** The subsidy tier applied (label of the community's rule), or null: full price. */
    tier: { type: String, default: null },
    /** What the resident pays for the subsidised portion. */
    subsidisedPrice: fen,
    subsidy: fen,
    deliveryFee: fen,
    toPay: fen,
  },
  { _id: false },
);

/**
 * One resident's order of one meal (a MealMenu). Its portions are CapacityClaims under
 * `meal:<menu>` (place numbers), and one order per person and meal is the claim
 * `meal-person:<menu>:<person>` slot 0: both die with the order (cancel). Status moves claim
 * `state:<id>` (stateMachine.ts).
 */
const mealOrderSchema = new Schema(
  {
    menu: { type: Schema.Types.ObjectId, ref: 'MealMenu', required: true },
    kitchen: { type: Schema.Types.ObjectId, ref: 'Facility', required: true },
    community: { type: Schema.Types.ObjectId, ref: 'Community', required: true },
    /** Copied from the menu: the Shanghai day and meal, for lists and monthly reports. */
    date: { type: String, required: true },
    /**
     * The month of `date` (`2026-12`), set on validate: a resident's list reads a month at a time,
     * newest first (`{bookedFor, month}` equality), so a page costs the months it shows, not the
     * person's whole history (listMyMealOrders).
     */
    month: { type: String },
    meal: { type: String, enum: MEALS, required: true },
    bookedFor: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    bookedBy: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    mode: { type: String, enum: MEAL_MODES, required: true },
    quantity: { type: Number, required: true, min: 1 },
    /** The needs the kitchen cooks for: the profile's, or the order's own when given. */
    dietaryNeeds: { type: [{ type: String, enum: DIETARY_NEEDS }], default: [] },
    dietarySource: { type: String, enum: ['profile', 'order'], required: true, default: 'profile' },
    note: { type: String, trim: true },
    /** The resident's building and grid at ordering time (statistics, and the delivery sheets' grouping). */
    building: { type: String },
    grid: { type: String },
    /**
     * 送餐上门 only: where and to whom the meal goes, as on the profile when ordering (or
     * changing the order), so the delivery sheets need no read of the persons. Erased with
     * the person's other personal data (forgetMealContacts, on anonymisation).
     */
    deliverTo: {
      name: { type: String },
      phone: { type: String },
      unit: { type: String },
      room: { type: String },
    },
    breakdown: { type: breakdownSchema, required: true },
    status: { type: String, enum: MEAL_ORDER_STATUSES, required: true, default: 'confirmed' },
    version: { type: Number, required: true, default: 0 },
    /** Materialised from this recurring order. */
    recurring: { type: Schema.Types.ObjectId, ref: 'RecurringMealOrder' },
    outcome: {
      outcome: { type: String, enum: DELIVERY_OUTCOMES },
      note: { type: String },
      at: { type: Date },
      by: { type: Schema.Types.ObjectId, ref: 'Person' },
    },
    /**
     * 送餐上门 with no outcome an hour after the meal window: when its grid workers and the
     * kitchen's staff were told (wellnessEscalation). Marks it done for the next runs; the
     * messages' unique keys are what keeps them single.
     */
    noOutcomeEscalatedAt: { type: Date },
    history: {
      type: [{ _id: false, from: String, to: String, at: Date, by: Schema.Types.ObjectId, reason: String }],
      default: [],
    },
  },
  { timestamps: true },
);
mealOrderSchema.pre('validate', function () {
  if (this.date && this.month !== this.date.slice(0, 7)) this.month = this.date.slice(0, 7);
});
// The kitchen and delivery sheets read one menu's orders; residents list theirs; reports a month.
mealOrderSchema.index({ menu: 1, status: 1 });
mealOrderSchema.index({ bookedFor: 1, date: -1 });
mealOrderSchema.index({ bookedFor: 1, month: 1 });
mealOrderSchema.index({ community: 1, date: 1 });
mealOrderSchema.index({ recurring: 1, date: 1 });

export type MealOrderFields = InferRawDocTypeFromSchema<typeof mealOrderSchema>;
export type MealOrderDoc = HydratedDocumentFromSchema<typeof mealOrderSchema>;
export const MealOrder = model('MealOrder', mealOrderSchema);
