import { trusted, type Types } from 'mongoose';
import { atShanghai, shanghaiDay } from '../../models/calendar.js';
import { Notification, subjectOf } from '../../models/notification.js';
import { NotificationResult } from '../../models/notificationDelivery.js';
import { notifyMany, type NotificationRequest } from '../commands/notify.js';
import type { SubscribePayload } from './index.js';
import { forget, outboxRedis } from './index.js';
import { isDuplicateKey } from '../storage/mongo.js';

/**
 * Reminders before something a person booked (a room, a meal, a childcare session, a
 * volunteer task), built the same way for every service: a job finds what starts soon and
 * calls enqueueReminders; unique keys make repeated runs harmless, `staleAfter = start`
 * keeps a reminder that comes too late from being sent at all.
 */

/** When a reminder goes: the evening before at a fixed time, or some minutes before the start. */
export type ReminderTiming = { suffix: string; eveningBefore: string } | { suffix: string; minutesBefore: number };

/** The evening before at `eveningTime` and one hour before: rooms, meals, childcare. */
export const EVENING_AND_HOUR_BEFORE = (eveningTime: string): ReminderTiming[] => [
  { suffix: 'reminder-eve', eveningBefore: eveningTime },
  { suffix: 'reminder-1h', minutesBefore: 60 },
];

/** 24 hours and 1 hour before: volunteer tasks. */
export const DAY_AND_HOUR_BEFORE: ReminderTiming[] = [
  { suffix: 'reminder-24h', minutesBefore: 24 * 60 },
  { suffix: 'reminder-1h', minutesBefore: 60 },
];

/**
 * When each reminder is due. A reminder whose time came before the booking was made is left
 * out (someone booking at 21:00 for tomorrow needs no "tomorrow" reminder), as is one not
 * before the start.
 */
export function reminderTimes(start: Date, bookedAt: Date, timings: ReminderTiming[]): Array<{ suffix: string; dueAt: Date }> {
  const out: Array<{ suffix: string; dueAt: Date }> = [];
  for (const t of timings) {
    const dueAt = 'eveningBefore' in t
      ? atShanghai(shanghaiDay(new Date(start.getTime() - 86_400_000)), t.eveningBefore)
      : new Date(start.getTime() - t.minutesBefore * 60_000);
    if (dueAt > bookedAt && dueAt < start) out.push({ suffix: t.suffix, dueAt });
  }
  return out;
}

/** Something to remind a person of. `keyBase` is unique to it, e.g. `room-booking:<id>`. */
export interface Remindable {
  person: Types.ObjectId;
  keyBase: string;
  kind: string;
  start: Date;
  bookedAt: Date;
  /** The message for each reminder (by suffix). */
  text(suffix: string): string;
  subscribe?(suffix: string): SubscribePayload | undefined;
}

/**
 * Puts the reminders of these items in the outbox (one insert for all; keys already there
 * are skipped). Key: `<keyBase>:<suffix>@<start ms>`, so a booking moved to another time gets
 * new reminders (withdraw the old ones with withdrawNotifications).
 */
export async function enqueueReminders(items: Remindable[], timings: ReminderTiming[], now: Date): Promise<{ reminders: number; enqueued: number }> {
  const requests: NotificationRequest[] = [];
  for (const item of items) {
    for (const { suffix, dueAt } of reminderTimes(item.start, item.bookedAt, timings)) {
      const subscribe = item.subscribe?.(suffix);
      requests.push({
        person: item.person,
        key: reminderKey(item.keyBase, suffix, item.start),
        kind: item.kind,
        text: item.text(suffix),
        dueAt,
        staleAfter: item.start,
        ...(subscribe ? { subscribe } : {}),
      });
    }
  }
  const enqueued = await notifyMany(requests, now);
  return { reminders: requests.length, enqueued };
}

export const reminderKey = (keyBase: string, suffix: string, start: Date) => `${keyBase}:${suffix}@${start.getTime()}`;

/**
 * Withdraws the person's notifications whose key starts with `keyPrefix` that are not sent yet
 * (a cancelled booking's reminders): a final `withdrawn` result (attempt 0, an insert) and
 * removal from the due-index. Returns how many were withdrawn.
 */
export async function withdrawNotifications(person: Types.ObjectId, keyPrefix: string, now = new Date()): Promise<number> {
  // By the subject (`room-booking:<id>`, an indexed equality): the booking's few messages, not
  // every recent message of the person filtered in Go.
  const subject = subjectOf(keyPrefix);
  const since = new Date(now.getTime() - 86_400_000);
  const notes = subject
    ? await Notification.find({ subject, person }, { key: 1, dueAt: 1 }).lean()
    : await Notification.find({ person, dueAt: trusted({ $gt: since }) }, { key: 1, dueAt: 1 }).lean();
  const ids = notes.filter((n) => n.dueAt > since && n.key.startsWith(keyPrefix)).map((n) => n._id);
  if (ids.length === 0) return 0;
  await NotificationResult.collection
    .insertMany(ids.map((id) => ({ notification: id, attempt: 0, outcome: 'withdrawn', final: true, at: now })), { ordered: false })
    .catch((err) => {
      if (!isDuplicateKey(err)) throw err; // a duplicate: withdrawn before
    });
  const redis = outboxRedis();
  if (redis) {
    const pipeline = redis.pipeline();
    for (const id of ids) forget(pipeline, String(id));
    await pipeline.exec().catch(() => undefined);
  }
  return ids.length;
}
