import { Types } from 'mongoose';
import { monthOf, Notification, subjectOf } from '../../models/notification.js';
import { indexNotifications, outboxRedis, type NotificationLike, type SubscribePayload } from '../outbox/index.js';
import { isDuplicateKey } from '../storage/mongo.js';
import { forgetInboxTallies, isOver } from './inboxTallies.js';

export interface NotifyOptions {
  /** Past this time the message is pointless (the session started…): skipped, not sent. */
  staleAfter?: Date;
  /**
   * The mini-program subscribe message to send instead when the person has no bot contact
   * but holds a grant for the template. Values are cut to WeChat's limits when sent.
   */
  subscribe?: SubscribePayload;
}

/** One message for notifyMany: the same fields as notify's arguments. */
export interface NotificationRequest extends NotifyOptions {
  person: Types.ObjectId;
  key: string;
  kind: string;
  text: string;
  dueAt?: Date;
}

function document(r: NotificationRequest, now: Date): NotificationLike & { month: string; subject?: string; createdAt: Date; updatedAt: Date } {
  const dueAt = r.dueAt ?? now;
  const subject = subjectOf(r.key);
  return {
    _id: new Types.ObjectId(),
    key: r.key,
    person: r.person,
    kind: r.kind,
    text: r.text,
    dueAt,
    // The read keys: a person's messages by month, a booking's by subject (models/notification.ts).
    month: monthOf(dueAt),
    ...(subject ? { subject } : {}),
    ...(r.staleAfter ? { staleAfter: r.staleAfter } : {}),
    ...(r.subscribe ? { subscribe: r.subscribe } : {}),
    createdAt: now,
    updatedAt: now,
  };
}

/**
 * Puts a message to a person in the outbox under a unique key, so the same event never
 * produces two messages however often it is reported, then adds it to the Redis due-index.
 * The dispatchers send it at `dueAt` (or as soon as they can after it). If Redis is away the
 * message is still stored, and the reconcile job indexes it later.
 */
export async function notify(
  person: Types.ObjectId,
  key: string,
  kind: string,
  text: string,
  dueAt = new Date(),
  options: NotifyOptions = {},
): Promise<void> {
  await notifyMany([{ person, key, kind, text, dueAt, ...options }]);
}

/**
 * A message due in a month already over (rare: most are due now or later) changes that month's
 * unread tally, which GET /me/notifications may hold in Redis (inboxTallies.ts).
 */
async function forgetTalliesOfPastMonths(inserted: Array<{ person: Types.ObjectId; month: string }>, now: Date): Promise<void> {
  const byPerson = new Map<string, { person: Types.ObjectId; months: string[] }>();
  for (const d of inserted.filter((d) => isOver(d.month, now))) {
    const entry = byPerson.get(String(d.person)) ?? { person: d.person, months: [] };
    entry.months.push(d.month);
    byPerson.set(String(d.person), entry);
  }
  await Promise.all([...byPerson.values()].map((p) => forgetInboxTallies(outboxRedis(), p.person, p.months, now)));
}

/**
 * Many notify() calls in one insert (ordered: false; keys already stored are skipped).
 * Returns how many were new.
 */
export async function notifyMany(requests: NotificationRequest[], now = new Date()): Promise<number> {
  if (requests.length === 0) return 0;
  const docs = requests.map((r) => document(r, now));
  // Validated through the model, written through the driver (one round trip).
  await Promise.all(docs.map((d) => new Notification(d).validate()));
  let inserted = docs;
  try {
    await Notification.collection.insertMany(docs, { ordered: false });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    const failed = new Set(((err as { writeErrors?: Array<{ index: number; code?: number }> }).writeErrors ?? [{ index: 0, code: 11000 }])
      .map((w) => {
        if (w.code !== 11000) throw err;
        return w.index;
      }));
    inserted = docs.filter((_, i) => !failed.has(i));
  }
  const redis = outboxRedis();
  if (redis && inserted.length > 0) await indexNotifications(redis, inserted).catch(() => undefined);
  await forgetTalliesOfPastMonths(inserted, now);
  return inserted.length;
}
