import { expect } from 'chai';
import { Types } from 'mongoose';
import { atShanghai } from '../models/calendar.js';
import {
  CHILDCARE_CLASS_TYPES, ChildcareBooking, MealOrder, MealRating, RoomBooking, ServiceRating,
  type ChildcareBookingStatus, type CommunityDoc, type FacilityDoc, type MealOrderStatus, type PersonDoc, type RoomBookingStatus, type RoomDoc,
} from '../models/index.js';
import {
  makeAssignment, makeChildcareCentre, makeCommunity, makeFacility, makeKitchen, makeResident, makeRoom, makeSession, makeStaff, makeTask, makeVolunteer,
} from './factories/index.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { useCleanStorage } from './support/storage.js';

const at = (day: string, time: string) => atShanghai(day, time);

describe('GET /api/v1/communities/:id/dashboard', () => {
  useCleanStorage();

  let request: ReturnType<typeof createTestApp>['request'];
  let community: CommunityDoc;
  let kitchen: FacilityDoc;
  let centre: FacilityDoc;
  let hall: RoomDoc;
  let staff: PersonDoc;
  let admin: PersonDoc;
  let otherStaff: PersonDoc;
  let resident: PersonDoc;
  const path = (c: { _id: Types.ObjectId }, query = '?from=2030-03-04&to=2030-03-06') => `/api/v1/communities/${c._id}/dashboard${query}`;

  const order = (date: string, mode: 'dine_in' | 'pickup' | 'delivery', quantity: number, status: MealOrderStatus) => MealOrder.create({
    menu: new Types.ObjectId(), kitchen: kitchen._id, community: community._id, date, meal: 'lunch',
    bookedFor: resident._id, bookedBy: resident._id, mode, quantity, status,
    breakdown: { unitPrice: 1200, quantity, tier: null, subsidisedPrice: 1200, subsidy: 0, deliveryFee: 0, toPay: 1200 * quantity },
  });
  const booking = (day: string, from: string, to: string, status: RoomBookingStatus) => RoomBooking.create({
    room: hall._id, facility: centre._id, community: community._id, bookedFor: resident._id, bookedBy: resident._id,
    start: at(day, from), end: at(day, to), purpose: '活动', attendees: 5, status, quotaWeek: '2030-W10',
  });

  before(async () => {
    ({ request } = createTestApp());
    community = await makeCommunity();
    const other = await makeCommunity();
    kitchen = await makeKitchen(community);
    centre = await makeFacility(community);
    hall = await makeRoom(centre, { name: '多功能厅' }); // open 08:00–20:00 every day
    staff = (await makeStaff({ community: community._id })).person;
    admin = (await makeStaff({ community: community._id, roles: ['admin'], staffScope: {} })).person;
    otherStaff = (await makeStaff({ community: other._id })).person;
    resident = await makeResident({ community: community._id });

    // Rooms: 09:30–11:00 and 14:00–15:00 hold the room; a cancelled one and one outside the span do not.
    await booking('2030-03-04', '09:30', '11:00', 'confirmed');
    await booking('2030-03-05', '14:00', '15:00', 'completed');
    await booking('2030-03-05', '16:00', '18:00', 'cancelled');
    await booking('2030-03-07', '09:00', '10:00', 'confirmed');

    // Meals: portions per day and mode; cancelled ones left out.
    await order('2030-03-04', 'dine_in', 2, 'confirmed');
    await order('2030-03-04', 'delivery', 1, 'delivered');
    await order('2030-03-06', 'pickup', 1, 'confirmed');
    await order('2030-03-06', 'dine_in', 3, 'cancelled');

    // Childcare: one session of capacity 8 on the 5th, two places held, a cancellation not.
    const childcareCentre = await makeChildcareCentre(community);
    const session = await makeSession(childcareCentre, { date: '2030-03-05', capacity: 8 });
    const place = (status: ChildcareBookingStatus) => ChildcareBooking.create({
      session: session._id, centre: childcareCentre._id, community: community._id, child: new Types.ObjectId(),
      bookedFor: resident._id, bookedBy: resident._id, date: '2030-03-05', start: session.start, end: session.end,
      classType: CHILDCARE_CLASS_TYPES[0], month: '2030-03', status,
      healthDeclaration: { healthy: true, declaredAt: at('2030-03-05', '07:00'), declaredBy: resident._id },
    });
    await Promise.all([place('picked_up'), place('confirmed'), place('cancelled')]);

    // Volunteers: approved minutes by the task's day; a declined assignment does not count.
    const volunteer = await makeVolunteer({ community: community._id });
    await makeAssignment(await makeTask(centre, { start: at('2030-03-06', '09:00'), end: at('2030-03-06', '11:00') }), volunteer!, { approvedMinutes: 90 });
    await makeAssignment(await makeTask(centre, { start: at('2030-03-04', '09:00'), end: at('2030-03-04', '11:00') }), volunteer!, { status: 'declined', approvedMinutes: 0 });

    // Ratings: meals and rooms together, per day.
    await MealRating.create({ order: new Types.ObjectId(), menu: new Types.ObjectId(), kitchen: kitchen._id, community: community._id, date: '2030-03-04', person: resident._id, by: resident._id, good: true });
    await ServiceRating.create({
      service: 'room', subject: new Types.ObjectId(), unit: hall._id, facility: centre._id, community: community._id,
      day: '2030-03-05', person: resident._id, by: resident._id, good: false,
    });
  });

  it('answers the span\'s figures, counted by the server, to the community\'s staff', async () => {
    const res = await request.get(path(community)).set('Authorization', await bearerFor(staff)).expect(200);
    const body = res.body;
    expect(body.days).to.deep.equal(['2030-03-04', '2030-03-05', '2030-03-06']);
    expect(body.rooms).to.deep.include({ bookedHours: 2.5, openHours: 36, utilisation: 0.069 });
    expect(body.rooms.byRoom).to.deep.equal([{ room: String(hall._id), name: '多功能厅', bookedHours: 2.5, openHours: 36, utilisation: 0.069 }]);
    const byHour = Object.fromEntries((body.rooms.byHour as Array<{ hour: number; bookedHours: number }>).filter((h) => h.bookedHours > 0).map((h) => [h.hour, h.bookedHours]));
    expect(byHour).to.deep.equal({ 9: 0.5, 10: 1, 14: 1 });
    expect(body.meals.portions).to.equal(4);
    expect(body.meals.byDay).to.deep.equal([
      { date: '2030-03-04', dine_in: 2, pickup: 0, delivery: 1 },
      { date: '2030-03-05', dine_in: 0, pickup: 0, delivery: 0 },
      { date: '2030-03-06', dine_in: 0, pickup: 1, delivery: 0 },
    ]);
    expect(body.childcare).to.deep.include({ capacity: 8, booked: 2, fillRate: 0.25 });
    expect(body.childcare.byDay[1]).to.deep.equal({ date: '2030-03-05', capacity: 8, booked: 2, fillRate: 0.25 });
    expect(body.volunteers.hours).to.equal(1.5);
    expect(body.volunteers.byDay.map((d: { hours: number }) => d.hours)).to.deep.equal([0, 0, 1.5]);
    expect(body.ratings).to.deep.include({ good: 1, bad: 1 });
    expect(body.ratings.byDay.map((d: { good: number; bad: number }) => [d.good, d.bad])).to.deep.equal([[1, 0], [0, 1], [0, 0]]);
    expect(body.visits).to.have.keys('month', 'elders', 'visited', 'rate');
  });

  it('covers the last 30 days when no span is given, for an admin too', async () => {
    const res = await request.get(path(community, '')).set('Authorization', await bearerFor(admin)).expect(200);
    expect(res.body.days).to.have.length(30);
    expect(res.body.to).to.equal(res.body.days.at(-1));
  });

  it('401 without a token', async () => {
    await request.get(path(community)).expect(401);
  });

  it('403 for a resident and for staff of another community', async () => {
    for (const person of [resident, otherStaff]) {
      const res = await request.get(path(community)).set('Authorization', await bearerFor(person)).expect(403);
      expect(res.body.error.code).to.equal('forbidden');
    }
  });

  it('400 with a Chinese message for a span that ends before it starts or is longer than 62 days', async () => {
    const auth = await bearerFor(staff);
    const backwards = await request.get(path(community, '?from=2030-03-06&to=2030-03-04')).set('Authorization', auth).expect(400);
    expect(backwards.body.error).to.include({ code: 'dashboard_span_invalid', message: '开始日期不能晚于结束日期' });
    const long = await request.get(path(community, '?from=2030-01-01&to=2030-03-31')).set('Authorization', auth).expect(400);
    expect(long.body.error.code).to.equal('dashboard_span_invalid');
    expect(long.body.error.message).to.include('62');
  });

  it('400 for a day that is not a date, an unknown parameter or an operator', async () => {
    const auth = await bearerFor(staff);
    for (const query of ['?from=2030-02-30', '?days=7', '?from[$ne]=x']) {
      const res = await request.get(path(community, query)).set('Authorization', auth).expect(400);
      expect(res.body.error.code).to.equal('validation_error');
    }
  });

  it('404 for a community that does not exist', async () => {
    await request.get(path({ _id: new Types.ObjectId() })).set('Authorization', await bearerFor(admin)).expect(404);
  });
});
