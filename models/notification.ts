import { Schema, model, type HydratedDocumentFromSchema } from 'mongoose';

/**
 * The notifications outbox: every message to a person is stored first, under a unique key
 * (e.g. `room-booking:<id>:cancelled`), so it is sent once; the jobs deliver pending ones
 * through the bot or a subscribe message.
 */
const notificationSchema = new Schema(
  {
    key: { type: String, required: true },
    person: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    kind: { type: String, required: true },
    /** What the person reads, in Chinese. */
    text: { type: String, required: true },
    dueAt: { type: Date, required: true },
    status: { type: String, enum: ['pending', 'sent', 'failed', 'dead'], required: true, default: 'pending' },
    attempts: { type: Number, required: true, default: 0 },
  },
  { timestamps: true },
);
notificationSchema.index({ key: 1 }, { unique: true });
notificationSchema.index({ status: 1, dueAt: 1 });
notificationSchema.index({ person: 1, createdAt: -1 });

export type NotificationDoc = HydratedDocumentFromSchema<typeof notificationSchema>;
export const Notification = model('Notification', notificationSchema);
