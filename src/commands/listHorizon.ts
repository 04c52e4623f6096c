import type { Types } from 'mongoose';
import { ListHorizon } from '../../models/listHorizon.js';
import { isDuplicateKey } from '../storage/mongo.js';

export type HorizonList = 'room-bookings' | 'volunteer-assignments' | 'childcare-bookings' | 'childcare-child';

export interface Horizon {
  /** The furthest month a record may be in. */
  newest: string;
  /** The earliest. */
  oldest: string;
  /** About how many records (see ListHorizon.count). */
  count: number;
}

const idOf = (list: HorizonList, owner: Types.ObjectId | string) => `${list}:${String(owner)}`;

async function upsert(id: string, update: Record<string, unknown>): Promise<void> {
  try {
    await ListHorizon.updateOne({ _id: id }, update, { upsert: true });
  } catch (err) {
    // Two first writes raced to insert it: it exists now, so widen it.
    if (!isDuplicateKey(err)) throw err;
    await ListHorizon.updateOne({ _id: id }, update);
  }
}

/** Before a record of `owner`'s list is written in (`added`) or moved to `month`: the list's walk covers it. */
export async function widenListHorizon(list: HorizonList, owner: Types.ObjectId | string, month: string, added = true): Promise<void> {
  await upsert(idOf(list, owner), { $max: { month }, $min: { oldest: month }, $inc: { count: added ? 1 : 0 } });
}

/** The months the list spans, when known from a full read once (null: read it all, then completeListHorizon). */
export async function listHorizon(list: HorizonList, owner: Types.ObjectId | string): Promise<Horizon | null> {
  const h = await ListHorizon.findById(idOf(list, owner)).lean();
  return h?.complete ? { newest: h.month, oldest: h.oldest, count: h.count ?? 0 } : null;
}

/**
 * Records the months of every record of the list, read in full by the caller *before* this call:
 * a write racing the read widened the horizon itself (upsert), and `$max` / `$min` keep both.
 */
export async function completeListHorizon(list: HorizonList, owner: Types.ObjectId | string, months: string[]): Promise<void> {
  if (!months.length) return;
  const newest = months.reduce((a, b) => (b > a ? b : a));
  const oldest = months.reduce((a, b) => (b < a ? b : a));
  await upsert(idOf(list, owner), { $max: { month: newest, count: months.length }, $min: { oldest }, $set: { complete: true } });
}
