import { Schema, model, type HydratedDocumentFromSchema, type InferRawDocTypeFromSchema } from 'mongoose';

/**
 * "Read" marks of notifications (GET /api/v1/me/notifications). A notification is written once
 * and never updated (models/notification.ts), so whether its person has read it lives here:
 * one mark per notification (unique), with who marked it (the person or their 代办).
 */
const notificationReadSchema = new Schema(
  {
    notification: { type: Schema.Types.ObjectId, ref: 'Notification', required: true },
    person: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    by: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    readAt: { type: Date, required: true },
    /** The notification's month and due time (copied): marks are read a month at a time, and pruned with their notification. */
    month: { type: String },
    dueAt: { type: Date },
  },
  { timestamps: false },
);
notificationReadSchema.index({ notification: 1 }, { unique: true });
notificationReadSchema.index({ person: 1 });
notificationReadSchema.index({ person: 1, month: 1 });
notificationReadSchema.index({ dueAt: 1 });

export type NotificationReadFields = InferRawDocTypeFromSchema<typeof notificationReadSchema>;
export type NotificationReadDoc = HydratedDocumentFromSchema<typeof notificationReadSchema>;
export const NotificationRead = model('NotificationRead', notificationReadSchema);
