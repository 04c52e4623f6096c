import { Schema, model } from 'mongoose';

/**
 * The volunteer service record's read model: per volunteer (`_id`), the rows and totals of
 * their recorded assignments with each task's title, type and place, so a record view reads two
 * documents by `_id` instead of the volunteer's whole history and a task per row.
 *
 * `stamp` is the VolunteerRecordStamp token read *before* the assignments were read: the rows
 * are used only while the volunteer's stamp still holds it (the scheme of DailyFigures /
 * DailyStamp). The time bank balance and the absences are read live.
 */
const volunteerRecordCacheSchema = new Schema(
  {
    _id: { type: Schema.Types.ObjectId, required: true },
    stamp: { type: String, default: null },
    computedAt: { type: Date, required: true },
    /** VolunteerTotals (src/commands/volunteers.ts). */
    totals: { type: Schema.Types.Mixed, required: true },
    /** ServiceRecord['tasks'] (src/commands/volunteerRecord.ts). */
    tasks: { type: Schema.Types.Mixed, required: true },
  },
  { versionKey: false },
);

/**
 * The freshness token of a volunteer's record: replaced (random) after every write that changes
 * it — an assignment's status or hours (`transition` in volunteerAssignments.ts), a task's
 * title, type or place (updateVolunteerTask) — by markVolunteerRecordChanged.
 */
const volunteerRecordStampSchema = new Schema(
  {
    _id: { type: Schema.Types.ObjectId, required: true },
    token: { type: String, required: true },
    at: { type: Date, required: true },
    /**
     * The volunteer's totals (VolunteerTotals) with the token they were computed under, for
     * /volunteers/me and /volunteers/{id}: used while `token` still equals it, so a view reads this
     * one small document (src/commands/volunteerRecord.ts volunteerFigures).
     */
    figures: { type: Schema.Types.Mixed },
  },
  { versionKey: false },
);

export const VolunteerRecordCache = model('VolunteerRecordCache', volunteerRecordCacheSchema);
export const VolunteerRecordStamp = model('VolunteerRecordStamp', volunteerRecordStampSchema);
