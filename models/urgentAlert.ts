import { Schema, model, type HydratedDocumentFromSchema, type InferRawDocTypeFromSchema } from 'mongoose';

export const URGENT_ALERT_SOURCES = ['bot', 'api'] as const;
export type UrgentAlertSource = (typeof URGENT_ALERT_SOURCES)[number];
export const URGENT_ALERT_STATUSES = ['open', 'acknowledged'] as const;
export type UrgentAlertStatus = (typeof URGENT_ALERT_STATUSES)[number];

/**
 * 紧急求助: a person wrote that they fell, are in pain, unwell, trapped, or that there is a
 * fire (bot), or pressed the mini-program's SOS button (api). Their family (代办), the grid
 * workers of their grid and the community's staff are told at once; the first of them who
 * answers acknowledges it; unacknowledged for a few minutes, the admins are told.
 */
const urgentAlertSchema = new Schema(
  {
    person: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    /** Unset for a person not yet in a community (a pending mini-program user). */
    community: { type: Schema.Types.ObjectId, ref: 'Community' },
    /** Who raised it: the person, or someone acting for them from the mini-program. */
    raisedBy: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    source: { type: String, enum: URGENT_ALERT_SOURCES, required: true },
    /** What the person wrote, newest last (messages sent while the alert is open are added). */
    words: { type: [String], default: [] },
    raisedAt: { type: Date, required: true },
    /** Who was told: they may read and acknowledge it. */
    recipients: { type: [{ type: Schema.Types.ObjectId, ref: 'Person' }], default: [] },
    status: { type: String, enum: URGENT_ALERT_STATUSES, required: true, default: 'open' },
    acknowledgedBy: { type: Schema.Types.ObjectId, ref: 'Person' },
    acknowledgedAt: { type: Date },
    /** When the admins were told nobody acknowledged it in time. */
    escalatedAt: { type: Date },
    /**
     * `<person>:open` while open, `<person>:<id>` once acknowledged: the unique index keeps one
     * open alert per person however many messages race in (no partial indexes on FerretDB).
     */
    openKey: { type: String, required: true },
  },
  { timestamps: true },
);
urgentAlertSchema.index({ openKey: 1 }, { unique: true });
urgentAlertSchema.index({ status: 1, raisedAt: 1 });
urgentAlertSchema.index({ recipients: 1, status: 1 });

export type UrgentAlertFields = InferRawDocTypeFromSchema<typeof urgentAlertSchema>;
export type UrgentAlertDoc = HydratedDocumentFromSchema<typeof urgentAlertSchema>;
export const UrgentAlert = model('UrgentAlert', urgentAlertSchema);
