import { trusted } from 'mongoose';
import { Room } from '../../models/room.js';
import { RoomBooking } from '../../models/roomBooking.js';
import { dayLabel, hhmm, rangeLabel } from '../booking/time.js';
import { EVENING_AND_HOUR_BEFORE, enqueueReminders, withdrawNotifications } from '../outbox/reminders.js';
import { shanghaiDay } from '../../models/calendar.js';
import type { Types } from 'mongoose';

export interface RoomReminderRules {
  /** 'HH:mm' of the evening-before reminder. */
  eveningTime: string;
  /** Subscribe template of reminders, when the mini-program has one. */
  templateId?: string;
}

/** Bookings starting within this much of now get their reminders enqueued. */
const HORIZON_MS = 36 * 3_600_000;

/**
 * Enqueues the reminders of confirmed room bookings that start within the next 36 hours: the
 * evening before (REMINDER_EVENING_TIME) and one hour before, each stale once the booking
 * starts. Run every few minutes; repeated runs add nothing (unique keys).
 */
export async function enqueueRoomReminders(rules: RoomReminderRules, now: Date): Promise<{ bookings: number; reminders: number; enqueued: number }> {
  const bookings = await RoomBooking.find({
    status: 'confirmed',
    start: trusted({ $gt: now, $lte: new Date(now.getTime() + HORIZON_MS) }),
  }, { room: 1, bookedFor: 1, start: 1, end: 1, purpose: 1, createdAt: 1 }).lean();
  if (bookings.length === 0) return { bookings: 0, reminders: 0, enqueued: 0 };
  const rooms = await Room.find({ _id: trusted({ $in: [...new Set(bookings.map((b) => String(b.room)))] }) }, { name: 1 }).lean();
  const names = new Map(rooms.map((r) => [String(r._id), r.name]));
  const items = bookings.map((b) => {
    const room = names.get(String(b.room)) ?? '活动室';
    return {
      person: b.bookedFor,
      keyBase: `room-booking:${b._id}`,
      kind: 'room_booking_reminder',
      start: b.start,
      bookedAt: b.createdAt ?? now,
      text: (suffix: string) => suffix === 'reminder-eve'
        ? `提醒：您明天（${rangeLabel(b.start, b.end)}）预约了${room}，用途：${b.purpose}。请准时到场并签到；如不能来，请提前取消。`
        : `提醒：您预约的${room}将在 ${hhmm(b.start)} 开始（${dayLabel(b.start)}），请准时到场并签到。`,
      subscribe: rules.templateId
        ? () => ({
          templateId: rules.templateId!,
          page: `pages/bookings/detail?id=${b._id}`,
          data: { thing1: room, time2: `${shanghaiDay(b.start)} ${hhmm(b.start)}`, thing3: b.purpose },
        })
        : undefined,
    };
  });
  const { reminders, enqueued } = await enqueueReminders(items, EVENING_AND_HOUR_BEFORE(rules.eveningTime), now);
  return { bookings: bookings.length, reminders, enqueued };
}

/** A booking that no longer takes place (cancelled, rejected, released, moved) is not reminded of. */
export function withdrawRoomReminders(booking: { _id: Types.ObjectId; bookedFor: Types.ObjectId }, now = new Date()): Promise<number> {
  return withdrawNotifications(booking.bookedFor, `room-booking:${booking._id}:reminder-`, now);
}
