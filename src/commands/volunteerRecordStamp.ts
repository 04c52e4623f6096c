import { randomUUID } from 'node:crypto';
import type { Types } from 'mongoose';
import { VolunteerRecordStamp } from '../../models/volunteerRecordCache.js';
import { isDuplicateKey } from '../storage/mongo.js';

/**
 * Makes the volunteer's stored record stale: called after a write that changes its rows (an
 * assignment's status or hours, a task's title, type or place).
 */
export async function markVolunteerRecordChanged(...volunteers: Types.ObjectId[]): Promise<void> {
  await Promise.all([...new Set(volunteers.map(String))].map(async (id) => {
    const stamp = () => ({ $set: { token: randomUUID(), at: new Date() } });
    try {
      await VolunteerRecordStamp.updateOne({ _id: id }, stamp(), { upsert: true });
    } catch (err) {
      // Two first marks raced to insert it: it exists now, so replace its token.
      if (!isDuplicateKey(err)) throw err;
      await VolunteerRecordStamp.updateOne({ _id: id }, stamp());
    }
  }));
}
