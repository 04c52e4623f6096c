import { Schema, model, type HydratedDocumentFromSchema } from 'mongoose';
import { cachedRead } from '../src/cache/readCache.js';
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


/**
 * The days that have audit entries (`_id` 'YYYY-MM-DD'), so an unfiltered page of the trail
 * reads only days with entries: one `{month}` equality read per month of its window, then
 * `{day}` reads of those days. Written when an entry is (below) and by backfillAuditDays.
 */
const auditDaySchema = new Schema({ _id: { type: String, required: true }, month: { type: String, required: true } }, { versionKey: false });
auditDaySchema.index({ month: 1 });
export const AuditDay = model('AuditDay', auditDaySchema);

/**
 * Records that `day` has entries: an upsert by `_id`, done at most once per day and process
 * every few minutes (the read cache remembers it; without Redis, every time). Written after
 * the entry, before the write returns: a failure fails the write.
 */
export async function noteAuditDay(day: string): Promise<void> {
  await cachedRead(`audit-day:${day}`, [], async () => {
    await AuditDay.updateOne({ _id: day }, { $set: { month: day.slice(0, 7) } }, { upsert: true });
    return true;
  });
}
auditEntrySchema.post('save', async function () {
  await noteAuditDay(this.day ?? shanghaiDay(this.at));
});
auditEntrySchema.post('insertMany', async function (inserted: unknown) {
  const docs = inserted as Array<{ day?: string | null; at: Date }>;
  for (const day of new Set(docs.map((d) => d.day ?? shanghaiDay(d.at)))) await noteAuditDay(day);
});

export type AuditEntryDoc = HydratedDocumentFromSchema<typeof auditEntrySchema>;
export const AuditEntry = model('AuditEntry', auditEntrySchema);
