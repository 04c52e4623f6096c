import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { CapacityClaim, Child, ChildcareBooking, NoShow, Notification, type ChildDoc, type FacilityDoc, type PersonDoc } from '../models/index.js';
import { bookChildcare } from '../src/commands/childcareBookings.js';
import { findChildcareSession } from '../src/commands/childcareSessions.js';
import { loadAuthUser } from '../src/middlewares/authenticate.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { testConfig, testEnvironment } from './support/env.js';
import { useCleanStorage } from './support/storage.js';
import {
  HEALTHY, bornYearsAgo, makeChild, makeChildcareCentre, makeCommunity, makeResident, makeSessionNow, makeStaff, shanghaiDayFromNow,
} from './factories/index.js';

const deps = () => ({ rules: testConfig().childcare, redis: testEnvironment().redis });
const GRANDMA = { name: '林秀珍', relation: '奶奶', phone: '13800004801' };
const GRANDMA_AT_DOOR = { name: GRANDMA.name, phone: GRANDMA.phone };

describe('childcare children, drop-off and pick-up', () => {
  useCleanStorage();
  let request: ReturnType<typeof createTestApp>['request'];
  let community: Awaited<ReturnType<typeof makeCommunity>>;
  let centre: FacilityDoc;
  let parent: PersonDoc;
  let staff: PersonDoc;
  let auth: { parent: string; staff: string; stranger: string };

  /** A booking of a session running now (booked two days ago), with grandma authorised. */
  const inSession = async (child?: ChildDoc) => {
    const kid = child ?? (await makeChild(parent, { guardians: [{ ...GRANDMA, authorisedBy: parent._id, authorisedAt: new Date() }] }));
    const session = await makeSessionNow(centre);
    const user = await loadAuthUser(String(parent._id), 'test');
    const outcome = await bookChildcare(deps(), user, await findChildcareSession(String(session._id)), kid, { healthDeclaration: HEALTHY },
      new Date(Date.now() - 2 * 86_400_000));
    if (outcome.kind !== 'booked') throw new Error('expected a booking');
    return { booking: outcome.booking, child: kid, session };
  };
  const dropOff = (id: unknown, body: object = { temperature: 36.6, notes: '精神好' }, token = auth.staff) =>
    request.post(`/api/v1/childcare-bookings/${id}/drop-off`).set('Authorization', token).send(body);
  const pickUp = (id: unknown, code: string, collector: object, token = auth.staff) =>
    request.post(`/api/v1/childcare-bookings/${id}/pick-up`).set('Authorization', token).send({ code, collector });
  /** The code in the latest pick-up-code message to the parent. */
  const codeFor = async (bookingId: unknown) => {
    const note = (await Notification.find({ key: new RegExp(`^childcare-booking:${bookingId}:pickup-code:`) }).sort({ createdAt: -1 }).limit(1))[0]!;
    return note.text.match(/取托码 (\d{6})/)![1]!;
  };
  const parentCollector = () => ({ name: parent.name, phone: parent.phone });

  before(async () => {
    ({ request } = createTestApp());
    community = await makeCommunity();
    centre = await makeChildcareCentre(community);
    parent = await makeResident({ community: community._id, birthDate: bornYearsAgo(30) });
    staff = (await makeStaff({ community: community._id, staffScope: { community: community._id, facilities: [centre._id] } })).person;
    auth = { parent: await bearerFor(parent), staff: await bearerFor(staff), stranger: await bearerFor(await makeResident({ community: community._id })) };
  });

  describe('POST /api/v1/children and guardians', () => {
    it('registers a child for the caller, who authorises a guardian (recorded with who and when)', async () => {
      const born = shanghaiDayFromNow(-400);
      const res = await request.post('/api/v1/children').set('Authorization', auth.parent)
        .send({ name: '小米', birthDate: born, allergies: ['鸡蛋'], healthNotes: '湿疹' }).expect(201);
      expect(res.body).to.include({ name: '小米', ageMonths: 13, healthNotes: '湿疹' });
      expect(res.body.parents).to.deep.equal([String(parent._id)]);
      const added = await request.post(`/api/v1/children/${res.body.id}/guardians`).set('Authorization', auth.parent).send(GRANDMA).expect(201);
      expect(added.body.guardians).to.have.length(1);
      expect(added.body.guardians[0]).to.include({ ...GRANDMA, authorisedBy: String(parent._id) });
      expect(added.body.guardians[0].authorisedAt).to.be.a('string');
      const dup = await request.post(`/api/v1/children/${res.body.id}/guardians`).set('Authorization', auth.parent).send(GRANDMA).expect(409);
      expect(dup.body.error.code).to.equal('guardian_exists');
      const mine = await request.get('/api/v1/children/mine').set('Authorization', auth.parent).expect(200);
      expect(mine.body.items.map((c: { id: string }) => c.id)).to.include(res.body.id);
      const patched = await request.patch(`/api/v1/children/${res.body.id}`).set('Authorization', auth.parent).send({ allergies: ['鸡蛋', '芒果'] }).expect(200);
      expect(patched.body.allergies).to.deep.equal(['鸡蛋', '芒果']);
      const removed = await request.delete(`/api/v1/children/${res.body.id}/guardians/${added.body.guardians[0].id}`).set('Authorization', auth.parent).expect(200);
      expect(removed.body.guardians).to.deep.equal([]);
    });

    it('only a parent authorises a guardian: strangers and staff get 403; a non-parent on the record is refused by the model', async () => {
      const child = await makeChild(parent);
      for (const token of [auth.stranger, auth.staff]) {
        await request.post(`/api/v1/children/${child._id}/guardians`).set('Authorization', token).send(GRANDMA).expect(403);
      }
      await request.get(`/api/v1/children/${child._id}`).set('Authorization', auth.stranger).expect(403);
      const stranger = await makeResident({ community: community._id });
      const forged = await Child.updateOne({ _id: child._id }, { $push: { guardians: { ...GRANDMA, authorisedBy: stranger._id, authorisedAt: new Date() } } }, { runValidators: true })
        .then(() => Child.findById(child._id)).then((c) => c!.validate()).catch((e) => e);
      expect((forged as Error).name).to.equal('ValidationError');
    });

    it('refuses a birth date over 3 years ago or in the future, and a bad phone', async () => {
      const old = await request.post('/api/v1/children').set('Authorization', auth.parent).send({ name: '大宝', birthDate: shanghaiDayFromNow(-4 * 365) }).expect(400);
      expect(old.body.error.code).to.equal('child_age_out_of_range');
      await request.post('/api/v1/children').set('Authorization', auth.parent).send({ name: '未出生', birthDate: shanghaiDayFromNow(3) }).expect(400);
      const child = await makeChild(parent);
      const phone = await request.post(`/api/v1/children/${child._id}/guardians`).set('Authorization', auth.parent).send({ ...GRANDMA, phone: '12345' }).expect(400);
      expect(phone.body.error.message).to.include('11 位手机号');
    });
  });

  describe('POST /api/v1/childcare-bookings/:bookingId/drop-off', () => {
    it('records the morning health check and sends the parent a one-time pick-up code, keeping only its hash', async () => {
      const { booking } = await inSession();
      await dropOff(booking._id, undefined, auth.parent).expect(403);
      const res = await dropOff(booking._id).expect(200);
      expect(res.body.status).to.equal('dropped_off');
      expect(res.body.healthCheck).to.include({ temperature: 36.6, notes: '精神好' });
      const code = await codeFor(booking._id);
      const stored = (await ChildcareBooking.findById(booking._id))!;
      expect(stored.pickupCodeHash).to.equal(createHash('sha256').update(`${booking._id}:${code}`).digest('hex'));
      expect(JSON.stringify(stored.toObject())).to.not.include(code === '000000' ? 'never' : `"${code}"`);
      expect(JSON.stringify(res.body)).to.not.include(code);
      const twice = await dropOff(booking._id).expect(409);
      expect(twice.body.error.code).to.equal('invalid_transition');
    });

    it('turns a child with a fever away (not a no-show) and frees the place', async () => {
      const { booking, session } = await inSession();
      const res = await dropOff(booking._id, { temperature: 37.8 }).expect(200);
      expect(res.body.status).to.equal('turned_away');
      expect(await CapacityClaim.countDocuments({ key: `childcare:${session._id}` })).to.equal(0);
      const note = await Notification.findOne({ key: `childcare-booking:${booking._id}:turned-away` });
      expect(note!.text).to.include('37.8℃');
      expect(await NoShow.countDocuments({ booking: booking._id })).to.equal(0);
    });

    it('is open from 1 hour before the start', async () => {
      const child = await makeChild(parent);
      const session = await makeSessionNow(centre, {}, -90); // starts in 90 minutes
      const user = await loadAuthUser(String(parent._id), 'test');
      const outcome = await bookChildcare(deps(), user, await findChildcareSession(String(session._id)), child, { healthDeclaration: HEALTHY }, new Date(Date.now() - 2 * 86_400_000));
      const res = await dropOff(outcome.kind === 'booked' ? outcome.booking._id : '', undefined).expect(409);
      expect(res.body.error.code).to.equal('drop_off_not_open');
    });
  });

  describe('POST /api/v1/childcare-bookings/:bookingId/pick-up', () => {
    it('refuses a wrong code (403 pickup_code_invalid) and alerts the centre\'s staff and the parent', async () => {
      const { booking } = await inSession();
      await dropOff(booking._id).expect(200);
      const code = await codeFor(booking._id);
      const wrong = code === '000000' ? '111111' : '000000';
      const res = await pickUp(booking._id, wrong, GRANDMA_AT_DOOR).expect(403);
      expect(res.body.error.code).to.equal('pickup_code_invalid');
      expect(res.body.error.message).to.include('取托码不正确');
      const alerts = await Notification.find({ key: new RegExp(`^childcare-booking:${booking._id}:pickup-refused`) });
      expect(alerts.map((a) => String(a.person)).sort()).to.deep.equal([String(staff._id), String(parent._id)].sort());
      expect(alerts.find((a) => String(a.person) === String(staff._id))!.text).to.include('取托码不正确');
      const stored = (await ChildcareBooking.findById(booking._id))!;
      expect(stored.status).to.equal('dropped_off');
      expect(stored.pickupRefusals.map((r) => r.reason)).to.deep.equal(['wrong_code']);
    });

    it('refuses a person who is neither a parent nor an authorised guardian, even with the right code (403 pickup_not_authorised)', async () => {
      const { booking, child } = await inSession();
      await dropOff(booking._id).expect(200);
      const code = await codeFor(booking._id);
      const neighbour = { name: '隔壁王阿姨', phone: '13800004802' };
      const res = await pickUp(booking._id, code, neighbour).expect(403);
      expect(res.body.error.code).to.equal('pickup_not_authorised');
      expect(res.body.error.message).to.include(`不是${child.name}的家长或家长授权的接送人`);
      // A guardian's phone with another name is not the guardian either.
      await pickUp(booking._id, code, { ...neighbour, phone: GRANDMA.phone }).expect(403);
      const staffAlerts = await Notification.find({ person: staff._id, key: new RegExp(`^childcare-booking:${booking._id}:pickup-refused`) });
      expect(staffAlerts).to.have.length(2);
      expect(staffAlerts[0]!.text).to.include('来人不是家长或授权接送人');
      expect((await ChildcareBooking.findById(booking._id))!.status).to.equal('dropped_off');
    });

    it('hands the child to an authorised guardian with the right code, once', async () => {
      const { booking } = await inSession();
      await dropOff(booking._id).expect(200);
      const code = await codeFor(booking._id);
      await pickUp(booking._id, code, GRANDMA_AT_DOOR, auth.parent).expect(403); // staff do the hand-over
      const res = await pickUp(booking._id, code, { name: GRANDMA.name, phone: GRANDMA.phone }).expect(200);
      expect(res.body.status).to.equal('picked_up');
      expect(res.body.pickedUp).to.include({ collectorName: '林秀珍', collectorRelation: '奶奶' });
      expect((await ChildcareBooking.findById(booking._id))!.pickupCodeHash).to.equal(undefined);
      const again = await pickUp(booking._id, code, GRANDMA_AT_DOOR).expect(409);
      expect(again.body.error).to.include({ code: 'already_picked_up' });
      expect(again.body.error.message).to.match(/已经被接走/);
      const resend = await request.post(`/api/v1/childcare-bookings/${booking._id}/pickup-code`).set('Authorization', auth.parent).expect(409);
      expect(resend.body.error.code).to.equal('already_picked_up');
      expect(await Notification.countDocuments({ key: `childcare-booking:${booking._id}:picked-up` })).to.equal(1);
    });

    it('hands the child to a parent; a new code replaces the old one', async () => {
      const { booking } = await inSession();
      await request.post(`/api/v1/childcare-bookings/${booking._id}/pickup-code`).set('Authorization', auth.parent).expect(409);
      await dropOff(booking._id).expect(200);
      const first = await codeFor(booking._id);
      await request.post(`/api/v1/childcare-bookings/${booking._id}/pickup-code`).set('Authorization', auth.staff).expect(403);
      await request.post(`/api/v1/childcare-bookings/${booking._id}/pickup-code`).set('Authorization', auth.parent).expect(202);
      const second = await codeFor(booking._id);
      if (first !== second) await pickUp(booking._id, first, parentCollector()).expect(403);
      const res = await pickUp(booking._id, second, parentCollector()).expect(200);
      expect(res.body.pickedUp).to.include({ collectorName: parent.name, collectorRelation: '家长' });
    });

    it('refuses a child not yet dropped off (409 not_dropped_off)', async () => {
      const { booking } = await inSession();
      const res = await pickUp(booking._id, '123456', GRANDMA_AT_DOOR).expect(409);
      expect(res.body.error.code).to.equal('not_dropped_off');
      expect(res.body.error.message).to.match(/尚未入托/);
    });
  });

  it('shows drop-off and pick-up on the attendance sheet', async () => {
    const { booking, session } = await inSession();
    await dropOff(booking._id).expect(200);
    await pickUp(booking._id, await codeFor(booking._id), GRANDMA_AT_DOOR).expect(200);
    const sheet = await request.get(`/api/v1/childcare-sessions/${session._id}/attendance`).set('Authorization', auth.staff).expect(200);
    expect(sheet.body.counts).to.include({ booked: 1, pickedUp: 1 });
    expect(sheet.body.children[0].guardians).to.deep.equal([{ name: '林秀珍', relation: '奶奶' }]);
    expect(sheet.body.children[0].healthCheck.temperature).to.equal(36.6);
  });
});
