import { trusted } from 'mongoose';
import type { Types } from 'mongoose';
import { CapacityClaim } from '../../models/capacityClaim.js';
import { isDuplicateKey as isDuplicate } from '../storage/mongo.js';
import { storeKind } from '../storage/storeKind.js';

/** The claims that still hold their slot at `now`: lasting ones, and holds not yet lapsed. */
export const liveClaims = (now = new Date()) => ({
  $or: [{ expiresAt: trusted({ $exists: false }) }, { expiresAt: null }, { expiresAt: trusted({ $gte: now }) }],
});

/**
 * Inserts claims through the driver: a claim is four plain fields checked by its unique
 * index, and mongoose's document machinery was the largest part of a booking's CPU.
 */
async function insertClaims(key: string, slots: number[], holder: Types.ObjectId, expiresAt?: Date): Promise<void> {
  const createdAt = new Date();
  const docs = slots.map((slot) => (expiresAt ? { key, slot, holder, expiresAt, createdAt } : { key, slot, holder, createdAt }));
  if (docs.length === 1) await CapacityClaim.collection.insertOne(docs[0]!);
  else await CapacityClaim.collection.insertMany(docs, { ordered: false });
}

/** Removes lapsed holds on these slots, so they can be claimed again. */
async function dropLapsedHolds(key: string, slots: number[]): Promise<number> {
  const { deletedCount } = await CapacityClaim.deleteMany({ key, slot: trusted({ $in: slots }), expiresAt: trusted({ $lt: new Date() }) });
  return deletedCount;
}

/**
 * Claims every slot in `slots` for `holder`, or none: if any is taken, the ones this call
 * inserted are removed again and the taken slots are returned.
 */
export async function claimAll(
  key: string,
  slots: number[],
  holder: Types.ObjectId,
  expiresAt?: Date,
): Promise<{ ok: true } | { ok: false; taken: number[] }> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await insertClaims(key, slots, holder, expiresAt);
      return { ok: true };
    } catch (err) {
      if (!isDuplicate(err)) throw err;
      await CapacityClaim.deleteMany({ key, slot: trusted({ $in: slots }), holder });
      if (attempt === 0 && (await dropLapsedHolds(key, slots)) > 0) continue;
      const taken = await CapacityClaim.find({ key, slot: trusted({ $in: slots }), holder: trusted({ $ne: holder }) }).distinct('slot');
      return { ok: false, taken: (taken as number[]).sort((a, b) => a - b) };
    }
  }
}

/**
 * Claims `count` of the `capacity` places under `key` (any free ones) for `holder`. Returns
 * the places taken, or null when fewer than `count` are free; nothing is kept then.
 *
 * On FerretDB v1 (storeKind 'scan') no read first: reading which places are taken decodes every
 * claim of the collection, while an insert is answered by the unique index. On index-backed
 * stores the free places are read first and only those inserted. Each
 * request starts at a random place and goes round, so racing requests mostly try different
 * places; lapsed holds are cleared only when a whole round finds nothing.
 */
export async function claimPlaces(
  key: string,
  capacity: number,
  count: number,
  holder: Types.ObjectId,
  expiresAt?: Date,
): Promise<number[] | null> {
  const got: number[] = [];
  const first = Math.floor(Math.random() * capacity);
  const everyPlace = Array.from({ length: capacity }, (_, i) => (first + i) % capacity);
  // Index-backed stores: a refused insert costs ~20× an indexed read, so the first round tries
  // only the places read as free (a racer may still take one: the unique index decides).
  const freeFirst = storeKind() === 'indexed' ? await freePlaces(key, everyPlace) : everyPlace;
  for (let round = 0; round < 2 && got.length < count; round += 1) {
    for (const place of round === 0 ? freeFirst : everyPlace) {
      if (got.length >= count) break;
      if (got.includes(place)) continue;
      try {
        await insertClaims(key, [place], holder, expiresAt);
        got.push(place);
      } catch (err) {
        if (!isDuplicate(err)) throw err;
      }
    }
    if (got.length < count && (await dropLapsedHolds(key, [...Array(capacity).keys()])) === 0) break;
  }
  if (got.length === count) return got;
  await CapacityClaim.deleteMany({ key, holder });
  return null;
}

/** `places` without those claimed now (lapsed holds count as taken: round two clears them). */
async function freePlaces(key: string, places: number[]): Promise<number[]> {
  const taken = new Set((await CapacityClaim.find({ key }).distinct('slot')) as number[]);
  return places.filter((p) => !taken.has(p));
}

/**
 * Frees what `holder` claims (under `key`, or everywhere). Its state-transition claims
 * (`state:<id>`) stay: deleting them would let a request holding an old copy of the booking
 * make a transition from a state the booking has already left.
 */
export async function releaseClaims(holder: Types.ObjectId, key?: string): Promise<void> {
  await CapacityClaim.deleteMany(key ? { key, holder } : { holder, key: trusted({ $ne: `state:${holder}` }) });
}

/** Turns a hold into a lasting claim (the booking was confirmed in time). */
export async function keepClaims(holder: Types.ObjectId): Promise<void> {
  await CapacityClaim.updateMany({ holder }, { $unset: { expiresAt: 1 } });
}

/** Which of `slots` under `key` are claimed now, and by whom (lapsed holds count as free). */
export async function claimedSlots(key: string, slots: number[]): Promise<Map<number, Types.ObjectId>> {
  const claims = await CapacityClaim.find({
    key,
    slot: trusted({ $in: slots }),
    ...liveClaims(),
  }).lean();
  return new Map(claims.map((c) => [c.slot, c.holder]));
}
