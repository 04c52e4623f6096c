import { Schema, model, type HydratedDocumentFromSchema } from 'mongoose';

/**
 * One claimed delivery attempt of a notification. Attempt n of a notification can be inserted
 * once (unique index), so of several dispatchers holding the same notification only the one
 * whose insert succeeds sends it. Inserts only: no update is ever needed on the hot path.
 */
const notificationAttemptSchema = new Schema({
  notification: { type: Schema.Types.ObjectId, ref: 'Notification', required: true },
  attempt: { type: Number, required: true, min: 1 },
  /** The dispatcher instance that claimed it (for the logs and staff). */
  instance: { type: String, required: true },
  claimedAt: { type: Date, required: true },
});
notificationAttemptSchema.index({ notification: 1, attempt: 1 }, { unique: true });
notificationAttemptSchema.index({ claimedAt: 1 });

export type NotificationAttemptDoc = HydratedDocumentFromSchema<typeof notificationAttemptSchema>;
export const NotificationAttempt = model('NotificationAttempt', notificationAttemptSchema);

/**
 * What an attempt came to. `final` outcomes end the notification (sent, skipped because it
 * became pointless, withdrawn, no channel to reach the person, permanently failed, dead after
 * the last attempt); `failed` with `retryAt` means another attempt is scheduled.
 */
export const NOTIFICATION_OUTCOMES = ['sent', 'failed', 'dead', 'skipped', 'no_channel', 'withdrawn'] as const;
export type NotificationOutcome = (typeof NOTIFICATION_OUTCOMES)[number];

const notificationResultSchema = new Schema({
  notification: { type: Schema.Types.ObjectId, ref: 'Notification', required: true },
  attempt: { type: Number, required: true, min: 0 },
  outcome: { type: String, enum: NOTIFICATION_OUTCOMES, required: true },
  final: { type: Boolean, required: true },
  /** `bot` or `subscribe` when a channel was used. */
  channel: { type: String },
  /** Why it failed: an error code, never message content. */
  error: { type: String },
  /** When the next attempt is due (outcome `failed`). */
  retryAt: { type: Date },
  at: { type: Date, required: true },
});
notificationResultSchema.index({ notification: 1, attempt: 1 }, { unique: true });
notificationResultSchema.index({ outcome: 1, at: -1 });
notificationResultSchema.index({ at: 1 });

export type NotificationResultDoc = HydratedDocumentFromSchema<typeof notificationResultSchema>;
export const NotificationResult = model('NotificationResult', notificationResultSchema);

/**
 * Staff asked to send a dead-lettered (or unreachable) notification again. One retry per
 * dead attempt (unique), so two staff clicking at once schedule one more attempt, not two.
 */
const notificationRetrySchema = new Schema({
  notification: { type: Schema.Types.ObjectId, ref: 'Notification', required: true },
  /** The attempt whose final result is being retried; the retry is attempt + 1. */
  afterAttempt: { type: Number, required: true, min: 0 },
  by: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
  at: { type: Date, required: true },
});
notificationRetrySchema.index({ notification: 1, afterAttempt: 1 }, { unique: true });
notificationRetrySchema.index({ at: 1 });

export const NotificationRetry = model('NotificationRetry', notificationRetrySchema);
