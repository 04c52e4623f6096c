import { shanghaiDay } from './calendar.js';
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
     * What the message is about: the key's first two parts (`room-booking:<id>` of
     * `room-booking:<id>:approved`), set by notify() (subjectOf). A booking's messages and its
     * reminders to withdraw are read by this equality, not by a regex over the person's history.
     */
    subject: { type: String },
    /**
     * The Shanghai month the message is due in (`2026-12`), set by notify() (monthOf): a person's
     * messages are read a month at a time, newest first (`{person, month}` equality), so a page
     * costs the months it shows, not the person's whole history.
     */
    month: { type: String },
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
// notify() sets both; a notification made through the model otherwise gets them here.
notificationSchema.pre('validate', function () {
  if (!this.month && this.dueAt) this.month = monthOf(this.dueAt);
  if (!this.subject && this.key) this.subject = subjectOf(this.key);
});
notificationSchema.index({ key: 1 }, { unique: true });
notificationSchema.index({ dueAt: 1 });
notificationSchema.index({ person: 1, createdAt: -1 });
notificationSchema.index({ person: 1, dueAt: -1 });
notificationSchema.index({ person: 1, month: 1 }); // a person's messages a month at a time (/me/notifications)
notificationSchema.index({ subject: 1 }); // a booking's messages (GET /room-bookings/{id}/messages), reminders to withdraw

/** The Shanghai month (`YYYY-MM`) a notification due at `dueAt` is kept under. */
export function monthOf(dueAt: Date): string {
  return shanghaiDay(dueAt).slice(0, 7);
}

/**
 * The months a person's messages can be in, newest first: `now`'s month back to the month of
 * `now − retentionDays` (older ones are deleted by outbox.pruneNotifications).
 */
export function retainedMonths(now: Date, retentionDays: number): string[] {
  const oldest = monthOf(new Date(now.getTime() - retentionDays * 86_400_000));
  const out: string[] = [];
  let [y, m] = monthOf(now).split('-').map(Number) as [number, number];
  for (;;) {
    const month = `${y}-${String(m).padStart(2, '0')}`;
    if (month < oldest) break;
    out.push(month);
    m -= 1;
    if (m === 0) { m = 12; y -= 1; }
  }
  return out;
}

/** The subject of a notification key: its first two `:` parts (`room-booking:<id>`), or undefined. */
export function subjectOf(key: string): string | undefined {
  const parts = key.split(':');
  return parts.length >= 2 && parts[0] && parts[1] ? `${parts[0]}:${parts[1]}` : undefined;
}

export type NotificationFields = InferRawDocTypeFromSchema<typeof notificationSchema>;
export type NotificationDoc = HydratedDocumentFromSchema<typeof notificationSchema>;
export const Notification = model('Notification', notificationSchema);
