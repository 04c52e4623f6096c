import type { Redis } from 'ioredis';
import { Types, trusted } from 'mongoose';
import { Identity } from '../../models/identity.js';
import { Notification } from '../../models/notification.js';
import { NotificationResult, NotificationRetry, type NotificationOutcome } from '../../models/notificationDelivery.js';
import type { PersonFields } from '../../models/person.js';
import { SubscriptionGrant } from '../../models/subscriptionGrant.js';
import type { AuthUser } from '../auth/user.js';
import { MiniProgramNotSignedInError, NotFoundError, NotificationNotRetryableError, NotificationRetryPendingError } from '../errors.js';
import { addGrants, grantsLeft } from '../outbox/grants.js';
import { indexEntries, toOutboxMessage } from '../outbox/index.js';
import { authorize, can } from '../policies/index.js';
import type { NotificationWithPerson } from '../policies/notification.js';
import { isDuplicateKey } from '../storage/mongo.js';
import { presentUndelivered, type UndeliveredNotification } from '../presenters/notification.js';

/** Final outcomes staff can act on: dead after the last attempt, or nobody to send it through. */
const UNDELIVERED: NotificationOutcome[] = ['dead', 'no_channel'];

/**
 * Notifications whose last attempt ended dead or with no channel, and that nobody retried
 * since, newest first, limited to those the user may see (staff: their community).
 */
export async function listUndelivered(user: AuthUser, limit: number): Promise<UndeliveredNotification[]> {
  authorize(user, 'listUndelivered', Notification);
  const candidates = await NotificationResult.find({ outcome: trusted({ $in: UNDELIVERED }) }).sort({ at: -1 }).limit(limit * 4).lean();
  if (candidates.length === 0) return [];
  const ids = [...new Set(candidates.map((c) => String(c.notification)))].map((id) => new Types.ObjectId(id));
  const [results, retries, notes] = await Promise.all([
    NotificationResult.find({ notification: trusted({ $in: ids }) }, { notification: 1, attempt: 1 }).lean(),
    NotificationRetry.find({ notification: trusted({ $in: ids }) }, { notification: 1, afterAttempt: 1 }).lean(),
    Notification.find({ _id: trusted({ $in: ids }) }).populate<{ person: PersonFields }>('person'),
  ]);
  const lastAttempt = new Map<string, number>();
  for (const r of results) lastAttempt.set(String(r.notification), Math.max(lastAttempt.get(String(r.notification)) ?? 0, r.attempt));
  const retried = new Set(retries.map((r) => `${r.notification}:${r.afterAttempt}`));
  const byId = new Map(notes.map((n) => [String(n._id), n]));
  const out: UndeliveredNotification[] = [];
  const seen = new Set<string>();
  for (const c of candidates) {
    const id = String(c.notification);
    const note = byId.get(id);
    if (seen.has(id) || !note || lastAttempt.get(id) !== c.attempt || retried.has(`${id}:${c.attempt}`)) continue;
    seen.add(id);
    if (!can(user, 'read', note as unknown as NotificationWithPerson)) continue;
    out.push(presentUndelivered(note as unknown as NotificationWithPerson, c));
    if (out.length >= limit) break;
  }
  return out;
}

/**
 * Staff send an undelivered notification again: one more attempt, due now. One retry per
 * failed attempt (a unique insert), so two clicks schedule it once.
 */
export async function retryNotification(redis: Redis, user: AuthUser, id: string, now = new Date()) {
  const note = await Notification.findById(id).populate<{ person: PersonFields }>('person');
  if (!note) throw NotFoundError('没有找到这条通知');
  authorize(user, 'retry', note as unknown as NotificationWithPerson);
  const results = await NotificationResult.find({ notification: note._id }).lean();
  const last = results.sort((a, b) => b.attempt - a.attempt)[0];
  if (!last || !last.final || !UNDELIVERED.includes(last.outcome)) throw NotificationNotRetryableError();
  try {
    await NotificationRetry.create({ notification: note._id, afterAttempt: last.attempt, by: new Types.ObjectId(user.id), at: now });
  } catch (err) {
    if (isDuplicateKey(err)) throw NotificationRetryPendingError();
    throw err;
  }
  const attempt = last.attempt + 1;
  const plain = note.toObject({ depopulate: true });
  await indexEntries(redis, [{ message: toOutboxMessage(plain), dueAt: now.getTime(), attempt }]);
  return { id: String(note._id), attempt, dueAt: now };
}

/**
 * Records subscriptions the person just accepted in the mini-program (wx.requestSubscribeMessage
 * answered "accept" for these templates): one grant each, for one message each.
 */
export async function recordSubscriptionGrants(redis: Redis, person: PersonFields, templateIds: string[], now = new Date()) {
  const identity = await Identity.findOne({ provider: 'wechat_miniprogram', person: person._id });
  if (!identity) throw MiniProgramNotSignedInError();
  const grants = await SubscriptionGrant.insertMany(
    templateIds.map((templateId) => ({ person: person._id, templateId, openid: identity.subject, grantedAt: now })),
  );
  await addGrants(redis, grants);
  const unique = [...new Set(templateIds)];
  const remaining = await Promise.all(unique.map((t) => grantsLeft(redis, String(person._id), t)));
  return { granted: grants.length, remaining: unique.map((templateId, i) => ({ templateId, remaining: remaining[i]! })) };
}
