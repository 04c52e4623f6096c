import type { Types } from 'mongoose';
import { Notification } from '../../models/notification.js';
import { isDuplicateKey } from '../storage/mongo.js';

/**
 * Puts a message to a person in the outbox under a unique key, so the same event never
 * produces two messages however often it is reported. The jobs deliver it.
 */
export async function notify(person: Types.ObjectId, key: string, kind: string, text: string, dueAt = new Date()): Promise<void> {
  await Notification.create({ person, key, kind, text, dueAt }).catch((err) => {
    if (!isDuplicateKey(err)) throw err;
  });
}
