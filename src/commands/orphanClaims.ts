/**
 * The backstop of compensation (withClaims in src/booking/claims.ts): a claim whose holder
 * record was never written — the process died between its claims and the write, or the
 * database dropped while the compensation ran — keeps its slot taken for good. This command
 * finds such claims, older than a grace period, and releases them. For the claims.reconcile job.
 *
 * Which record holds a claim depends on its key; keys this command does not know (post marks
 * of announcements, urgent-help acknowledgements: held by a run or a person, not a record)
 * are never touched. A holder that exists but has given its claims back by its status (a
 * cancelled booking or order, a released assignment: the release after the state change
 * failed) counts as an orphan too, and a room unit its booking no longer covers (a move).
 */
import { Types, trusted, type Model } from 'mongoose';
import { CapacityClaim } from '../../models/capacityClaim.js';
import { ChildcareBooking } from '../../models/childcareBooking.js';
import { ChildcareWaitlistEntry } from '../../models/childcareWaitlist.js';
import { MealMenu } from '../../models/mealMenu.js';
import { MealOrder } from '../../models/mealOrder.js';
import { RoomBooking } from '../../models/roomBooking.js';
import { VolunteerAssignment } from '../../models/volunteerAssignment.js';
import { WellnessAlert } from '../../models/wellnessAlert.js';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { unitsBetween } from '../booking/time.js';

/** Where the scan goes on from at the next run (a claim's _id), so a big collection is covered in turns. */
export const RECONCILE_CURSOR_KEY = 'claims:reconcile:after';

/** Booking statuses that hold a room's units and quota (as in roomBookings.ts). */
const ROOM_HOLDING = new Set(['pending', 'confirmed', 'checked_in']);

type Holders = 'room' | 'meal' | 'childcare' | 'volunteer' | 'state';

/** The kind of holder a key's claims belong to; null: not a record's claim, left alone. */
function holderKind(key: string): Holders | null {
  const prefix = key.slice(0, key.indexOf(':'));
  switch (prefix) {
    case 'room': case 'room-quota': return 'room';
    case 'meal': case 'meal-person': return 'meal';
    case 'childcare': case 'childcare-child': case 'childcare-month': return 'childcare';
    case 'task': case 'task-volunteer': case 'volunteer-time': return 'volunteer';
    case 'state': return 'state';
    default: return null;
  }
}

/** The ids among `ids` that have a record in `model` (by _id, or by `field`). */
async function existing(model: Model<any>, ids: Types.ObjectId[], field = '_id'): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const found = await model.find({ [field]: trusted({ $in: ids }) }).select(field).lean<Array<Record<string, unknown>>>();
  return new Set(found.map((d) => String(d[field])));
}

/** id → status of the records among `ids` in `model`. */
async function statuses(model: Model<any>, ids: Types.ObjectId[]): Promise<Map<string, string>> {
  if (!ids.length) return new Map();
  const found = await model.find({ _id: trusted({ $in: ids }) }).select('status').lean<Array<{ _id: Types.ObjectId; status: string }>>();
  return new Map(found.map((d) => [String(d._id), d.status]));
}

/** Assignment statuses left straight from a holding one, whose claims were given back (volunteerAssignments.ts). */
const VOLUNTEER_RELEASED = new Set(['released', 'unassigned', 'absent', 'cancelled']);

export interface OrphanClaimsOptions {
  /** Claims looked at per run (the job: 1000). */
  limit: number;
  /** Claims younger than this are left alone: their command may still be writing its record. */
  graceMinutes: number;
  /** Keeps the scan's position between runs; without it every run starts from the oldest claim. */
  redis?: Redis;
  log?: Logger;
}

/**
 * Looks at up to `limit` claims older than the grace period (in _id order, from where the last
 * run stopped) and releases those whose holder record does not exist (or, for room units, no
 * longer holds them). Claims are deleted by _id while still held by an orphan holder, so a
 * claim handed over meanwhile is kept. Safe to re-run. Returns how many were looked at and released.
 */
export async function releaseOrphanClaims(opts: OrphanClaimsOptions, now = new Date()): Promise<{ checked: number; released: number }> {
  const cutoff = Types.ObjectId.createFromTime(Math.floor((now.getTime() - opts.graceMinutes * 60_000) / 1000));
  const after = await opts.redis?.get(RECONCILE_CURSOR_KEY).catch(() => null);
  const range = after && Types.ObjectId.isValid(after) ? { $gt: new Types.ObjectId(after), $lt: cutoff } : { $lt: cutoff };
  const claims = await CapacityClaim.find({ _id: trusted(range) }).sort({ _id: 1 }).limit(opts.limit).lean();
  const ours = claims.filter((c) => holderKind(c.key) !== null);
  const holdersOf = (kind: Holders) => [...new Map(ours.filter((c) => holderKind(c.key) === kind).map((c) => [String(c.holder), c.holder])).values()];

  const roomIds = holdersOf('room');
  const rooms = new Map((roomIds.length ? await RoomBooking.find({ _id: trusted({ $in: roomIds }) }).select('room start end status').lean() : [])
    .map((b) => [String(b._id), b]));
  const meals = holdersOf('meal');
  const mealOrders = await statuses(MealOrder, meals);
  const menus = await existing(MealMenu, meals);
  const childcare = holdersOf('childcare');
  const childcareBookings = await statuses(ChildcareBooking, childcare);
  const entries = await existing(ChildcareWaitlistEntry, childcare, 'booking');
  const assignments = await statuses(VolunteerAssignment, holdersOf('volunteer'));
  const state = holdersOf('state');
  const stateHolders = new Set<string>();
  for (const model of [RoomBooking, MealOrder, ChildcareBooking, ChildcareWaitlistEntry, VolunteerAssignment, WellnessAlert] as Array<Model<any>>) {
    const left = state.filter((id) => !stateHolders.has(String(id)));
    for (const id of await existing(model, left)) stateHolders.add(id);
  }

  const orphan = (c: (typeof ours)[number]): boolean => {
    const holder = String(c.holder);
    switch (holderKind(c.key)) {
      case 'room': {
        const booking = rooms.get(holder);
        if (!booking || !ROOM_HOLDING.has(booking.status)) return true;
        if (!c.key.startsWith('room:')) return false;
        return c.key !== `room:${booking.room}` || !unitsBetween(booking.start, booking.end).includes(c.slot);
      }
      // A cancelled order gives both its portions and its one-per-person claim back.
      case 'meal': return mealOrders.has(holder) ? mealOrders.get(holder) === 'cancelled' : !menus.has(holder);
      case 'childcare': {
        const status = childcareBookings.get(holder);
        if (status === undefined) return !entries.has(holder);
        // Cancelled: every claim goes (a place handed on has another holder by then);
        // turned away or a no-show: the place only (the child's and month's claims stay).
        return status === 'cancelled' || (c.key.startsWith('childcare:') && (status === 'turned_away' || status === 'no_show'));
      }
      case 'volunteer': {
        const status = assignments.get(holder);
        return status === undefined || VOLUNTEER_RELEASED.has(status);
      }
      case 'state': return !stateHolders.has(holder);
      default: return false;
    }
  };

  // One delete for the batch (a delete per claim costs ~100 ms on FerretDB v1 / SQLite): by
  // _id, and only while held by an orphan holder, so a claim handed over meanwhile is kept.
  const orphans = ours.filter(orphan);
  let released = 0;
  if (orphans.length) {
    ({ deletedCount: released } = await CapacityClaim.deleteMany({
      _id: trusted({ $in: orphans.map((c) => c._id) }),
      holder: trusted({ $in: [...new Map(orphans.map((c) => [String(c.holder), c.holder])).values()] }),
    }));
    opts.log?.info({ released, sample: orphans.slice(0, 20).map((c) => ({ key: c.key, slot: c.slot, holder: String(c.holder) })) }, 'orphan claims released');
  }
  // A full batch: go on from its last claim next time; a short one: the scan starts over.
  if (opts.redis) {
    const last = claims.at(-1);
    await (claims.length === opts.limit && last
      ? opts.redis.set(RECONCILE_CURSOR_KEY, String(last._id))
      : opts.redis.del(RECONCILE_CURSOR_KEY)).catch(() => undefined);
  }
  opts.log?.info({ checked: claims.length, released }, 'claims reconciled');
  return { checked: claims.length, released };
}
