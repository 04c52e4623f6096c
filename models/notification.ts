import { Schema, model, type HydratedDocumentFromSchema, type InferRawDocTypeFromSchema } from 'mongoose';

/**
 * The notifications outbox: every message to a person is stored first, under a unique key
 * (e.g. `room-booking:<id>:reminder-eve`), so the same event never makes two messages. The
 * record is written once and never updated: what happened to it is in NotificationAttempt
 * (who claimed which attempt) and NotificationResult (sent, failed, dead, skipped…), both
 * inserts. See src/outbox/ and the README ("Jobs, reminders and the outbox").
 */
const notificationSchema = new Schema(
  {
    key: { type: String, required: true },
    person: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    kind: { type: String, required: true },
    /** What the person reads, in Chinese (the bot message). */
    text: { type: String, required: true },
    /** Not sent before this time; sent as soon as possible after it. */
    dueAt: { type: Date, required: true },
    /** Past this time the message is pointless (e.g. the session started): skipped, not sent. */
    staleAfter: { type: Date },
    /**
     * The mini-program subscribe message to send when the person has no bot contact but holds
     * a grant for `templateId`. `data` maps template keys (`thing1`, `time2`…) to text; values
     * are cut to WeChat's limits when sent.
     */
    subscribe: {
      type: new Schema(
        {
          templateId: { type: String, required: true },
          page: { type: String },
          data: { type: Schema.Types.Mixed, required: true },
        },
        { _id: false },
      ),
    },
  },
  { timestamps: true },
);
notificationSchema.index({ key: 1 }, { unique: true });
notificationSchema.index({ dueAt: 1 });
notificationSchema.index({ person: 1, createdAt: -1 });
notificationSchema.index({ person: 1, dueAt: -1 }); // a person's messages, newest first (/me/notifications)

export type NotificationFields = InferRawDocTypeFromSchema<typeof notificationSchema>;
export type NotificationDoc = HydratedDocumentFromSchema<typeof notificationSchema>;
export const Notification = model('Notification', notificationSchema);
