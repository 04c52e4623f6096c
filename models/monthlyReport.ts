import { Schema, model, type HydratedDocumentFromSchema, type InferRawDocTypeFromSchema } from 'mongoose';

/**
 * The monthly statistics of a community for staff (meals served, subsidy totals, childcare
 * hours, room utilisation, volunteer hours, 好差评), computed from the records by
 * monthlyStatistics and stored once per community and month: the unique index is what makes
 * the monthly job idempotent. `partial` is true for a month not over when it was generated
 * (on demand); the job replaces such a report with the final one.
 */
const monthlyReportSchema = new Schema(
  {
    community: { type: Schema.Types.ObjectId, ref: 'Community', required: true },
    /** 'YYYY-MM', Shanghai. */
    month: { type: String, required: true, match: /^\d{4}-(0[1-9]|1[0-2])$/ },
    partial: { type: Boolean, required: true },
    generatedAt: { type: Date, required: true },
    /** The figures (see MonthlyFigures in src/commands/monthlyReports.ts). */
    figures: { type: Schema.Types.Mixed, required: true },
  },
  { timestamps: true },
);
monthlyReportSchema.index({ community: 1, month: 1 }, { unique: true });
monthlyReportSchema.index({ month: 1, partial: 1 });

export type MonthlyReportFields = InferRawDocTypeFromSchema<typeof monthlyReportSchema>;
export type MonthlyReportDoc = HydratedDocumentFromSchema<typeof monthlyReportSchema>;
export const MonthlyReport = model('MonthlyReport', monthlyReportSchema);
