import { expect } from 'chai';
import { Types, trusted } from 'mongoose';
import { JOBS, runJobTick } from '../jobs/index.js';
import { atShanghai, dayjs, shanghaiDay } from '../models/calendar.js';
import { CapacityClaim, ChildcareBooking, MealOrder, RoomBooking, VolunteerAssignment } from '../models/index.js';
import { asSelf } from '../src/auth/user.js';
import { mealKey } from '../src/commands/mealMenus.js';
import { RECONCILE_CURSOR_KEY, releaseOrphanClaims } from '../src/commands/orphanClaims.js';
import { cancelRoomBooking, createRoomBooking, findRoom, roomKey } from '../src/commands/roomBookings.js';
import { unitsBetween } from '../src/booking/time.js';
import { testConfig, testEnvironment } from './support/env.js';
import { startInstances } from './support/instances.js';
import { useCleanStorage } from './support/storage.js';
import { makeCommunity, makeFacility, makeKitchen, makeMenu, makeResident, makeRoom } from './factories/index.js';

const day = dayjs.utc(shanghaiDay(new Date())).add(3, 'day').format('YYYY-MM-DD');
/** A claim _id made `minutesAgo` before `from` (unique: the rest is a fresh id's). */
const idAt = (from: Date, minutesAgo: number) => new Types.ObjectId(
  Math.floor((from.getTime() - minutesAgo * 60_000) / 1000).toString(16).padStart(8, '0') + new Types.ObjectId().toHexString().slice(8));
const claim = (key: string, slot: number, holder: Types.ObjectId, _id: Types.ObjectId) =>
  CapacityClaim.collection.insertOne({ _id, key, slot, holder, createdAt: _id.getTimestamp() });
const exists = async (_id: Types.ObjectId) => (await CapacityClaim.exists({ _id })) !== null;

describe('claims.reconcile: claims whose holder record does not exist are released after the grace period', () => {
  useCleanStorage();
  const deps = () => ({ rules: testConfig().booking, redis: testEnvironment().redis });
  // The run looks 30 minutes ahead, so every claim made by the test is past the 10-minute grace.
  const now = new Date(Date.now() + 30 * 60_000);

  it('releases orphans (no holder, a cancelled or moved booking\'s unit, a lost state claim), keeps live and young ones and keys it does not know', async () => {
    const community = await makeCommunity();
    const room = await makeRoom(await makeFacility(community));
    const person = await makeResident({ community: community._id });
    const start = atShanghai(day, '09:00');
    const end = atShanghai(day, '10:00');
    const live = await createRoomBooking(deps(), asSelf(person), await findRoom(String(room._id)), person, { start, end, purpose: '合唱', attendees: 5 });
    const gone = await createRoomBooking(deps(), asSelf(person), await findRoom(String(room._id)), person,
      { start: atShanghai(day, '14:00'), end: atShanghai(day, '15:00'), purpose: '合唱', attendees: 5 });
    // A cancel whose release of the units failed: the units stay with a cancelled booking.
    await cancelRoomBooking(deps(), asSelf(person), (await RoomBooking.findById(gone._id))!, false, undefined);
    const goneUnits = unitsBetween(gone.start, gone.end);
    const leftOver = goneUnits.map(() => idAt(now, 20));
    for (const [i, unit] of goneUnits.entries()) await claim(roomKey(room._id), unit, gone._id, leftOver[i]!);
    // A unit the live booking does not cover (a move that did not give the old units back).
    const stray = idAt(now, 20);
    await claim(roomKey(room._id), unitsBetween(start, end)[0]! - 4, live._id, stray);

    const menu = await makeMenu(await makeKitchen(community), { capacity: 5 });
    const noHolder = idAt(now, 20);
    await claim(roomKey(room._id), unitsBetween(start, end)[0]! + 40, new Types.ObjectId(), noHolder);
    const noOrder = idAt(now, 20);
    await claim(mealKey(menu._id), 3, new Types.ObjectId(), noOrder);
    const menuBlock = idAt(now, 20);
    await claim(mealKey(menu._id), 4, menu._id, menuBlock); // staff reduced the capacity: the menu holds it
    const young = idAt(now, 5);
    await claim(mealKey(menu._id), 2, new Types.ObjectId(), young);
    const lostState = idAt(now, 20);
    const ghost = new Types.ObjectId();
    await claim(`state:${ghost}`, 1, ghost, lostState);
    const postMark = idAt(now, 20);
    await claim('task-post:abc:new', 0, new Types.ObjectId(), postMark); // held by a job run: not a record's claim

    const result = await releaseOrphanClaims({ limit: 1000, graceMinutes: 10 }, now);
    expect(result.released).to.equal(goneUnits.length + 4);
    for (const id of [...leftOver, stray, noHolder, noOrder, lostState]) expect(await exists(id), String(id)).to.equal(false);
    for (const id of [menuBlock, young, postMark]) expect(await exists(id), String(id)).to.equal(true);
    expect(await CapacityClaim.countDocuments({ key: roomKey(room._id), holder: live._id })).to.equal(2);
    expect(await CapacityClaim.countDocuments({ key: `state:${gone._id}` })).to.equal(1);

    expect((await releaseOrphanClaims({ limit: 1000, graceMinutes: 10 }, now)).released).to.equal(0);
    // Once past the grace, the young one goes too.
    expect((await releaseOrphanClaims({ limit: 1000, graceMinutes: 10 }, new Date(now.getTime() + 6 * 60_000))).released).to.equal(1);
  });

  it('releases the claims a record gave back by its status when that release failed: a cancelled order, a cancelled or turned-away child, a released assignment', async () => {
    // Records reduced to what the job reads (their status), written straight to the collections.
    const record = async (model: { collection: { insertOne(doc: object): Promise<unknown> } }, status: string) => {
      const _id = new Types.ObjectId();
      await model.collection.insertOne({ _id, status });
      return _id;
    };
    const cancelledOrder = await record(MealOrder, 'cancelled');
    const liveOrder = await record(MealOrder, 'confirmed');
    const cancelledChild = await record(ChildcareBooking, 'cancelled');
    const turnedAway = await record(ChildcareBooking, 'turned_away');
    const released = await record(VolunteerAssignment, 'released');
    const approved = await record(VolunteerAssignment, 'approved');
    const menu = new Types.ObjectId();
    const session = new Types.ObjectId();
    const child = new Types.ObjectId();
    const gone = [
      [mealKey(menu), 0, cancelledOrder], [`meal-person:${menu}:p1`, 0, cancelledOrder],
      [`childcare:${session}`, 0, cancelledChild], [`childcare-month:${child}:2026-12`, 0, cancelledChild],
      [`childcare:${session}`, 1, turnedAway], [`task:${menu}`, 0, released],
    ] as const;
    const kept = [
      [mealKey(menu), 1, liveOrder], [`childcare-child:${session}:${child}`, 0, turnedAway], [`task:${menu}`, 1, approved],
    ] as const;
    const ids = new Map<string, Types.ObjectId>();
    for (const [key, slot, holder] of [...gone, ...kept]) {
      const _id = idAt(now, 20);
      ids.set(`${key}#${slot}`, _id);
      await claim(key, slot, holder, _id);
    }
    await releaseOrphanClaims({ limit: 1000, graceMinutes: 10 }, now);
    for (const [key, slot] of gone) expect(await exists(ids.get(`${key}#${slot}`)!), `${key}#${slot}`).to.equal(false);
    for (const [key, slot] of kept) expect(await exists(ids.get(`${key}#${slot}`)!), `${key}#${slot}`).to.equal(true);
  });

  it('covers a big collection in turns: a run looks at `limit` claims and the next goes on from there', async () => {
    const redis = testEnvironment().redis;
    const orphans = Array.from({ length: 7 }, (_, i) => idAt(now, 60 - i));
    for (const [i, id] of orphans.entries()) await claim(`meal:${new Types.ObjectId()}`, i, new Types.ObjectId(), id);
    await CapacityClaim.deleteMany({ _id: trusted({ $nin: orphans }) });
    const runs = [];
    for (let i = 0; i < 3; i += 1) runs.push(await releaseOrphanClaims({ limit: 3, graceMinutes: 10, redis }, now));
    expect(runs.map((r) => r.released)).to.deep.equal([3, 3, 1]);
    expect(await CapacityClaim.countDocuments({})).to.equal(0);
    // The last batch was short: the next run starts from the oldest claim again.
    expect(await redis.get(RECONCILE_CURSOR_KEY)).to.equal(null);
  });

  describe('the job', () => {
    let close: () => Promise<void>;
    let instances: Awaited<ReturnType<typeof startInstances>>['instances'];
    before(async () => {
      ({ instances, close } = await startInstances(2));
    });
    after(async () => close());

    it('runs every 10 minutes on one instance and reports how many it released', async () => {
      const job = JOBS.find((j) => j.name === 'claims.reconcile')!;
      expect(job.schedule).to.equal('*/10 * * * *');
      await testEnvironment().redis.del(RECONCILE_CURSOR_KEY);
      await CapacityClaim.deleteMany({});
      const orphan = idAt(new Date(), 30);
      await claim(`task:${new Types.ObjectId()}`, 0, new Types.ObjectId(), orphan);
      const tick = new Date(Math.floor(Date.now() / 600_000) * 600_000);
      const reports = await Promise.all(instances.map((i) => runJobTick(i.deps, job, tick, new Date())));
      const ran = reports.filter((r) => r.status === 'ok');
      expect(ran).to.have.length(1);
      expect(ran[0]!.counts).to.include({ released: 1 });
      expect(await exists(orphan)).to.equal(false);
    });
  });
});
