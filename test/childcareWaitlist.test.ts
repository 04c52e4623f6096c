import { expect } from 'chai';
import { trusted, type Types } from 'mongoose';
import { atShanghai, dayjs } from '../models/calendar.js';
import { CapacityClaim, ChildcareBooking, ChildcareSession, ChildcareWaitlistEntry, Notification, type FacilityDoc } from '../models/index.js';
import { cancelChildcareBooking } from '../src/commands/childcareBookings.js';
import { expireWaitlistOffers, offerDeadline, offerFreedPlaces } from '../src/commands/childcarePlaces.js';
import { acceptWaitlistOffer } from '../src/commands/childcareWaitlist.js';
import { loadAuthUser } from '../src/middlewares/authenticate.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { testConfig, testEnvironment } from './support/env.js';
import { useCleanStorage } from './support/storage.js';
import {
  HEALTHY, bornYearsAgo, makeChild, makeChildcareCentre, makeCommunity, makeResident, makeSession, makeStaff, shanghaiDayFromNow,
} from './factories/index.js';

const deps = () => ({ rules: testConfig().childcare, redis: testEnvironment().redis });
const DAY = shanghaiDayFromNow(4);

describe('childcare waitlist', () => {
  useCleanStorage();
  let request: ReturnType<typeof createTestApp>['request'];
  let community: Awaited<ReturnType<typeof makeCommunity>>;
  let centre: FacilityDoc;
  let staffToken: string;
  let minute = 0;

  /** A parent with a child of 20 months, and the parent's token. */
  const family = async () => {
    const parent = await makeResident({ community: community._id, birthDate: bornYearsAgo(30) });
    return { parent, child: await makeChild(parent), token: await bearerFor(parent) };
  };
  type Family = Awaited<ReturnType<typeof family>>;
  const book = (sessionId: unknown, f: Family) =>
    request.post(`/api/v1/childcare-sessions/${sessionId}/bookings`).set('Authorization', f.token)
      .send({ childId: String(f.child._id), healthDeclaration: HEALTHY });
  /** A 托小班 session on DAY with `capacity` places (1 carer: at most 5). */
  const session = (capacity: number, date = DAY) => {
    minute += 5;
    const from = dayjs.utc('2000-01-01T07:00:00Z').add(minute, 'minute').format('HH:mm');
    return makeSession(centre, { date, from, to: '20:00', carersOnShift: 1, capacity });
  };
  const entryOf = async (f: Family, sessionId: Types.ObjectId) => (await ChildcareWaitlistEntry.findOne({ child: f.child._id, session: sessionId }))!;
  const position = async (f: Family, sessionId: Types.ObjectId) =>
    (await request.get(`/api/v1/childcare-waitlist/${(await entryOf(f, sessionId))._id}`).set('Authorization', f.token).expect(200)).body;

  before(async () => {
    ({ request } = createTestApp());
    community = await makeCommunity();
    centre = await makeChildcareCentre(community);
    const staff = (await makeStaff({ community: community._id, staffScope: { community: community._id, facilities: [centre._id] } })).person;
    staffToken = await bearerFor(staff);
  });

  describe('40 concurrent bookings for 5 places', () => {
    let families: Family[];
    let sessionId: Types.ObjectId;
    let results: Array<{ status: number; body: Record<string, unknown> }>;

    before(async () => {
      const s = await session(5);
      sessionId = s._id;
      families = await Promise.all(Array.from({ length: 40 }, family));
      results = await Promise.all(families.map((f) => book(sessionId, f)));
    });

    it('book exactly 5 and put the other 35 on the waitlist', async () => {
      expect(results.filter((r) => r.status === 201)).to.have.length(5);
      expect(results.filter((r) => r.status === 202)).to.have.length(35);
      expect(await ChildcareBooking.countDocuments({ session: sessionId, status: 'confirmed' })).to.equal(5);
      expect(await CapacityClaim.countDocuments({ key: `childcare:${sessionId}` })).to.equal(5);
      expect(await ChildcareWaitlistEntry.countDocuments({ session: sessionId, status: 'waiting' })).to.equal(35);
      const shown = await request.get(`/api/v1/childcare-sessions/${sessionId}`).set('Authorization', staffToken).expect(200);
      expect(shown.body).to.include({ capacity: 5, booked: 5, free: 0, waiting: 35 });
    });

    it('line the 35 up in arrival order: one ticket per request, positions 1…35 by ticket', async () => {
      const tickets = await testEnvironment().redis.get(`childcare:waitlist-seq:${sessionId}`);
      expect(Number(tickets)).to.equal(40);
      const entries = await ChildcareWaitlistEntry.find({ session: sessionId }).sort({ seq: 1 });
      const seqs = entries.map((e) => e.seq);
      expect(new Set(seqs).size).to.equal(35);
      expect(seqs.every((n) => n >= 1 && n <= 40)).to.equal(true);
      const byChild = new Map(families.map((f) => [String(f.child._id), f]));
      const positions = await Promise.all(entries.map(async (e) => (await position(byChild.get(String(e.child))!, sessionId)).position));
      expect(positions).to.deep.equal(Array.from({ length: 35 }, (_, i) => i + 1));
      // What each parent was told when joining, in the race itself, is that same position.
      const told = new Map(families.map((f, i) => [String(f.child._id), results[i]!.body.position]));
      expect(entries.map((e) => told.get(String(e.child)))).to.deep.equal(positions);
      expect(await testEnvironment().redis.zcard(`childcare:waitlist-inflight:${sessionId}`)).to.equal(0);
    });

    it('put later requests behind them, in the order they come', async () => {
      const late = [await family(), await family(), await family()];
      for (const [i, f] of late.entries()) {
        const res = await book(sessionId, f).expect(202);
        expect(res.body).to.include({ status: 'waiting', position: 36 + i });
      }
    });

    it('offer a freed place to the first in line, not to a new request', async () => {
      const bookedRes = results.find((r) => r.status === 201)!;
      const owner = families[results.indexOf(bookedRes)]!;
      const first = (await ChildcareWaitlistEntry.find({ session: sessionId }).sort({ seq: 1 }).limit(1))[0]!;
      await request.post(`/api/v1/childcare-bookings/${bookedRes.body.id}/cancel`).set('Authorization', owner.token).send({}).expect(200);
      const offered = (await ChildcareWaitlistEntry.findById(first._id))!;
      expect(offered.status).to.equal('offered');
      expect(await CapacityClaim.countDocuments({ key: `childcare:${sessionId}`, holder: offered.booking })).to.equal(1);
      const newcomer = await family();
      expect((await book(sessionId, newcomer).expect(202)).body.status).to.equal('waiting');
      expect(await CapacityClaim.countDocuments({ key: `childcare:${sessionId}` })).to.equal(5);
    });
  });

  describe('promotion, decline, expiry and accept', () => {
    it('A cancels → B is offered; B declines → C; C lets it expire → D; D accepts and is booked', async () => {
      const s = await session(1);
      const [a, b, c, d] = [await family(), await family(), await family(), await family()];
      const aRes = await book(s._id, a).expect(201);
      for (const [i, f] of [b, c, d].entries()) expect((await book(s._id, f).expect(202)).body.position).to.equal(i + 1);

      const before = Date.now();
      await request.post(`/api/v1/childcare-bookings/${aRes.body.id}/cancel`).set('Authorization', a.token).send({}).expect(200);
      const bOffer = await position(b, s._id);
      expect(bOffer).to.include({ status: 'offered', position: null });
      const deadline = new Date(bOffer.offerExpiresAt).getTime();
      expect(deadline).to.be.within(before + 120 * 60_000, Date.now() + 120 * 60_000);
      const note = await Notification.findOne({ person: b.parent._id, kind: 'childcare_waitlist_offer' });
      expect(note!.text).to.include('请在此之前确认');
      expect(await position(c, s._id)).to.include({ status: 'waiting', position: 1 });

      // Not C's turn yet.
      const early = await request.post(`/api/v1/childcare-waitlist/${(await entryOf(c, s._id))._id}/accept`).set('Authorization', c.token)
        .send({ healthDeclaration: HEALTHY }).expect(409);
      expect(early.body.error.code).to.equal('no_offer');

      const declined = await request.post(`/api/v1/childcare-waitlist/${(await entryOf(b, s._id))._id}/leave`).set('Authorization', b.token).expect(200);
      expect(declined.body.status).to.equal('declined');
      const cEntry = await entryOf(c, s._id);
      expect(cEntry.status).to.equal('offered');

      // Expiry: C keeps the offer until its deadline, then the place goes to D; a second run does nothing.
      await expireWaitlistOffers(deps(), new Date(cEntry.offerExpiresAt!.getTime() - 1000));
      expect((await entryOf(c, s._id)).status).to.equal('offered');
      const after = new Date(cEntry.offerExpiresAt!.getTime() + 1000);
      const run = await expireWaitlistOffers(deps(), after);
      expect(run.expired).to.equal(run.offered).and.to.be.at.least(1);
      expect(await expireWaitlistOffers(deps(), after)).to.deep.equal({ expired: 0, offered: 0 });
      expect((await entryOf(c, s._id)).status).to.equal('expired');
      const late = await request.post(`/api/v1/childcare-waitlist/${cEntry._id}/accept`).set('Authorization', c.token)
        .send({ healthDeclaration: HEALTHY }).expect(409);
      expect(late.body.error.code).to.equal('offer_expired');
      expect(await Notification.countDocuments({ person: c.parent._id, kind: 'childcare_waitlist_expired' })).to.equal(1);

      const dEntry = await entryOf(d, s._id);
      expect(dEntry.status).to.equal('offered');
      const stranger = await family();
      await request.post(`/api/v1/childcare-waitlist/${dEntry._id}/accept`).set('Authorization', stranger.token).send({ healthDeclaration: HEALTHY }).expect(403);
      const unwell = await request.post(`/api/v1/childcare-waitlist/${dEntry._id}/accept`).set('Authorization', d.token)
        .send({ healthDeclaration: { healthy: false } }).expect(400);
      expect(unwell.body.error.code).to.equal('health_declaration_required');
      const accepted = await request.post(`/api/v1/childcare-waitlist/${dEntry._id}/accept`).set('Authorization', d.token)
        .send({ healthDeclaration: HEALTHY }).expect(201);
      expect(accepted.body).to.include({ status: 'confirmed', child: String(d.child._id), fromWaitlist: String(dEntry._id), id: String(dEntry.booking) });
      const claims = await CapacityClaim.find({ key: `childcare:${s._id}` });
      expect(claims.map((cl) => String(cl.holder))).to.deep.equal([String(dEntry.booking)]);
      expect((await position(d, s._id)).status).to.equal('accepted');
      await request.post(`/api/v1/childcare-waitlist/${dEntry._id}/accept`).set('Authorization', d.token).send({ healthDeclaration: HEALTHY }).expect(409);
      const mine = await request.get('/api/v1/childcare-waitlist/mine').set('Authorization', d.token).expect(200);
      expect(mine.body.items.map((e: { status: string }) => e.status)).to.deep.equal(['accepted']);
    });

    it('refuses an accept after the deadline even before the expiry job ran', async () => {
      const s = await session(1);
      const [a, b] = [await family(), await family()];
      const aRes = await book(s._id, a).expect(201);
      await book(s._id, b).expect(202);
      await request.post(`/api/v1/childcare-bookings/${aRes.body.id}/cancel`).set('Authorization', a.token).send({}).expect(200);
      const entry = await entryOf(b, s._id);
      const user = await loadAuthUser(String(b.parent._id), 'test');
      const err = await acceptWaitlistOffer(deps(), user, entry, HEALTHY, new Date(entry.offerExpiresAt!.getTime() + 1)).catch((e) => e);
      expect(err.code).to.equal('offer_expired');
      expect(await ChildcareBooking.countDocuments({ session: s._id, status: 'confirmed' })).to.equal(0);
    });

    it('a waiting parent can leave the line; the others move up', async () => {
      const s = await session(1);
      const [a, b, c] = [await family(), await family(), await family()];
      await book(s._id, a).expect(201);
      await book(s._id, b).expect(202);
      await book(s._id, c).expect(202);
      const left = await request.post(`/api/v1/childcare-waitlist/${(await entryOf(b, s._id))._id}/leave`).set('Authorization', b.token).expect(200);
      expect(left.body.status).to.equal('cancelled');
      expect((await position(c, s._id)).position).to.equal(1);
      expect((await book(s._id, b).expect(202)).body.position).to.equal(2); // may join again, at the back
    });

    it('409 session_full instead of the line when the parent asks not to wait', async () => {
      const s = await session(1);
      const [a, b] = [await family(), await family()];
      await book(s._id, a).expect(201);
      const res = await request.post(`/api/v1/childcare-sessions/${s._id}/bookings`).set('Authorization', b.token)
        .send({ childId: String(b.child._id), healthDeclaration: HEALTHY, joinWaitlist: false }).expect(409);
      expect(res.body.error.code).to.equal('session_full');
      expect(await ChildcareWaitlistEntry.countDocuments({ session: s._id })).to.equal(0);
      await book(s._id, b).expect(202);
      expect((await book(s._id, b).expect(409)).body.error.code).to.equal('already_waitlisted');
    });
  });

  describe('offer deadlines close to the session', () => {
    const rules = () => testConfig().childcare;
    it('is 2 hours from the offer, but never later than 1 hour before the start; none within the last hour', () => {
      const now = new Date('2026-03-05T00:00:00Z');
      const start = (minutes: number) => new Date(now.getTime() + minutes * 60_000);
      expect(offerDeadline(rules(), start(24 * 60), now)!.getTime()).to.equal(now.getTime() + 2 * 3_600_000);
      expect(offerDeadline(rules(), start(150), now)!.getTime()).to.equal(start(150).getTime() - 3_600_000);
      expect(offerDeadline(rules(), start(60), now)).to.equal(null);
      expect(offerDeadline(rules(), start(30), now)).to.equal(null);
    });

    it('gives a place freed 90 minutes before the start to the first in line for 30 minutes', async () => {
      const date = shanghaiDayFromNow(5);
      const s = await session(1, date);
      const [a, b] = [await family(), await family()];
      const aRes = await book(s._id, a).expect(201);
      await book(s._id, b).expect(202);
      const now = new Date(s.start.getTime() - 90 * 60_000);
      const user = await loadAuthUser(String(a.parent._id), 'test');
      await cancelChildcareBooking(deps(), user, (await ChildcareBooking.findById(aRes.body.id))!, false, undefined, now);
      const entry = await entryOf(b, s._id);
      expect(entry.status).to.equal('offered');
      expect(entry.offerExpiresAt!.getTime()).to.equal(s.start.getTime() - 60 * 60_000);
    });
  });

  describe('offerFreedPlaces', () => {
    it('offers free places in line order and is idempotent', async () => {
      const s = await session(1);
      const [a, b, c, d] = [await family(), await family(), await family(), await family()];
      await book(s._id, a).expect(201);
      for (const f of [b, c, d]) await book(s._id, f).expect(202);
      await ChildcareSession.updateOne({ _id: s._id }, { $set: { capacity: 3 } }); // e.g. a place freed while nobody ran the job
      expect(await offerFreedPlaces(deps(), s._id)).to.deep.equal({ offered: 2 });
      expect(await offerFreedPlaces(deps(), s._id)).to.deep.equal({ offered: 0 });
      expect((await entryOf(b, s._id)).status).to.equal('offered');
      expect((await entryOf(c, s._id)).status).to.equal('offered');
      expect((await entryOf(d, s._id)).status).to.equal('waiting');
      expect(await CapacityClaim.countDocuments({ key: `childcare:${s._id}`, slot: trusted({ $lt: 3 }) })).to.equal(3);
      expect(await offerFreedPlaces(deps(), '65a1b2c3d4e5f6a7b8c9d0e1')).to.deep.equal({ offered: 0 });
    });

    it('makes no offer for a session that has started', async () => {
      const s = await session(1);
      const [a, b] = [await family(), await family()];
      await book(s._id, a).expect(201);
      await book(s._id, b).expect(202);
      await ChildcareSession.updateOne({ _id: s._id }, { $set: { capacity: 2 } });
      expect(await offerFreedPlaces(deps(), s._id, new Date(s.start.getTime() + 1))).to.deep.equal({ offered: 0 });
      expect(await offerFreedPlaces(deps(), s._id, atShanghai(DAY, '06:00'))).to.deep.equal({ offered: 1 });
    });
  });

  it('lets staff see the line on the attendance sheet', async () => {
    const s = await session(1);
    const [a, b] = [await family(), await family()];
    await book(s._id, a).expect(201);
    await book(s._id, b).expect(202);
    const sheet = await request.get(`/api/v1/childcare-sessions/${s._id}/attendance`).set('Authorization', staffToken).expect(200);
    expect(sheet.body.counts).to.include({ booked: 1, waiting: 1 });
    expect(sheet.body.waitlist[0]).to.include({ child: String(b.child._id), position: 1, childName: b.child.name });
  });
});
