import { expect } from 'chai';
import { Types } from 'mongoose';
import { atShanghai, dayjs, shanghaiDay } from '../models/calendar.js';
import { ChildcareBooking, ListHorizon, RoomBooking, VolunteerAssignment, VolunteerRecordStamp, type FacilityDoc, type PersonDoc, type VolunteerAssignmentStatus } from '../models/index.js';
import { asSelf } from '../src/auth/user.js';
import { backfillMonthsOfStart } from '../src/commands/monthWalk.js';
import { approveHours } from '../src/commands/volunteerAssignments.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { useCleanStorage } from './support/storage.js';
import {
  HEALTHY, makeAssignment, makeChild, makeChildcareCentre, makeCommunity, makeFacility, makeResident, makeRoom, makeRoomBookingRecord,
  makeSession, makeStaff, makeTask, makeVolunteer,
} from './factories/index.js';

const DAY = 86_400_000;
/** The same Shanghai day and hour `months` months from now (negative: ago), on a 30-minute boundary. */
const monthsFromNow = (months: number, hhmm = '09:00') =>
  atShanghai(dayjs.utc(shanghaiDay(new Date())).add(months, 'month').format('YYYY-MM-DD'), hhmm);
const ids = (res: { body: { items: Array<{ id: string }> } }) => res.body.items.map((i) => i.id);
type When = 'upcoming' | 'past';

/**
 * What one sorted read of everything gives for `when`: from the start of today (Shanghai) on,
 * soonest first, or before it, newest first; records of the same start by id.
 */
function inOrder(records: Array<{ _id: Types.ObjectId; start: Date }>, when: When): string[] {
  const today = atShanghai(shanghaiDay(new Date()), '00:00');
  const sign = when === 'upcoming' ? 1 : -1;
  return records.filter((r) => (when === 'upcoming' ? r.start >= today : r.start < today))
    .sort((a, b) => sign * (a.start.getTime() - b.start.getTime() || (String(a._id) < String(b._id) ? -1 : 1)))
    .map((r) => String(r._id));
}

/**
 * A person's own lists (issue 17) answer from today on by default, and the history on request,
 * read a month at a time: the answers, page after page, must be those of one sorted read of
 * everything.
 */
describe('own lists, a month at a time', () => {
  useCleanStorage();
  let request: ReturnType<typeof createTestApp>['request'];

  /** Every page of a list, following `next` with `after`. */
  async function everyPage(url: string, auth: string, query: Record<string, string | number>): Promise<string[]> {
    const seen: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const res = await request.get(url).query({ ...query, ...(after ? { after } : {}) }).set('Authorization', auth).expect(200);
      seen.push(...ids(res));
      if (res.body.next === null) return seen;
      expect(res.body.next).to.be.a('string');
      after = res.body.next;
    }
    throw new Error(`${url}: more than 100 pages`);
  }
  let community: Awaited<ReturnType<typeof makeCommunity>>;
  let facility: FacilityDoc;

  before(async () => {
    ({ request } = createTestApp());
    community = await makeCommunity();
    facility = await makeFacility(community);
  });

  describe('GET /api/v1/volunteer-assignments/mine', () => {
    let volunteer: PersonDoc;
    let auth: string;
    /** The volunteer's assignments of `when`: what one sorted read gives. */
    const expected = async (when: When, status?: VolunteerAssignmentStatus) =>
      inOrder(await VolunteerAssignment.find({ volunteer: volunteer._id, ...(status ? { status } : {}) }).lean(), when);

    before(async () => {
      volunteer = await makeVolunteer({ community: community._id });
      auth = await bearerFor(volunteer);
      // Sixteen months of history, busy in the oldest four, one a month since, two months empty,
      // every kind of ending: a page past the first twelve months walked reads the rest at once.
      const statuses = ['approved', 'declined', 'released', 'absent', 'approved'] as const;
      for (let m = -16; m <= -1; m++) {
        if (m === -7 || m === -8) continue;
        for (let k = 0; k < (m <= -13 ? 10 : 1); k++) {
          const task = await makeTask(facility, { start: new Date(monthsFromNow(m).getTime() + k * DAY) });
          await makeAssignment(task, volunteer, { status: statuses[(m + k + 20) % statuses.length] });
        }
      }
    });

    it('lists the history newest first, a page at a time and by status, as one sorted read would, before and after the first view', async () => {
      const all = await expected('past');
      expect(all).to.have.length(50);
      expect(await ListHorizon.exists({ _id: `volunteer-assignments:${volunteer._id}` })).to.equal(null);
      // Nothing from today on: the default view is empty, and says there is no next page.
      const first = await request.get('/api/v1/volunteer-assignments/mine').set('Authorization', auth).expect(200);
      expect(first.body).to.deep.equal({ items: [], next: null });
      // The first view learnt the months the list spans; later views walk them.
      const horizon = await ListHorizon.findById(`volunteer-assignments:${volunteer._id}`).lean();
      expect(horizon).to.include({ complete: true, month: shanghaiDay(monthsFromNow(-1)).slice(0, 7), oldest: shanghaiDay(monthsFromNow(-16)).slice(0, 7) });
      const again = await request.get('/api/v1/volunteer-assignments/mine').query({ when: 'past' }).set('Authorization', auth).expect(200);
      expect(ids(again)).to.deep.equal(all);
      expect(again.body.next).to.equal(null);
      // Short pages walk the months (the list is more than two pages of them); long ones read it whole.
      for (const [limit, offset] of [[1, 0], [5, 3], [20, 0], [15, 8], [7, 20], [50, 30], [10, all.length]] as const) {
        const page = await request.get('/api/v1/volunteer-assignments/mine').query({ when: 'past', limit, offset }).set('Authorization', auth).expect(200);
        expect(ids(page), `limit ${limit} offset ${offset}`).to.deep.equal(all.slice(offset, offset + limit));
        expect(page.body.next === null, `limit ${limit} offset ${offset}: next`).to.equal(offset + limit >= all.length);
      }
      // Following `next` a few at a time reads every assignment once, in order, across the twelve months walked.
      for (const limit of [1, 7, 16]) {
        expect(await everyPage('/api/v1/volunteer-assignments/mine', auth, { when: 'past', limit }), `limit ${limit}`).to.deep.equal(all);
      }
      for (const status of ['approved', 'declined', 'absent', 'claimed'] as const) {
        const page = await request.get('/api/v1/volunteer-assignments/mine').query({ when: 'past', status, limit: 4 }).set('Authorization', auth).expect(200);
        expect(ids(page), status).to.deep.equal((await expected('past', status)).slice(0, 4));
        expect(await everyPage('/api/v1/volunteer-assignments/mine', auth, { when: 'past', status, limit: 3 }), status).to.deep.equal(await expected('past', status));
      }
    });

    it('shows a claim far ahead, and keeps it listed once released, after the list was first read', async () => {
      const staff = (await makeStaff({ community: community._id, staffScope: { community: community._id, facilities: [facility._id] } })).person;
      await request.get('/api/v1/volunteer-assignments/mine').set('Authorization', auth).expect(200);
      const task = await makeTask(facility, { start: monthsFromNow(4) });
      const claimed = await request.post(`/api/v1/volunteer-tasks/${task._id}/claim`).set('Authorization', auth).expect(201);
      const listed = await request.get('/api/v1/volunteer-assignments/mine').query({ limit: 3 }).set('Authorization', auth).expect(200);
      expect(listed.body).to.deep.include({ next: null });
      expect(ids(listed)).to.deep.equal([claimed.body.id]);
      await request.post(`/api/v1/volunteer-assignments/${claimed.body.id}/release`).set('Authorization', auth).expect(200);
      // Task names are cached per task: a rename shows at once.
      await request.patch(`/api/v1/volunteer-tasks/${task._id}`).set('Authorization', await bearerFor(staff)).send({ title: '改名后的任务' }).expect(200);
      const after = await request.get('/api/v1/volunteer-assignments/mine').set('Authorization', auth).expect(200);
      expect(after.body.items).to.have.length(1);
      expect(after.body.items[0]).to.include({ id: claimed.body.id, status: 'released', taskTitle: '改名后的任务' });
      expect(ids(after)).to.deep.equal(await expected('upcoming'));
      const history = await request.get('/api/v1/volunteer-assignments/mine').query({ when: 'past' }).set('Authorization', auth).expect(200);
      expect(ids(history)).to.deep.equal((await expected('past')).slice(0, 50));
    });

    it('gives the task list each task\'s own assignment, read by the months the tasks start in', async () => {
      const fresh = await makeVolunteer({ community: community._id });
      const token = await bearerFor(fresh);
      const tasks = await Promise.all([1, 40, 70].map((days) => makeTask(facility, { start: new Date(Math.ceil((Date.now() + days * DAY) / 900_000) * 900_000) })));
      const first = await request.post(`/api/v1/volunteer-tasks/${tasks[0]!._id}/claim`).set('Authorization', token).expect(201);
      const third = await request.post(`/api/v1/volunteer-tasks/${tasks[2]!._id}/claim`).set('Authorization', token).expect(201);
      await request.post(`/api/v1/volunteer-assignments/${third.body.id}/release`).set('Authorization', token).expect(200);
      const res = await request.get('/api/v1/volunteer-tasks').query({ limit: 100 }).set('Authorization', token).expect(200);
      const mineOn = (i: number) => res.body.items.find((t: { id: string }) => t.id === String(tasks[i]!._id))?.myAssignment;
      expect(mineOn(0)).to.include({ id: first.body.id, status: 'claimed' });
      expect(mineOn(1)).to.equal(null);
      expect(mineOn(2)).to.include({ id: third.body.id, status: 'released' });
    });

    it('refuses strangers (401) and bad or unknown query keys (400), in Chinese', async () => {
      await request.get('/api/v1/volunteer-assignments/mine').expect(401);
      await request.get('/api/v1/volunteer-assignments/mine').query({ limit: 0 }).set('Authorization', auth).expect(400);
      await request.get('/api/v1/volunteer-assignments/mine').query({ status: 'done' }).set('Authorization', auth).expect(400);
      await request.get('/api/v1/volunteer-assignments/mine').query({ before: '2026-01' }).set('Authorization', auth).expect(400);
      const when = await request.get('/api/v1/volunteer-assignments/mine').query({ when: 'all' }).set('Authorization', auth).expect(400);
      expect(when.body.error.message).to.include('「时间范围」应为 upcoming（今天及以后）或 past（以前的）');
      const after = await request.get('/api/v1/volunteer-assignments/mine').query({ after: '2026-01' }).set('Authorization', auth).expect(400);
      expect(after.body.error.message).to.include('「翻页位置」无效');
      await request.get('/api/v1/volunteer-assignments/mine').query({ after: { $gt: '' } }).set('Authorization', auth).expect(400);
    });
  });

  describe('GET /api/v1/room-bookings/mine', () => {
    it('lists a resident\'s bookings from today on and the history across months, with one booked and cancelled far ahead after a first view', async () => {
      const room = await makeRoom(facility, { maxAdvanceDays: 200, weeklyQuotaPerResident: 20 });
      const other = await makeRoom(facility, { maxAdvanceDays: 200, weeklyQuotaPerResident: 20 });
      const resident = await makeResident({ community: community._id });
      const auth = await bearerFor(resident);
      for (let m = -14; m <= -1; m++) if (m !== -5) await makeRoomBookingRecord(room, resident, monthsFromNow(m, m % 2 ? '10:00' : '14:00'));
      // Two rooms at the same hour: a page boundary between them loses neither.
      await makeRoomBookingRecord(other, resident, monthsFromNow(-3, '10:00'));
      await makeRoomBookingRecord(other, resident, monthsFromNow(-3, '14:00'));
      // Today from midnight is "from today on", even once it is over; yesterday evening is history.
      const today = atShanghai(shanghaiDay(new Date()), '00:00');
      const midnight = await makeRoomBookingRecord(other, resident, today);
      const lastEvening = await makeRoomBookingRecord(other, resident, new Date(today.getTime() - 30 * 60_000), 30);
      const expected = async (when: When) => inOrder(await RoomBooking.find({ bookedFor: resident._id }).lean(), when);
      const first = await request.get('/api/v1/room-bookings/mine').set('Authorization', auth).expect(200);
      expect(first.body).to.deep.equal({ items: [first.body.items[0]], next: null });
      expect(ids(first)).to.deep.equal([String(midnight._id)]);
      const history = await request.get('/api/v1/room-bookings/mine').query({ when: 'past' }).set('Authorization', auth).expect(200);
      expect(ids(history)).to.deep.equal(await expected('past'));
      expect(ids(history)[0]).to.equal(String(lastEvening._id));
      const ahead = monthsFromNow(3, '10:00');
      const booked = await request.post(`/api/v1/rooms/${room._id}/bookings`).set('Authorization', auth)
        .send({ start: ahead.toISOString(), end: new Date(ahead.getTime() + 3_600_000).toISOString(), purpose: '合唱排练', attendees: 6 }).expect(201);
      await request.post(`/api/v1/room-bookings/${booked.body.id}/cancel`).set('Authorization', auth).send({}).expect(200);
      const after = await request.get('/api/v1/room-bookings/mine').set('Authorization', auth).expect(200);
      expect(after.body.items[1]).to.include({ id: booked.body.id, status: 'cancelled' });
      expect(ids(after)).to.deep.equal(await expected('upcoming'));
      expect(await everyPage('/api/v1/room-bookings/mine', auth, { limit: 1 })).to.deep.equal(await expected('upcoming'));
      for (const limit of [1, 4, 13]) {
        const page = await request.get('/api/v1/room-bookings/mine').query({ when: 'past', limit }).set('Authorization', auth).expect(200);
        expect(ids(page)).to.deep.equal((await expected('past')).slice(0, limit));
        expect(await everyPage('/api/v1/room-bookings/mine', auth, { when: 'past', limit }), `limit ${limit}`).to.deep.equal(await expected('past'));
      }
    });

    it('follows a booking staff move to a later month', async () => {
      const room = await makeRoom(facility, { maxAdvanceDays: 200, weeklyQuotaPerResident: 20 });
      const resident = await makeResident({ community: community._id });
      const auth = await bearerFor(resident);
      const staff = (await makeStaff({ community: community._id, staffScope: { community: community._id, facilities: [facility._id] } })).person;
      const soon = new Date(Math.ceil((Date.now() + 3 * DAY) / 1_800_000) * 1_800_000);
      const soonSlot = atShanghai(shanghaiDay(soon), '10:00');
      const booked = await request.post(`/api/v1/rooms/${room._id}/bookings`).set('Authorization', auth)
        .send({ start: soonSlot.toISOString(), end: new Date(soonSlot.getTime() + 3_600_000).toISOString(), purpose: '下棋', attendees: 2 }).expect(201);
      const others = [];
      for (const hours of [2, 4]) {
        others.push(await request.post(`/api/v1/rooms/${room._id}/bookings`).set('Authorization', auth)
          .send({ start: new Date(soonSlot.getTime() + hours * 3_600_000).toISOString(), end: new Date(soonSlot.getTime() + (hours + 1) * 3_600_000).toISOString(), purpose: '书法', attendees: 2 }).expect(201));
      }
      await request.get('/api/v1/room-bookings/mine').set('Authorization', auth).expect(200);
      const later = monthsFromNow(2, '15:00');
      await request.post(`/api/v1/room-bookings/${booked.body.id}/move`).set('Authorization', await bearerFor(staff))
        .send({ start: later.toISOString(), end: new Date(later.getTime() + 3_600_000).toISOString(), reason: '场地维修' }).expect(200);
      const soonest = await request.get('/api/v1/room-bookings/mine').query({ limit: 2 }).set('Authorization', auth).expect(200);
      expect(ids(soonest)).to.deep.equal([others[0]!.body.id, others[1]!.body.id]);
      const rest = await request.get('/api/v1/room-bookings/mine').query({ limit: 2, after: soonest.body.next }).set('Authorization', auth).expect(200);
      expect(rest.body).to.deep.include({ next: null });
      expect(ids(rest)).to.deep.equal([booked.body.id]);
      const after = await request.get('/api/v1/room-bookings/mine').set('Authorization', auth).expect(200);
      expect(ids(after)).to.deep.equal([others[0]!.body.id, others[1]!.body.id, booked.body.id]);
      expect(await RoomBooking.findById(booked.body.id).lean()).to.include({ month: shanghaiDay(later).slice(0, 7) });
    });

    it('refuses strangers (401), another person\'s list without a proxy link (403) and unknown keys (400)', async () => {
      const resident = await makeResident({ community: community._id });
      const other = await makeResident({ community: community._id });
      const auth = await bearerFor(resident);
      await request.get('/api/v1/room-bookings/mine').expect(401);
      await request.get('/api/v1/room-bookings/mine').query({ forPerson: String(other._id) }).set('Authorization', auth).expect(403);
      await request.get('/api/v1/room-bookings/mine').query({ before: '2026-01' }).set('Authorization', auth).expect(400);
      await request.get('/api/v1/room-bookings/mine').query({ when: 'later' }).set('Authorization', auth).expect(400);
      await request.get('/api/v1/room-bookings/mine').query({ after: `1-${'g'.repeat(24)}` }).set('Authorization', auth).expect(400);
    });
  });

  describe('GET /api/v1/childcare-bookings/mine', () => {
    it('lists a parent\'s and a child\'s bookings from today on and the history across months, with a new booking after a first view', async () => {
      const centre = await makeChildcareCentre(community);
      const parent = await makeResident({ community: community._id });
      const auth = await bearerFor(parent);
      const child = await makeChild(parent);
      const sibling = await makeChild(parent);
      // History written directly (the sessions of past months are over).
      for (let m = -13; m <= -1; m++) {
        for (const [kid, hhmm] of [[child, '08:30'], [sibling, '13:30']] as const) {
          if (m === -4 && kid === sibling) continue;
          const start = monthsFromNow(m, hhmm);
          const date = shanghaiDay(start);
          await ChildcareBooking.create({
            session: new Types.ObjectId(), centre: centre._id, community: community._id, child: kid._id, bookedFor: parent._id, bookedBy: parent._id,
            date, start, end: new Date(start.getTime() + 3 * 3_600_000), classType: '托小班', month: date.slice(0, 7),
            healthDeclaration: { healthy: true, declaredAt: start, declaredBy: parent._id }, status: 'picked_up',
          });
        }
      }
      const expected = async (filter: object, when: When) => inOrder(await ChildcareBooking.find(filter).lean(), when);
      const mine = await request.get('/api/v1/childcare-bookings/mine').set('Authorization', auth).expect(200);
      expect(mine.body).to.deep.equal({ items: [], next: null });
      const history = await request.get('/api/v1/childcare-bookings/mine').query({ when: 'past' }).set('Authorization', auth).expect(200);
      expect(ids(history)).to.deep.equal(await expected({ bookedFor: parent._id }, 'past'));
      const ofChild = await request.get('/api/v1/childcare-bookings/mine').query({ childId: String(child._id), when: 'past' }).set('Authorization', auth).expect(200);
      expect(ids(ofChild)).to.deep.equal(await expected({ child: child._id }, 'past'));
      const session = await makeSession(centre);
      const booked = await request.post(`/api/v1/childcare-sessions/${session._id}/bookings`).set('Authorization', auth)
        .send({ childId: String(child._id), healthDeclaration: HEALTHY }).expect(201);
      const page = await request.get('/api/v1/childcare-bookings/mine').query({ limit: 5 }).set('Authorization', auth).expect(200);
      expect(ids(page)).to.deep.equal([booked.body.id]);
      const ofChildNow = await request.get('/api/v1/childcare-bookings/mine').query({ childId: String(child._id) }).set('Authorization', auth).expect(200);
      expect(ids(ofChildNow)).to.deep.equal([booked.body.id]);
      for (const limit of [3, 20]) {
        const past = await request.get('/api/v1/childcare-bookings/mine').query({ when: 'past', limit }).set('Authorization', auth).expect(200);
        expect(ids(past)).to.deep.equal((await expected({ bookedFor: parent._id }, 'past')).slice(0, limit));
        expect(await everyPage('/api/v1/childcare-bookings/mine', auth, { when: 'past', limit }), `limit ${limit}`).to.deep.equal(await expected({ bookedFor: parent._id }, 'past'));
        expect(await everyPage('/api/v1/childcare-bookings/mine', auth, { childId: String(child._id), when: 'past', limit }), `child, limit ${limit}`)
          .to.deep.equal(await expected({ child: child._id }, 'past'));
      }
    });

    it('refuses strangers (401), another family\'s child (403) and unknown keys (400)', async () => {
      const parent = await makeResident({ community: community._id });
      const child = await makeChild(parent);
      const stranger = await bearerFor(await makeResident({ community: community._id }));
      await request.get('/api/v1/childcare-bookings/mine').expect(401);
      await request.get('/api/v1/childcare-bookings/mine').query({ childId: String(child._id) }).set('Authorization', stranger).expect(403);
      await request.get('/api/v1/childcare-bookings/mine').query({ before: '2026-01' }).set('Authorization', stranger).expect(400);
    });
  });

  describe('GET /api/v1/volunteers/me and /volunteers/{id}: figures kept with the record\'s stamp', () => {
    it('answers hours, points and stars from the kept figures, and follows an approval at once', async () => {
      const v = await makeVolunteer({ community: community._id });
      const token = await bearerFor(v);
      const staff = (await makeStaff({ community: community._id })).person;
      const past = new Date(Date.now() - 3 * DAY);
      await makeAssignment(await makeTask(facility, { start: past, end: new Date(past.getTime() + 2 * 3_600_000) }), v, { approvedMinutes: 99 * 60, points: 990 });
      const served = await makeAssignment(await makeTask(facility, { start: new Date(past.getTime() + DAY), end: new Date(past.getTime() + DAY + 3_600_000) }), v,
        { status: 'checked_out', approvedMinutes: undefined, points: undefined });
      const me = await request.get('/api/v1/volunteers/me').set('Authorization', token).expect(200);
      expect(me.body.totals).to.include({ hours: 99, points: 990, stars: 0, hoursToNextStar: 1, tasksServed: 1 });
      // Kept with the token they were computed under: the next view reads that one document.
      const stamp = (await VolunteerRecordStamp.findById(v._id).lean())!;
      expect(stamp.figures).to.deep.include({ token: stamp.token }).and.to.have.nested.property('totals.approvedMinutes', 99 * 60);
      await approveHours(served, asSelf(staff), 60);
      const asStaff = await request.get(`/api/v1/volunteers/${v._id}`).set('Authorization', await bearerFor(staff)).expect(200);
      expect(asStaff.body.totals).to.include({ hours: 100, stars: 1, tasksServed: 2 });
      const again = await request.get('/api/v1/volunteers/me').set('Authorization', token).expect(200);
      expect(again.body.totals).to.deep.equal(asStaff.body.totals);
    });

    it('refuses strangers (401), another volunteer (403) and a bad id (400)', async () => {
      const v = await makeVolunteer({ community: community._id });
      const other = await bearerFor(await makeVolunteer({ community: community._id }));
      await request.get('/api/v1/volunteers/me').expect(401);
      await request.get(`/api/v1/volunteers/${v._id}`).set('Authorization', other).expect(403);
      await request.get('/api/v1/volunteers/not-an-id').set('Authorization', other).expect(400);
    });
  });

  describe('backfillMonthsOfStart', () => {
    it('gives room bookings and assignments written without a month the month of their start, once', async () => {
      const volunteer = await makeVolunteer({ community: community._id });
      const task = await makeTask(facility, { start: monthsFromNow(-3) });
      const a = await makeAssignment(task, volunteer);
      await VolunteerAssignment.collection.updateOne({ _id: a._id }, { $unset: { month: 1 } });
      const room = await makeRoom(facility);
      const b = await makeRoomBookingRecord(room, volunteer, monthsFromNow(-2));
      await RoomBooking.collection.updateOne({ _id: b._id }, { $unset: { month: 1 } });
      expect(await backfillMonthsOfStart()).to.be.at.least(2);
      expect(await VolunteerAssignment.findById(a._id).lean()).to.include({ month: shanghaiDay(task.start).slice(0, 7) });
      expect(await RoomBooking.findById(b._id).lean()).to.include({ month: shanghaiDay(b.start).slice(0, 7) });
      expect(await backfillMonthsOfStart()).to.equal(0);
    });
  });
});
