import { Schema, model, type HydratedDocumentFromSchema, type InferRawDocTypeFromSchema } from 'mongoose';

export const WELLNESS_ALERT_KINDS = ['not_at_home', 'needs_attention'] as const;
export type WellnessAlertKind = (typeof WELLNESS_ALERT_KINDS)[number];
export const WELLNESS_ALERT_STATUSES = ['open', 'closed'] as const;
export type WellnessAlertStatus = (typeof WELLNESS_ALERT_STATUSES)[number];

/**
 * Raised when a meal delivery finds the elder not at home or needing attention. The family
 * contacts (active 代办 links) and the grid workers of the elder's grid are notified at once;
 * the alert stays open until one of them (or staff) closes it saying what happened.
 */
const wellnessAlertSchema = new Schema(
  {
    order: { type: Schema.Types.ObjectId, ref: 'MealOrder', required: true },
    elder: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    community: { type: Schema.Types.ObjectId, ref: 'Community', required: true },
    kitchen: { type: Schema.Types.ObjectId, ref: 'Facility', required: true },
    kind: { type: String, enum: WELLNESS_ALERT_KINDS, required: true },
    note: { type: String },
    raisedBy: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    raisedAt: { type: Date, required: true },
    /** Who was told: they may read and close it. */
    recipients: { type: [{ type: Schema.Types.ObjectId, ref: 'Person' }], default: [] },
    status: { type: String, enum: WELLNESS_ALERT_STATUSES, required: true, default: 'open' },
    version: { type: Number, required: true, default: 0 },
    closedBy: { type: Schema.Types.ObjectId, ref: 'Person' },
    closedAt: { type: Date },
    resolution: { type: String },
    /** When the community's staff were told nobody closed it in time (wellnessEscalation). */
    escalatedAt: { type: Date },
    history: {
      type: [{ _id: false, from: String, to: String, at: Date, by: Schema.Types.ObjectId, reason: String }],
      default: [],
    },
  },
  { timestamps: true },
);
// One alert per order and kind (not at home, then needs attention on a second try, makes two).
wellnessAlertSchema.index({ order: 1, kind: 1 }, { unique: true });
wellnessAlertSchema.index({ community: 1, status: 1 });
wellnessAlertSchema.index({ recipients: 1, status: 1 });

export type WellnessAlertFields = InferRawDocTypeFromSchema<typeof wellnessAlertSchema>;
export type WellnessAlertDoc = HydratedDocumentFromSchema<typeof wellnessAlertSchema>;
export const WellnessAlert = model('WellnessAlert', wellnessAlertSchema);
