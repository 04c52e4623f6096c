import { trusted, Types } from 'mongoose';
import { CapacityClaim } from '../../models/capacityClaim.js';
import { AppError, BookingInterruptedError } from '../errors.js';
import { storageUnreachable } from '../middlewares/errorHandler.js';
import { claimTransition, type Transitions } from './stateMachine.js';
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
  const everyPlace = placeOrder(capacity);
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

/**
 * A command on the claims collection, through the driver's `command`: claimPlaceAndAll's insert
 * and delete go as one plain command each, not through insertMany / bulkWrite, whose bulk
 * machinery, and the error objects it builds for every refused claim, were a quarter of the
 * bot's CPU in a burst of 确认 (issue 20). A reply with write errors is answered, not thrown;
 * a write concern error throws. (bufferCommands is off: like the collection's own methods,
 * this fails at once without a connection.)
 */
async function claimsCommand<T extends object>(command: Record<string, unknown>): Promise<T & { writeErrors?: Array<{ index: number; code?: number; errmsg?: string }> }> {
  const reply = (await CapacityClaim.db.db!.command(command)) as T & { writeErrors?: Array<{ index: number; code?: number; errmsg?: string }>; writeConcernError?: { code?: number; errmsg?: string } };
  if (reply.writeConcernError) {
    throw Object.assign(new Error(reply.writeConcernError.errmsg ?? 'write concern error'), { code: reply.writeConcernError.code });
  }
  return reply;
}

/**
 * Inserts claims in one unordered `insert` command: every one is tried, and the unique
 * `(key, slot)` index decides each. Answers the positions of those refused as taken
 * (duplicate key); any other refusal throws (an error carrying every write error, as the
 * driver's would).
 */
async function insertUnordered(docs: Array<Record<string, unknown>>): Promise<number[]> {
  const documents = docs.map((d) => ({ _id: new Types.ObjectId(), ...d }));
  const { writeErrors } = await claimsCommand({ insert: CapacityClaim.collection.collectionName, documents, ordered: false });
  if (!writeErrors?.length) return [];
  const other = writeErrors.find((w) => w.code !== 11000);
  if (other) throw Object.assign(new Error(other.errmsg ?? 'claim insert refused'), { code: other.code, writeErrors });
  return writeErrors.map((w) => w.index);
}

/**
 * claimPlaces(placeKey, capacity, 1) and claimAll(key, slots) for one holder, in one insert
 * where it can (issue 20: a room booking's quota place and its units were two round trips, and
 * a refused booking six). The same unique index decides each claim, so the guarantee is the
 * same; the answer too, in the same order: a full `placeKey` first (`placesFull`), then the
 * taken slots of `key` (read from the insert's own duplicate-key errors, not read again).
 * Nothing is kept unless both are. Lasting claims only (no `expiresAt`).
 */
export async function claimPlaceAndAll(
  placeKey: string,
  capacity: number,
  key: string,
  slots: number[],
  holder: Types.ObjectId,
): Promise<{ ok: true; place: number } | { ok: false; placesFull: true } | { ok: false; taken: number[] }> {
  const order = placeOrder(capacity);
  const place = (storeKind() === 'indexed' ? await freePlaces(placeKey, order) : order)[0];
  if (place === undefined) return claimOneByOne(placeKey, capacity, key, slots, holder);
  for (let attempt = 0; ; attempt += 1) {
    const createdAt = new Date();
    const failed = await insertUnordered(
      [{ key: placeKey, slot: place, holder, createdAt }, ...slots.map((slot) => ({ key, slot, holder, createdAt }))],
    );
    if (!failed.length) return { ok: true, place };
    const taken = failed.filter((i) => i > 0).map((i) => slots[i - 1]!).sort((a, b) => a - b);
    if (!taken.length) {
      // Only the place was taken (a racer had it): the slots are ours; another place, as claimPlaces finds one.
      const places = await claimPlaces(placeKey, capacity, 1, holder);
      if (places) return { ok: true, place: places[0]! };
      await CapacityClaim.deleteMany({ key, holder, slot: trusted({ $in: slots }) });
      return { ok: false, placesFull: true };
    }
    // A slot is taken: what this insert got goes back, and lapsed holds on the taken slots are
    // cleared (once), in one round trip (one delete command of two statements). It answers one
    // count for both: what it removed beyond the claims this insert made (the holder is this
    // call's, so those are exactly the inserted ones) is lapsed holds.
    const inserted = slots.length + 1 - failed.length;
    const deletes: Array<{ q: Record<string, unknown>; limit: 0 }> = [
      { q: { holder, $or: [{ key: placeKey, slot: place }, { key, slot: { $in: slots } }] }, limit: 0 },
    ];
    if (attempt === 0) deletes.push({ q: { key, slot: { $in: taken }, expiresAt: { $lt: new Date() } }, limit: 0 });
    const deletedCount = await claimsCommand<{ n?: number }>({ delete: CapacityClaim.collection.collectionName, deletes, ordered: false })
      .then((reply) => reply.n ?? 0);
    if (attempt === 0 && deletedCount > inserted) continue;
    if (failed.includes(0)) {
      // The place was taken too: a full quota is the answer that comes first, so look (rare).
      const places = await claimPlaces(placeKey, capacity, 1, holder);
      if (!places) return { ok: false, placesFull: true };
      await CapacityClaim.deleteMany({ key: placeKey, holder, slot: places[0]! });
    }
    return { ok: false, taken };
  }
}

/** claimPlaceAndAll in two steps (no place to try in one insert). */
async function claimOneByOne(placeKey: string, capacity: number, key: string, slots: number[], holder: Types.ObjectId) {
  const places = await claimPlaces(placeKey, capacity, 1, holder);
  if (!places) return { ok: false as const, placesFull: true as const };
  const claimed = await claimAll(key, slots, holder);
  if (claimed.ok) return { ok: true as const, place: places[0]! };
  await CapacityClaim.deleteMany({ key: placeKey, holder, slot: places[0]! });
  return claimed;
}

/** Every place of `capacity`, from a random one round: racing requests mostly try different places. */
function placeOrder(capacity: number): number[] {
  const first = Math.floor(Math.random() * capacity);
  return Array.from({ length: capacity }, (_, i) => (first + i) % capacity);
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

/** One claim step a ClaimSet may have to take back: slots of `key` held by `holder` (all, without `slots`). */
interface Taken {
  key: string;
  holder: Types.ObjectId;
  slots?: number[];
}

/**
 * The claims one command makes, so that a failure anywhere after the first can give them all
 * back (withClaims). Every claim step goes through it; a step that fails on its own (slot
 * taken) has already removed what it inserted, and one that throws is recorded anyway (the
 * insert may have landed before the error), so the release covers it.
 *
 * `commit()` marks the point after which the claims belong to a written record (the booking
 * exists): from then on a failure must not take them from it.
 */
export class ClaimSet {
  private readonly taken: Taken[] = [];
  private done = false;

  get committed(): boolean {
    return this.done;
  }

  /** claimAll, recorded. */
  async claimAll(key: string, slots: number[], holder: Types.ObjectId, expiresAt?: Date) {
    let result: Awaited<ReturnType<typeof claimAll>>;
    try {
      result = await claimAll(key, slots, holder, expiresAt);
    } catch (err) {
      this.taken.push({ key, holder, slots });
      throw err;
    }
    if (result.ok) this.taken.push({ key, holder, slots });
    return result;
  }

  /** claimPlaceAndAll, recorded (both keys, by holder). */
  async claimPlaceAndAll(placeKey: string, capacity: number, key: string, slots: number[], holder: Types.ObjectId) {
    let result: Awaited<ReturnType<typeof claimPlaceAndAll>>;
    try {
      result = await claimPlaceAndAll(placeKey, capacity, key, slots, holder);
    } catch (err) {
      this.taken.push({ key: placeKey, holder }, { key, holder, slots });
      throw err;
    }
    if (result.ok) this.taken.push({ key: placeKey, holder, slots: [result.place] }, { key, holder, slots });
    return result;
  }

  /** claimPlaces, recorded (by key and holder: which places it got is its own choice). */
  async claimPlaces(key: string, capacity: number, count: number, holder: Types.ObjectId, expiresAt?: Date) {
    let places: number[] | null;
    try {
      places = await claimPlaces(key, capacity, count, holder, expiresAt);
    } catch (err) {
      this.taken.push({ key, holder });
      throw err;
    }
    if (places) this.taken.push({ key, holder, slots: places });
    return places;
  }

  /**
   * claimTransition, recorded once won: if the command fails before its update is written,
   * the state claim goes too, or the booking could never move again (its next version taken).
   */
  async transition<S extends string>(
    booking: { _id: Types.ObjectId; status: S; version: number },
    to: S,
    transitions: Transitions<S>,
    by: Types.ObjectId | string,
    reason?: string,
  ) {
    const update = await claimTransition(booking, to, transitions, by, reason);
    this.record(`state:${booking._id}`, booking._id, [booking.version + 1]);
    return update;
  }

  /**
   * Records a claim made some other way (a state-transition claim, a hold handed over), to be
   * taken back with the others. Record a state claim (`state:<id>`, slot version + 1) only once
   * it was won: its holder is the booking, shared with the request that won it otherwise.
   */
  record(key: string, holder: Types.ObjectId, slots?: number[]): void {
    this.taken.push({ key, holder, ...(slots ? { slots } : {}) });
  }

  /** The claims now belong to a written record: a later failure keeps them. */
  commit(): void {
    this.done = true;
  }

  /**
   * Takes back every recorded claim, newest first. Each step is tried even when one before it
   * failed (the database dropping mid-release): what is left is found by the claims.reconcile
   * job (its holder record never got written). Returns how many steps could not be undone.
   */
  async release(): Promise<number> {
    let failed = 0;
    for (const t of [...this.taken].reverse()) {
      try {
        await CapacityClaim.deleteMany(t.slots ? { key: t.key, holder: t.holder, slot: trusted({ $in: t.slots }) } : { key: t.key, holder: t.holder });
      } catch {
        failed += 1;
      }
    }
    this.taken.length = 0;
    return failed;
  }
}

/**
 * Runs a command's claim steps with compensation that cannot leak: if `body` throws before it
 * commits (any error, a TypeError included), every claim it made through its ClaimSet is
 * released and the error is rethrown. Our named errors (slot taken, rules), a duplicate key
 * and a database that cannot be reached pass unchanged; anything else becomes 503
 * booking_interrupted (nothing was kept, safe to retry) with the original as its cause, logged
 * by the error handler.
 */
export async function withClaims<T>(body: (claims: ClaimSet) => Promise<T>): Promise<T> {
  const claims = new ClaimSet();
  try {
    return await body(claims);
  } catch (err) {
    if (claims.committed) throw err;
    await claims.release();
    // A duplicate key on the record's own insert is a conflict the error handler answers (409).
    if (err instanceof AppError || storageUnreachable(err) || isDuplicate(err)) throw err;
    throw BookingInterruptedError(err);
  }
}

/**
 * A state change that cannot leak its claim: claims the transition (stateMachine.ts), then
 * `write`s the update; if the write fails, the state claim is taken back so the booking can
 * still move. Returns the update written.
 */
export function transitionOnce<S extends string>(
  booking: { _id: Types.ObjectId; status: S; version: number },
  to: S,
  transitions: Transitions<S>,
  by: Types.ObjectId | string,
  reason: string | undefined,
  write: (update: Awaited<ReturnType<typeof claimTransition<S>>>) => Promise<unknown>,
) {
  return withClaims(async (claims) => {
    const update = await claims.transition(booking, to, transitions, by, reason);
    await write(update);
    claims.commit();
    return update;
  });
}
