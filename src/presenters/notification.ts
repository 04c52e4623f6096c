import type { NotificationResultDoc } from '../../models/notificationDelivery.js';
import type { NotificationWithPerson } from '../policies/notification.js';

/**
 * An undelivered notification as staff see it: kind, key, the person's id and name, what went
 * wrong (an error code) and how many attempts were made. Never the message text.
 */
export function presentUndelivered(note: NotificationWithPerson, last: Pick<NotificationResultDoc, 'outcome' | 'error' | 'attempt' | 'at'>) {
  return {
    id: String(note._id),
    key: note.key,
    kind: note.kind,
    person: { id: String(note.person?._id ?? ''), name: note.person?.name ?? null },
    dueAt: note.dueAt,
    outcome: last.outcome,
    error: last.error ?? null,
    attempts: last.attempt,
    at: last.at,
  };
}

export type UndeliveredNotification = ReturnType<typeof presentUndelivered>;

/**
 * A message as its person (or their 代办) reads it in 我的 → 消息: what kind, the text they were
 * told, when, and whether it was read. Never the outbox key or the delivery details.
 */
export function presentMyNotification(item: { note: { _id: unknown; kind: string; text: string; dueAt: Date }; readAt: Date | null }) {
  return {
    id: String(item.note._id),
    kind: item.note.kind,
    text: item.note.text,
    at: item.note.dueAt,
    read: item.readAt !== null,
    readAt: item.readAt,
  };
}
