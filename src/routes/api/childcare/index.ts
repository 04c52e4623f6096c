import Joi from 'joi';
import { atShanghai } from '../../../../models/calendar.js';
import type { ChildcareClassType } from '../../../../models/childcareSession.js';
import {
  bookChildcare, cancelChildcareBooking, dropOffChild, findChildcareBooking, pickUpChild, resendPickupCode,
  type Collector, type HealthDeclaration,
} from '../../../commands/childcareBookings.js';
import { listChildcareBookings } from '../../../commands/childcareBookingList.js';
import type { OwnListPage } from '../../../commands/monthWalk.js';
import { nextPage } from '../common.js';
import { waitlistPosition } from '../../../commands/childcarePlaces.js';
import {
  childcareAvailability, createChildcareSession, findChildcareCentre, findChildcareSession, sessionAttendance, updateChildcareSession,
  type SessionRequest,
} from '../../../commands/childcareSessions.js';
import { acceptWaitlistOffer, findWaitlistEntry, leaveWaitlist, listWaitlistEntries } from '../../../commands/childcareWaitlist.js';
import { addGuardian, createChild, findChild, removeGuardian, updateChild, type ChildProfile } from '../../../commands/children.js';
import { Child } from '../../../../models/child.js';
import { Person } from '../../../../models/person.js';
import { NotFoundError } from '../../../errors.js';
import { idempotent } from '../../../middlewares/idempotency.js';
import { authorize, can, recordOf } from '../../../policies/index.js';
import { CHILDCARE_BOOKING_REQUEST } from '../../../policies/childcare.js';
import {
  presentAttendance, presentChild, presentChildAtDesk, presentChildcareBooking, presentChildcareSession, presentOverCapacity, presentWaitlistEntry,
} from '../../../presenters/childcare.js';
import type { ApiRouter } from '../../apiRouter.js';
import type { RouteDeps } from '../deps.js';
import {
  AcceptBody, AttendanceResponse, AvailabilityQuery, BookBody, BookingParams, CancelBody, CentreParams, ChildParams, ChildResponse,
  ChildcareBookingResponse, ChildcareSessionResponse, CreateChildBody, CreateSessionBody, DropOffBody, EntryParams, GuardianBody,
  GuardianParams, MineQuery, PickUpBody, SessionParams, SessionUpdateResponse, UpdateChildBody, UpdateSessionBody,
  WaitlistEntryResponse, ParentParams, ChildAtDeskResponse,
} from './schema.js';
import { auditStaffAccess, auditStaffListing } from '../../../commands/audit.js';

const childTags = ['托育·幼儿资料'];
const sessionTags = ['托育时段'];
const bookingTags = ['托育预约'];
const forbidden = { 403: { description: 'forbidden' } };
const notFound = { 404: { description: 'not_found' } };
const bookingRules = {
  400: { description: 'health_declaration_required, validation_error' },
  403: { description: 'forbidden, booking_blocked (no-shows / late cancellations), resident_not_verified' },
  409: { description: 'booking_closed, session_started, age_not_eligible, already_booked, already_waitlisted, monthly_limit_reached, session_full' },
};

const toProfile = (body: Record<string, unknown>): ChildProfile => ({
  ...(body as ChildProfile),
  ...(body.birthDate ? { birthDate: atShanghai(body.birthDate as string, '00:00') } : {}),
});

/** Childcare (社区托育): children and their pick-up people, sessions, bookings, the waitlist, drop-off and pick-up. */
export function registerChildcareRoutes(api: ApiRouter, deps: RouteDeps): void {
  const before = [deps.authenticate];
  const cc = deps.childcare;

  /* ------------------------------------------------------------ children */

  api.route({
    method: 'post', path: '/children', operationId: 'children.create', summary: '登记孩子资料（家长）', tags: childTags, before,
    description: 'The caller is the parent. Birth date decides the class types the child may book (age on the session date).',
    schema: { body: CreateChildBody },
    responses: { 201: { description: 'Registered', schema: ChildResponse }, 400: { description: 'child_age_out_of_range, validation_error' } },
    handler: async (ctx) => {
      const body = ctx.state.input.body as Record<string, unknown>;
      const child = await createChild(ctx.state.user, toProfile(body) as Required<Pick<ChildProfile, 'name' | 'birthDate'>>);
      ctx.status = 201;
      ctx.body = presentChild(child);
    },
  });

  api.route({
    method: 'get', path: '/children/mine', operationId: 'children.mine', summary: '我的孩子', tags: childTags, before,
    responses: { 200: { description: 'The caller\'s children', schema: Joi.object({ items: Joi.array().items(ChildResponse) }) } },
    handler: async (ctx) => {
      const children = await Child.find({ parents: ctx.state.user.person._id }).sort({ birthDate: -1 });
      ctx.body = { items: children.map((c) => presentChild(c)) };
    },
  });

  api.route({
    method: 'get', path: '/children/:childId', operationId: 'children.get', summary: '查看孩子资料', tags: childTags, before,
    schema: { params: ChildParams },
    responses: { 200: { description: 'The child', schema: ChildResponse }, ...forbidden, ...notFound },
    handler: async (ctx) => {
      const child = await findChild(ctx.state.input.params.childId as string);
      authorize(ctx.state.user, 'read', child);
      await auditStaffAccess(ctx.state.user, 'child.read', child.parents[0]!, { requestId: ctx.state.requestId });
      ctx.body = presentChild(child);
    },
  });

  api.route({
    method: 'patch', path: '/children/:childId', operationId: 'children.update', summary: '修改孩子资料（过敏、健康情况…）', tags: childTags, before,
    schema: { params: ChildParams, body: UpdateChildBody },
    responses: { 200: { description: 'Updated', schema: ChildResponse }, 400: { description: 'child_age_out_of_range, validation_error' }, ...forbidden, ...notFound },
    handler: async (ctx) => {
      const child = await findChild(ctx.state.input.params.childId as string);
      authorize(ctx.state.user, 'update', child);
      ctx.body = presentChild(await updateChild(child, toProfile(ctx.state.input.body as Record<string, unknown>)));
    },
  });

  api.route({
    method: 'post', path: '/children/:childId/guardians', operationId: 'children.addGuardian', summary: '授权接送人（家长）', tags: childTags, before,
    description: 'Only a parent may authorise someone else to pick the child up; the record keeps which parent and when.',
    schema: { params: ChildParams, body: GuardianBody },
    responses: { 201: { description: 'Authorised', schema: ChildResponse }, ...forbidden, ...notFound, 409: { description: 'guardian_exists' } },
    handler: async (ctx) => {
      const child = await findChild(ctx.state.input.params.childId as string);
      authorize(ctx.state.user, 'manageGuardians', child);
      const body = ctx.state.input.body as { name: string; relation: string; phone: string };
      ctx.status = 201;
      ctx.body = presentChild(await addGuardian(ctx.state.user, child, body));
    },
  });

  api.route({
    method: 'delete', path: '/children/:childId/guardians/:guardianId', operationId: 'children.removeGuardian', summary: '取消接送授权（家长）', tags: childTags, before,
    schema: { params: GuardianParams },
    responses: { 200: { description: 'Removed', schema: ChildResponse }, ...forbidden, ...notFound },
    handler: async (ctx) => {
      const child = await findChild(ctx.state.input.params.childId as string);
      authorize(ctx.state.user, 'manageGuardians', child);
      ctx.body = presentChild(await removeGuardian(child, ctx.state.input.params.guardianId as string));
    },
  });

  api.route({
    method: 'get', path: '/residents/:personId/children', operationId: 'children.ofParent', summary: '家长的孩子（前台代约托育）', tags: childTags, before,
    description: 'For the desk booking childcare for a parent: whoever may read the parent\'s record (staff of the community, a proxy) sees the children\'s names and ages, not their health notes or guardians.',
    schema: { params: ParentParams },
    responses: { 200: { description: 'Youngest first', schema: Joi.object({ items: Joi.array().items(ChildAtDeskResponse) }) }, ...forbidden, ...notFound },
    handler: async (ctx) => {
      const parent = await Person.findById(ctx.state.input.params.personId as string);
      if (!parent || parent.status === 'anonymised') throw NotFoundError('没有找到这位家长');
      authorize(ctx.state.user, 'read', parent);
      await auditStaffAccess(ctx.state.user, 'child.listForParent', parent._id, { requestId: ctx.state.requestId });
      const children = await Child.find({ parents: parent._id }).sort({ birthDate: -1 });
      ctx.body = { items: children.map((c) => presentChildAtDesk(c)) };
    },
  });

  /* ------------------------------------------------------------ sessions */

  api.route({
    method: 'post', path: '/childcare-centres/:centreId/sessions', operationId: 'childcareSessions.create', summary: '开设托育时段（工作人员）', tags: sessionTags, before,
    description: 'Capacity = min(class maximum, carers on shift × ratio): 乳儿班 10, 1:3; 托小班 15, 1:5; 托大班 20, 1:7; 混龄 18, 1:5. A lower capacity may be given.',
    schema: { params: CentreParams, body: CreateSessionBody },
    responses: {
      201: { description: 'Opened', schema: ChildcareSessionResponse },
      400: { description: 'capacity_above_ratio, session_time_invalid, validation_error' }, ...forbidden, ...notFound,
      409: { description: 'session_exists' },
    },
    handler: async (ctx) => {
      const centre = await findChildcareCentre(ctx.state.input.params.centreId as string);
      authorize(ctx.state.user, 'manage', centre);
      const session = await createChildcareSession(centre, ctx.state.input.body as unknown as SessionRequest);
      ctx.status = 201;
      ctx.body = presentChildcareSession(session, { free: session.capacity, waiting: 0 });
    },
  });

  api.route({
    method: 'get', path: '/childcare-sessions', operationId: 'childcareSessions.availability', summary: '某天的托育时段和空位', tags: sessionTags, before,
    description: 'Sessions of a Shanghai day at one centre, or at the childcare centres of the caller\'s community; optionally one class type.',
    schema: { query: AvailabilityQuery },
    responses: { 200: { description: 'Sessions with free places', schema: Joi.object({ items: Joi.array().items(ChildcareSessionResponse) }) }, ...notFound },
    handler: async (ctx) => {
      const q = ctx.state.input.query as { date: string; centre?: string; classType?: ChildcareClassType };
      const centre = q.centre ? await findChildcareCentre(q.centre) : undefined;
      const rows = await childcareAvailability(ctx.state.user, { date: q.date, centre, classType: q.classType });
      ctx.body = { items: rows.map((r) => presentChildcareSession(r.session, { free: r.free, waiting: r.waiting, booked: r.booked, centreName: r.centreName })) };
    },
  });

  api.route({
    method: 'get', path: '/childcare-sessions/:sessionId', operationId: 'childcareSessions.get', summary: '查看托育时段', tags: sessionTags, before,
    schema: { params: SessionParams },
    responses: { 200: { description: 'The session with its free places', schema: ChildcareSessionResponse }, ...notFound },
    handler: async (ctx) => {
      const session = await findChildcareSession(ctx.state.input.params.sessionId as string);
      authorize(ctx.state.user, 'read', session);
      const rows = await childcareAvailability(ctx.state.user, { date: session.date, centre: session.centre, classType: session.classType });
      const mine = rows.find((r) => String(r.session._id) === String(session._id));
      ctx.body = presentChildcareSession(session, { free: mine?.free ?? 0, waiting: mine?.waiting ?? 0, booked: mine?.booked ?? 0, centreName: session.centre.name });
    },
  });

  api.route({
    claims: true,
    method: 'patch', path: '/childcare-sessions/:sessionId', operationId: 'childcareSessions.update', summary: '调整在岗保育人员（工作人员）', tags: sessionTags, before,
    description: 'Capacity is recomputed. Booked children are never dropped: after a reduction `overCapacity` lists the last-booked children beyond the new capacity. New places are offered to the waitlist.',
    schema: { params: SessionParams, body: UpdateSessionBody },
    responses: { 200: { description: 'Updated', schema: SessionUpdateResponse }, 400: { description: 'capacity_above_ratio, validation_error' }, ...forbidden, ...notFound },
    handler: async (ctx) => {
      const session = await findChildcareSession(ctx.state.input.params.sessionId as string);
      authorize(ctx.state.user, 'manage', session);
      const result = await updateChildcareSession(cc, ctx.state.user, session, ctx.state.input.body as { carersOnShift?: number; capacity?: number });
      ctx.body = { session: presentChildcareSession(result.session), overCapacity: presentOverCapacity(result.overCapacity) };
    },
  });

  api.route({
    method: 'get', path: '/childcare-sessions/:sessionId/attendance', operationId: 'childcareSessions.attendance', summary: '托育时段出勤表（工作人员）', tags: sessionTags, before,
    description: 'Every booking of the session with the child\'s allergies and health notes, the morning check and the pick-up; then the waitlist.',
    schema: { params: SessionParams },
    responses: { 200: { description: 'Attendance', schema: AttendanceResponse }, ...forbidden, ...notFound },
    handler: async (ctx) => {
      const session = await findChildcareSession(ctx.state.input.params.sessionId as string);
      authorize(ctx.state.user, 'attendance', session);
      // Children's allergies, health notes and who picked them up: a staff read of personal data.
      await auditStaffListing(ctx.state.user, 'childcare.attendance', { requestId: ctx.state.requestId });
      const { bookings, line, children } = await sessionAttendance(session);
      ctx.body = presentAttendance(session, bookings, line, children);
    },
  });

  /* ------------------------------------------------------------ bookings */

  api.route({
    claims: true,
    method: 'post', path: '/childcare-sessions/:sessionId/bookings', operationId: 'childcareBookings.create', summary: '预约托育（家长；工作人员在前台代约）', tags: bookingTags,
    description: 'Book by 17:00 the day before; the child\'s age on the session date must fit the class; a health declaration is required; at most 10 a month per child. A full session puts the child on the waitlist (202), first come first served, unless joinWaitlist is false (409 session_full). Send an Idempotency-Key so that a retry books once.',
    before: [...before, deps.limit('booking'), idempotent(deps.redis)],
    schema: { params: SessionParams, body: BookBody },
    responses: {
      201: { description: 'Booked', schema: ChildcareBookingResponse },
      202: { description: 'Full: on the waitlist (position 1 = next in line)', schema: WaitlistEntryResponse },
      ...bookingRules, ...notFound,
    },
    handler: async (ctx) => {
      const { user } = ctx.state;
      const session = await findChildcareSession(ctx.state.input.params.sessionId as string);
      authorize(user, 'book', session);
      const body = ctx.state.input.body as { childId: string; healthDeclaration: HealthDeclaration; joinWaitlist: boolean };
      const child = await findChild(body.childId);
      authorize(user, 'create', recordOf(CHILDCARE_BOOKING_REQUEST, { session, child }));
      const outcome = await bookChildcare(cc, user, session, child, body);
      if (outcome.kind === 'booked') {
        ctx.status = 201;
        ctx.body = presentChildcareBooking(outcome.booking);
      } else {
        ctx.status = 202;
        ctx.body = presentWaitlistEntry(outcome.entry, outcome.position);
      }
    },
  });

  api.route({
    method: 'get', path: '/childcare-bookings/mine', operationId: 'childcareBookings.mine', summary: '我的托育预约', tags: bookingTags, before,
    description: 'The caller\'s bookings (as parent), or one child\'s: by default from today on, soonest first; `when=past`: the earlier ones, newest first. `next` gives the following page (`after`).',
    schema: { query: MineQuery },
    responses: { 200: { description: 'One page', schema: Joi.object({ items: Joi.array().items(ChildcareBookingResponse), next: nextPage }) }, ...forbidden },
    handler: async (ctx) => {
      const { childId, ...page } = ctx.state.input.query as OwnListPage & { childId?: string };
      let filter;
      if (childId) {
        const child = await findChild(childId);
        authorize(ctx.state.user, 'read', child);
        filter = { child: child._id };
      } else {
        filter = { parent: ctx.state.user.person._id };
      }
      const { items, next } = await listChildcareBookings(filter, page);
      ctx.body = { items: items.map(presentChildcareBooking), next };
    },
  });

  api.route({
    method: 'get', path: '/childcare-bookings/:bookingId', operationId: 'childcareBookings.get', summary: '查看托育预约', tags: bookingTags, before,
    schema: { params: BookingParams },
    responses: { 200: { description: 'The booking', schema: ChildcareBookingResponse }, ...forbidden, ...notFound },
    handler: async (ctx) => {
      const booking = await findChildcareBooking(ctx.state.input.params.bookingId as string);
      authorize(ctx.state.user, 'read', booking);
      await auditStaffAccess(ctx.state.user, 'childcare.booking.read', booking.bookedFor, { requestId: ctx.state.requestId });
      ctx.body = presentChildcareBooking(booking);
    },
  });

  api.route({
    claims: true,
    method: 'post', path: '/childcare-bookings/:bookingId/cancel', operationId: 'childcareBookings.cancel', summary: '取消托育预约', tags: bookingTags, before,
    description: 'Parents until the start; after 12:00 the day before it counts like a no-show (lateCancellation). Staff any time, with a reason the parent is told. The place goes to the first in line.',
    schema: { params: BookingParams, body: CancelBody },
    responses: {
      200: { description: 'Cancelled', schema: ChildcareBookingResponse },
      400: { description: 'reason_required' }, ...forbidden, ...notFound,
      409: { description: 'cancel_too_late, invalid_transition, booking_changed' },
    },
    handler: async (ctx) => {
      const { user } = ctx.state;
      const booking = await findChildcareBooking(ctx.state.input.params.bookingId as string);
      authorize(user, 'cancel', booking);
      const asStaff = can(user, 'cancelAsStaff', booking) && user.id !== String(booking.bookedFor);
      ctx.body = presentChildcareBooking(await cancelChildcareBooking(cc, user, booking, asStaff, ctx.state.input.body.reason as string | undefined));
    },
  });

  api.route({
    claims: true,
    method: 'post', path: '/childcare-bookings/:bookingId/drop-off', operationId: 'childcareBookings.dropOff', summary: '入托晨检登记（工作人员）', tags: bookingTags, before,
    description: 'Records the morning health check. A fever turns the child away (status turned_away, not a no-show). Otherwise the parent is sent a one-time pick-up code.',
    schema: { params: BookingParams, body: DropOffBody },
    responses: { 200: { description: 'dropped_off or turned_away', schema: ChildcareBookingResponse }, ...forbidden, ...notFound, 409: { description: 'drop_off_not_open, invalid_transition' } },
    handler: async (ctx) => {
      const booking = await findChildcareBooking(ctx.state.input.params.bookingId as string);
      authorize(ctx.state.user, 'dropOff', booking);
      ctx.body = presentChildcareBooking(await dropOffChild(cc, ctx.state.user, booking, ctx.state.input.body as { temperature: number; notes?: string }));
    },
  });

  api.route({
    claims: true,
    method: 'post', path: '/childcare-bookings/:bookingId/pick-up', operationId: 'childcareBookings.pickUp', summary: '接走登记（工作人员核验取托码和接送人）', tags: bookingTags, before,
    description: 'The collector must be a parent or a guardian the parent authorised (name and phone), and give the one-time code sent to the parent. A refusal is recorded and the centre\'s staff and the parent are alerted.',
    schema: { params: BookingParams, body: PickUpBody },
    responses: {
      200: { description: 'Picked up', schema: ChildcareBookingResponse },
      403: { description: 'pickup_code_invalid, pickup_not_authorised, forbidden' }, ...notFound,
      409: { description: 'already_picked_up (a second pick-up) or not_dropped_off' },
    },
    handler: async (ctx) => {
      const booking = await findChildcareBooking(ctx.state.input.params.bookingId as string);
      authorize(ctx.state.user, 'pickUp', booking);
      const { code, collector } = ctx.state.input.body as { code: string; collector: Collector };
      ctx.body = presentChildcareBooking(await pickUpChild(cc, ctx.state.user, booking, code, collector));
    },
  });

  api.route({
    method: 'post', path: '/childcare-bookings/:bookingId/pickup-code', operationId: 'childcareBookings.resendPickupCode', summary: '重新发送取托码（家长）', tags: bookingTags, before,
    description: 'A new one-time code goes to the parent; the previous one stops working.',
    schema: { params: BookingParams },
    responses: { 202: { description: 'Sent', schema: Joi.object({ sent: Joi.boolean() }) }, ...forbidden, ...notFound, 409: { description: 'already_picked_up or not_dropped_off' } },
    handler: async (ctx) => {
      const booking = await findChildcareBooking(ctx.state.input.params.bookingId as string);
      authorize(ctx.state.user, 'resendPickupCode', booking);
      await resendPickupCode(booking);
      ctx.status = 202;
      ctx.body = { sent: true };
    },
  });

  /* ------------------------------------------------------------ waitlist */

  api.route({
    method: 'get', path: '/childcare-waitlist/mine', operationId: 'childcareWaitlist.mine', summary: '我的托育候补', tags: bookingTags, before,
    responses: { 200: { description: 'Newest session first', schema: Joi.object({ items: Joi.array().items(WaitlistEntryResponse) }) } },
    handler: async (ctx) => {
      const entries = await listWaitlistEntries(ctx.state.user.person._id);
      ctx.body = { items: await Promise.all(entries.map(async (e) => presentWaitlistEntry(e, await waitlistPosition(e)))) };
    },
  });

  api.route({
    method: 'get', path: '/childcare-waitlist/:entryId', operationId: 'childcareWaitlist.get', summary: '查看候补（排第几位、确认期限）', tags: bookingTags, before,
    schema: { params: EntryParams },
    responses: { 200: { description: 'The entry', schema: WaitlistEntryResponse }, ...forbidden, ...notFound },
    handler: async (ctx) => {
      const entry = await findWaitlistEntry(ctx.state.input.params.entryId as string);
      authorize(ctx.state.user, 'read', entry);
      ctx.body = presentWaitlistEntry(entry, await waitlistPosition(entry));
    },
  });

  api.route({
    claims: true,
    method: 'post', path: '/childcare-waitlist/:entryId/accept', operationId: 'childcareWaitlist.accept', summary: '确认候补名额（家长）', tags: bookingTags,
    description: 'Before the offer\'s deadline, with a health declaration; the held place becomes a booking.',
    before: [...before, deps.limit('booking')],
    schema: { params: EntryParams, body: AcceptBody },
    responses: {
      201: { description: 'Booked', schema: ChildcareBookingResponse },
      400: { description: 'health_declaration_required' }, ...forbidden, ...notFound,
      409: { description: 'offer_expired, no_offer, monthly_limit_reached, booking_changed' },
    },
    handler: async (ctx) => {
      const entry = await findWaitlistEntry(ctx.state.input.params.entryId as string);
      authorize(ctx.state.user, 'accept', entry);
      const booking = await acceptWaitlistOffer(cc, ctx.state.user, entry, ctx.state.input.body.healthDeclaration as HealthDeclaration);
      ctx.status = 201;
      ctx.body = presentChildcareBooking(booking);
    },
  });

  api.route({
    claims: true,
    method: 'post', path: '/childcare-waitlist/:entryId/leave', operationId: 'childcareWaitlist.leave', summary: '退出候补或放弃名额（家长）', tags: bookingTags, before,
    description: 'While waiting: leaves the line. While offered: declines, and the place goes to the next in line at once.',
    schema: { params: EntryParams },
    responses: { 200: { description: 'Left', schema: WaitlistEntryResponse }, ...forbidden, ...notFound, 409: { description: 'invalid_transition' } },
    handler: async (ctx) => {
      const entry = await findWaitlistEntry(ctx.state.input.params.entryId as string);
      authorize(ctx.state.user, 'leave', entry);
      ctx.body = presentWaitlistEntry(await leaveWaitlist(cc, ctx.state.user, entry), null);
    },
  });
}
