import { expect } from 'chai';
import { Types } from 'mongoose';
import {
  ChildcareBooking, ChildcareWaitlistEntry, MealOrder, MealRating, Notification, NotificationRead, RecurringMealOrder, RoomBooking,
  ServiceRating, TimeBankEntry, VolunteerAbsence, VolunteerAssignment, WellnessAlert, WellnessVisit,
} from '../models/index.js';
import { makeChild, makeCommunity, makeProxyLink, makeResident, makeStaff } from './factories/index.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { useCleanStorage } from './support/storage.js';

describe('GET /api/v1/me/export holds everything about the person', () => {
  useCleanStorage();

  it('finds one record of every kind seeded for the person, presented, and none of a neighbour\'s', async () => {
    const { request } = createTestApp();
    const community = await makeCommunity();
    const [me, son, neighbour] = [await makeResident({ community: community._id, name: '导出者' }), await makeResident({ community: community._id }), await makeResident({ community: community._id })];
    await makeProxyLink(son, me);
    const child = await makeChild(me);
    const at = new Date();
    // The stored records, as sparse as a record may be: each export section must find its own.
    const seed = async (model: { collection: { insertOne: (doc: object) => Promise<unknown> } }, doc: object) => {
      const _id = new Types.ObjectId();
      await model.collection.insertOne({ _id, community: community._id, createdAt: at, updatedAt: at, ...doc });
      return String(_id);
    };
    const bookedBy = (person: { _id: Types.ObjectId }) => ({ bookedFor: person._id, bookedBy: person._id });
    const ids = {
      roomBookings: await seed(RoomBooking, { ...bookedBy(me), purpose: '书法', status: 'confirmed', start: at, end: at }),
      mealOrders: await seed(MealOrder, {
        ...bookedBy(me), status: 'confirmed', date: '2030-01-01', meal: 'lunch', mode: 'dine_in', quantity: 1,
        breakdown: { unitPrice: 15, quantity: 1, subsidisedPrice: 12, subsidy: 3, deliveryFee: 0, toPay: 12 },
      }),
      standingMealOrders: await seed(RecurringMealOrder, { ...bookedBy(me), status: 'active' }),
      childcareBookings: await seed(ChildcareBooking, { ...bookedBy(me), child: child._id, status: 'confirmed', start: at, end: at }),
      childcareWaitlist: await seed(ChildcareWaitlistEntry, { ...bookedBy(me), child: child._id, status: 'waiting', seq: 1 }),
      volunteerAssignments: await seed(VolunteerAssignment, { volunteer: me._id, status: 'claimed' }),
      volunteerAbsences: await seed(VolunteerAbsence, { volunteer: me._id, at }),
      timeBank: await seed(TimeBankEntry, { volunteer: me._id, minutes: 60, at }),
      wellnessAlerts: await seed(WellnessAlert, { elder: me._id, kind: 'not_at_home', status: 'open', raisedAt: at }),
      wellnessVisits: await seed(WellnessVisit, { elder: me._id, at, month: '2030-01' }),
      mealRatings: await seed(MealRating, { person: me._id, by: me._id, stars: 5 }),
      roomRatings: await seed(ServiceRating, { person: me._id, by: me._id, good: true }),
      notifications: await seed(Notification, { person: me._id, key: `export:${Date.now()}`, kind: 'test', text: '导出测试消息', dueAt: at }),
    };
    await NotificationRead.create({ notification: ids.notifications, person: me._id, by: me._id, readAt: at });
    // Someone else's records never appear.
    const theirs = await seed(RoomBooking, { ...bookedBy(neighbour), purpose: '别人的', status: 'confirmed', start: at, end: at });

    const res = await request.get('/api/v1/me/export').set('Authorization', await bearerFor(me)).expect(200);
    const body = res.body as Record<string, Array<{ id: string }>> & { person: Record<string, unknown> };
    for (const [section, id] of Object.entries(ids)) {
      expect(body[section], section).to.be.an('array');
      expect(body[section]!.map((r) => r.id), section).to.include(id);
    }
    expect(body.notifications!.find((n) => n.id === ids.notifications)).to.include({ text: '导出测试消息', read: true });
    expect(body.roomBookings!.map((r) => r.id)).not.to.include(theirs);
    // The person as the API presents them (id, not _id; no internal fields), with links and children.
    expect(body.person).to.include({ id: String(me._id), name: '导出者' });
    expect(body.person).not.to.have.any.keys('_id', '__v', 'staffScope');
    expect(body.proxyLinks as unknown as Array<{ role: string }>).to.have.length(1);
    expect((body.children as unknown as Array<{ id: string }>).map((c) => c.id)).to.deep.equal([String(child._id)]);
    expect(body).to.include.keys('signIns', 'accessLog', 'exportedAt');
  });

  it('holds what was booked for the person by their 代办 and what they booked for someone else, each once; needs sign-in', async () => {
    const { request } = createTestApp();
    const community = await makeCommunity();
    const [me, son, elder] = [await makeResident({ community: community._id }), await makeResident({ community: community._id }), await makeResident({ community: community._id })];
    await makeProxyLink(son, me);
    // A link since revoked still brings what was booked through it.
    await makeProxyLink(me, elder, { status: 'revoked' });
    const staff = (await makeStaff({ community: community._id, staffScope: { community: community._id } })).person;
    const at = new Date();
    const order = async (bookedFor: Types.ObjectId, bookedBy: Types.ObjectId) => {
      const _id = new Types.ObjectId();
      await MealOrder.collection.insertOne({
        _id, community: community._id, bookedFor, bookedBy, status: 'confirmed', date: '2030-01-01', meal: 'lunch', mode: 'dine_in', quantity: 1,
        breakdown: { unitPrice: 15, quantity: 1, subsidisedPrice: 12, subsidy: 3, deliveryFee: 0, toPay: 12 }, createdAt: at, updatedAt: at,
      });
      return String(_id);
    };
    const mine = await order(me._id, me._id);
    const bySon = await order(me._id, son._id);
    const forElder = await order(elder._id, me._id);
    const notMine = await order(elder._id, son._id);
    const byStaff = await order(elder._id, staff._id);
    const res = await request.get('/api/v1/me/export').set('Authorization', await bearerFor(me)).expect(200);
    const ids = (res.body.mealOrders as Array<{ id: string }>).map((o) => o.id);
    expect([...ids].sort()).to.deep.equal([mine, bySon, forElder].sort());
    expect(ids).not.to.include(notMine);
    expect(ids).not.to.include(byStaff);
    // Staff book for anyone: a staff member's export holds what they booked for residents.
    const staffExport = await request.get('/api/v1/me/export').set('Authorization', await bearerFor(staff)).expect(200);
    expect((staffExport.body.mealOrders as Array<{ id: string }>).map((o) => o.id)).to.deep.equal([byStaff]);
    await request.get('/api/v1/me/export').expect(401);
  });
});
