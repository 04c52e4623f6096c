import { Schema, model, type HydratedDocumentFromSchema } from 'mongoose';

/**
 * One run of a scheduled job for one cron tick. The unique (job, tick) index makes the tick
 * run once across every instance, even if the Redis lock was lost; the record then tells
 * staff how it went (GET /api/v1/jobs).
 */
const jobRunSchema = new Schema({
  job: { type: String, required: true },
  /** The tick's scheduled time, ISO to the second (Asia/Shanghai cron, stored in UTC). */
  tick: { type: String, required: true },
  instance: { type: String, required: true },
  /** The lock's fencing token: strictly increasing per job across instances. */
  fence: { type: Number, required: true },
  status: { type: String, enum: ['running', 'ok', 'failed'], required: true },
  startedAt: { type: Date, required: true },
  finishedAt: { type: Date },
  ms: { type: Number },
  counts: { type: Schema.Types.Mixed },
  /** The error's name and message (no personal data is put in job errors). */
  error: { type: String },
});
jobRunSchema.index({ job: 1, tick: 1 }, { unique: true });
jobRunSchema.index({ startedAt: -1 });

export type JobRunDoc = HydratedDocumentFromSchema<typeof jobRunSchema>;
export const JobRun = model('JobRun', jobRunSchema);
