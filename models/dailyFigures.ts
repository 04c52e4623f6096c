import { Schema, model, type InferRawDocTypeFromSchema } from 'mongoose';

/**
 * The staff reports' read model (dashboard, meal subsidies, monthly statistics): one document
 * per community and Shanghai day, `_id` = `<community>:<YYYY-MM-DD>`, holding that day's
 * numbers, so a report of 30 days reads its month's (or two months') small documents by
 * `{community, month}` equality instead of every order and
 * booking of the community's history (FerretDB v1 filters ranges and `$in` in Go after
 * decoding every document). Computed from the day's records with equality reads by
 * src/reports/dailyFigures.ts, never by hand.
 *
 * `stamp` is the DailyStamp token read *before* the records were read: the figures are used
 * only while the day's DailyStamp still holds that token. See DailyStamp.
 */
const dailyFiguresSchema = new Schema(
  {
    _id: { type: String, required: true },
    community: { type: Schema.Types.ObjectId, ref: 'Community', required: true },
    day: { type: String, required: true },
    /** 'YYYY-MM' of `day`: a report reads its months' documents by `{community, month}` equality. */
    month: { type: String, required: true },
    /** The day's DailyStamp token when the records were read (null: the day was never marked). */
    stamp: { type: String, default: null },
    computedAt: { type: Date, required: true },
    /** See DayFigures in src/reports/dailyFigures.ts. */
    figures: { type: Schema.Types.Mixed, required: true },
  },
  { versionKey: false },
);

/**
 * The freshness token of a community's day: every command that changes the day's numbers
 * (an order placed or cancelled, a booking made, moved or cancelled, hours approved, a
 * rating…) replaces `token` with a new random one after its write (markDaysChanged). Why a
 * separate document and a random token rather than a counter on DailyFigures: on FerretDB v1
 * guarded updates are not atomic and `$inc` loses updates (docs/contributing.md), so a
 * recompute writing figures into the same document could overwrite a newer mark. Here the
 * marker and the recompute never write the same document, and whatever token a race leaves
 * is one the stored figures do not carry.
 */
const dailyStampSchema = new Schema(
  {
    _id: { type: String, required: true },
    community: { type: Schema.Types.ObjectId, ref: 'Community', required: true },
    day: { type: String, required: true },
    month: { type: String, required: true },
    token: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { versionKey: false },
);

dailyFiguresSchema.index({ community: 1, month: 1 });
dailyStampSchema.index({ community: 1, month: 1 });

export type DailyFiguresFields = InferRawDocTypeFromSchema<typeof dailyFiguresSchema>;
export const DailyFigures = model('DailyFigures', dailyFiguresSchema);
export const DailyStamp = model('DailyStamp', dailyStampSchema);
