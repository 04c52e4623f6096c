import { trusted, type Types } from 'mongoose';
import { Child } from '../../models/child.js';
import { ChildcareBooking } from '../../models/childcareBooking.js';
import { dayLabel, hhmm, rangeLabel } from '../booking/time.js';
import { EVENING_AND_HOUR_BEFORE, enqueueReminders, withdrawNotifications } from '../outbox/reminders.js';

/** Sessions starting within this much of now get their reminders enqueued. */
const HORIZON_MS = 36 * 3_600_000;

/**
 * Enqueues the reminders of confirmed childcare bookings starting within 36 hours: the evening
 * before and one hour before, to the parent who booked, each stale once the session starts.
 * Run every few minutes; repeated runs add nothing (unique keys).
 */
export async function enqueueChildcareReminders(rules: { eveningTime: string }, now: Date): Promise<{ bookings: number; enqueued: number }> {
  const bookings = await ChildcareBooking.find({
    status: 'confirmed',
    start: trusted({ $gt: now, $lte: new Date(now.getTime() + HORIZON_MS) }),
  }, { child: 1, bookedFor: 1, start: 1, end: 1, classType: 1, createdAt: 1 }).lean();
  if (!bookings.length) return { bookings: 0, enqueued: 0 };
  const children = await Child.find({ _id: trusted({ $in: [...new Set(bookings.map((b) => String(b.child)))] }) }, { name: 1 }).lean();
  const names = new Map(children.map((c) => [String(c._id), c.name]));
  const { enqueued } = await enqueueReminders(bookings.map((b) => {
    const child = names.get(String(b.child)) ?? '孩子';
    return {
      person: b.bookedFor,
      keyBase: `childcare-booking:${b._id}`,
      kind: 'childcare_booking_reminder',
      start: b.start,
      bookedAt: b.createdAt ?? now,
      text: (suffix: string) => suffix === 'reminder-eve'
        ? `提醒：${child}明天（${rangeLabel(b.start, b.end)}）${b.classType}托育。入托时老师会做晨检，请带好替换衣物；如不能来，请尽早取消。`
        : `提醒：${child}的托育将在 ${hhmm(b.start)} 开始（${dayLabel(b.start)}），请按时送到。`,
    };
  }), EVENING_AND_HOUR_BEFORE(rules.eveningTime), now);
  return { bookings: bookings.length, enqueued };
}

/** A booking that no longer takes place is not reminded of. */
export function withdrawChildcareReminders(booking: { _id: Types.ObjectId; bookedFor: Types.ObjectId }, now = new Date()): Promise<number> {
  return withdrawNotifications(booking.bookedFor, `childcare-booking:${booking._id}:reminder-`, now);
}
