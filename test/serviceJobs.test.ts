import { expect } from 'chai';
import { trusted } from 'mongoose';
import { JOBS, runJobTick } from '../jobs/index.js';
import { atShanghai, shanghaiDay } from '../models/calendar.js';
import { ChildcareWaitlistEntry, Notification, NotificationResult, VolunteerTask } from '../models/index.js';
import { asSelf } from '../src/auth/user.js';
import { bookChildcare, cancelChildcareBooking } from '../src/commands/childcareBookings.js';
import { findChildcareSession } from '../src/commands/childcareSessions.js';
import { claimVolunteerTask, releaseAssignment } from '../src/commands/volunteerAssignments.js';
import { makeChild, makeChildcareCentre, makeCommunity, makeFacility, makeResident, makeSession, makeTask, makeVolunteer, shanghaiDayFromNow } from './factories/index.js';
import { testConfig, testEnvironment } from './support/env.js';
import { startInstances } from './support/instances.js';
import { useCleanStorage } from './support/storage.js';

const job = (name: string) => JOBS.find((j) => j.name === name)!;

describe('the jobs of childcare and volunteers', () => {
  useCleanStorage();

  let close: () => Promise<void>;
  let instances: Awaited<ReturnType<typeof startInstances>>['instances'];
  let config: ReturnType<typeof testConfig>;
  const childcareDeps = () => ({ rules: config.childcare, redis: testEnvironment().redis });

  before(async () => {
    config = testConfig();
    ({ instances, close } = await startInstances(3));
  });

  after(async () => close());

  /** Runs one tick of `name` on all three instances at once: it must run on exactly one. */
  async function tickEverywhere(name: string, now: Date) {
    const reports = await Promise.all(instances.map((i) => runJobTick(i.deps, job(name), now, now)));
    expect(reports.filter((r) => r.status === 'ok'), `${name} ran once`).to.have.length(1);
    return reports.find((r) => r.status === 'ok')!;
  }

  describe('childcare.enqueueReminders', () => {
    it('enqueues the evening-before and hour-before reminders once, and withdraws them when the booking is cancelled', async () => {
      const parent = await makeResident();
      const child = await makeChild(parent, { name: '小禾' });
      const day = shanghaiDayFromNow(2);
      const session = await makeSession(await makeChildcareCentre(), { date: day, from: '09:00', to: '11:30' });
      const now = new Date();
      const outcome = await bookChildcare(childcareDeps(), asSelf(parent), await findChildcareSession(String(session._id)), child, { healthDeclaration: { healthy: true } }, now);
      if (outcome.kind !== 'booked') throw new Error('expected a place');

      const evening = atShanghai(shanghaiDayFromNow(1), config.reminders.eveningTime);
      const runAt = new Date(Math.max(now.getTime(), atShanghai(day, '09:00').getTime() - 30 * 3_600_000));
      await tickEverywhere('childcare.enqueueReminders', runAt);
      await tickEverywhere('childcare.enqueueReminders', new Date(runAt.getTime() + 300_000));
      const notes = await Notification.find({ person: parent._id, kind: 'childcare_booking_reminder' }).sort({ dueAt: 1 }).lean();
      expect(notes.map((n) => n.dueAt.toISOString())).to.deep.equal([evening, atShanghai(day, '08:00')].map((d) => d.toISOString()));
      expect(notes[0]!.text).to.include('小禾');

      await cancelChildcareBooking(childcareDeps(), asSelf(parent), outcome.booking, false, undefined, now);
      const withdrawn = await NotificationResult.countDocuments({ notification: trusted({ $in: notes.map((n) => n._id) }), outcome: 'withdrawn' });
      expect(withdrawn).to.equal(2);
    });
  });

  describe('childcare.waitlist', () => {
    it('moves an expired offer on to the next in line', async () => {
      const centre = await makeChildcareCentre();
      const session = await makeSession(centre, { date: shanghaiDayFromNow(3), capacity: 1 });
      const full = await findChildcareSession(String(session._id));
      const [a, b, c] = await Promise.all([makeResident(), makeResident(), makeResident()]);
      const kids = await Promise.all([a!, b!, c!].map((p) => makeChild(p)));
      const now = new Date();
      const first = await bookChildcare(childcareDeps(), asSelf(a!), full, kids[0]!, { healthDeclaration: { healthy: true } }, now);
      await bookChildcare(childcareDeps(), asSelf(b!), full, kids[1]!, { healthDeclaration: { healthy: true } }, now);
      await bookChildcare(childcareDeps(), asSelf(c!), full, kids[2]!, { healthDeclaration: { healthy: true } }, now);
      if (first.kind !== 'booked') throw new Error('expected a place');
      await cancelChildcareBooking(childcareDeps(), asSelf(a!), first.booking, false, undefined, now);
      const offered = await ChildcareWaitlistEntry.findOne({ child: kids[1]!._id }).lean();
      expect(offered!.status).to.equal('offered');

      await tickEverywhere('childcare.waitlist', new Date(offered!.offerExpiresAt!.getTime() + 1_000));
      expect((await ChildcareWaitlistEntry.findOne({ child: kids[1]!._id }).lean())!.status).to.equal('expired');
      expect((await ChildcareWaitlistEntry.findOne({ child: kids[2]!._id }).lean())!.status).to.equal('offered');
    });
  });

  describe('volunteers.enqueueReminders', () => {
    it('reminds a volunteer 24 h and 1 h before, once, and withdraws on release', async () => {
      const community = await makeCommunity();
      const volunteer = await makeVolunteer({ community: community._id });
      const start = new Date(Math.ceil((Date.now() + 30 * 3_600_000) / 60_000) * 60_000);
      const task = await makeTask(await makeFacility(community), { title: '长者探访', start, end: new Date(start.getTime() + 7_200_000) });
      const assignment = await claimVolunteerTask(task, volunteer, asSelf(volunteer));

      const runAt = new Date(start.getTime() - 25 * 3_600_000 + 60_000);
      await tickEverywhere('volunteers.enqueueReminders', runAt);
      await tickEverywhere('volunteers.enqueueReminders', new Date(runAt.getTime() + 300_000));
      const notes = await Notification.find({ person: volunteer._id, kind: 'volunteer_task_reminder' }).sort({ dueAt: 1 }).lean();
      expect(notes.map((n) => n.dueAt.getTime())).to.deep.equal([start.getTime() - 24 * 3_600_000, start.getTime() - 3_600_000]);
      expect(notes[0]!.text).to.include('长者探访');

      await releaseAssignment(assignment, asSelf(volunteer), config.volunteers, runAt);
      expect(await NotificationResult.countDocuments({ notification: trusted({ $in: notes.map((n) => n._id) }), outcome: 'withdrawn' })).to.equal(2);
    });
  });

  describe('volunteers.monthlyVisits', () => {
    it('creates one visit task per elder tagged 特困 or 独居 for the month, however often it runs', async () => {
      const community = await makeCommunity();
      await makeFacility(community);
      const [alone, poor] = await Promise.all([
        makeResident({ community: community._id, tags: ['独居'] }),
        makeResident({ community: community._id, tags: ['特困'] }),
        makeResident({ community: community._id }),
      ]);
      const now = atShanghai(`${shanghaiDay(new Date()).slice(0, 7)}-01`, '06:00');
      await tickEverywhere('volunteers.monthlyVisits', now);
      await tickEverywhere('volunteers.monthlyVisits', new Date(now.getTime() + 86_400_000));
      const visits = await VolunteerTask.find({ type: 'elderly_visit', community: community._id }).lean();
      expect(visits.map((v) => String(v.visitFor)).sort()).to.deep.equal([String(alone!._id), String(poor!._id)].sort());
    });
  });
});
