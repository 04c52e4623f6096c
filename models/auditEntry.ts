import { Schema, model, type HydratedDocumentFromSchema } from 'mongoose';
import { shanghaiDay } from './calendar.js';

/**
 * Who did what to whose personal data, and when: every staff read or change of a resident's
 * record, and every privacy-relevant change (links, bindings, deletion). Append-only;
 * readable by admins only. Holds ids and field names, never the values themselves.
 */
const auditEntrySchema = new Schema(
  {
    actor: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    /** e.g. resident.read, resident.update, resident.verify, proxyLink.create */
    action: { type: String, required: true },
    subject: { type: Schema.Types.ObjectId, ref: 'Person' },
    /** Names of the fields read or changed, not their values. */
    fields: { type: [String], default: undefined },
    requestId: { type: String },
    at: { type: Date, required: true, default: () => new Date() },
    /**
     * The Shanghai day 'YYYY-MM-DD' of `at`: the unfiltered trail is read a day at a time by
     * equality (FerretDB v1 sorts and ranges in Go after decoding every entry).
     */
    day: { type: String, default(this: { at?: Date }) { return shanghaiDay(this.at ?? new Date()); } },
  },
  { versionKey: false },
);
auditEntrySchema.index({ at: -1 });
auditEntrySchema.index({ subject: 1, at: -1 });
auditEntrySchema.index({ actor: 1, at: -1 });
auditEntrySchema.index({ day: 1, action: 1 });

export type AuditEntryDoc = HydratedDocumentFromSchema<typeof auditEntrySchema>;
export const AuditEntry = model('AuditEntry', auditEntrySchema);
