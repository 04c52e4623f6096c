import Joi from 'joi';
import { listMyRoomBookings } from '../../../commands/roomBookingList.js';
import type { OwnListPage } from '../../../commands/monthWalk.js';
import { nextPage } from '../common.js';
import { beneficiary } from '../../../commands/actingFor.js';
import {
  approveRoomBooking, cancelRoomBooking, checkInRoomBooking, createRoomBooking, findRoom, findRoomBooking,
  moveRoomBooking, rejectRoomBooking,
} from '../../../commands/roomBookings.js';
import { idempotent } from '../../../middlewares/idempotency.js';
import { authorize, can } from '../../../policies/index.js';
import { roomBookingHistoryNames } from '../../../commands/roomBookingHistory.js';
import { presentRoomBooking, presentRoomBookingHistory } from '../../../presenters/roomBooking.js';
import type { ApiRouter } from '../../apiRouter.js';
import type { RouteDeps } from '../deps.js';
import {
  BookingParams, CancelBody, CheckInBody, CreateRoomBookingBody, MineQuery, MoveBody, RejectBody, RoomBookingDetailResponse, RoomBookingResponse, RoomParams,
} from './schema.js';

const tags = ['活动室预约'];
const rules = {
  400: { description: 'A booking rule refused it (booking_misaligned, booking_too_soon, booking_outside_hours, too_many_attendees…)' },
  403: { description: 'forbidden, booking_blocked, resident_not_verified' },
  409: { description: 'slot_taken, weekly_quota_exceeded, room_blacked_out, invalid_transition, booking_changed' },
};

/** Booking a room, and everything that happens to a booking afterwards. */
export function registerRoomBookingRoutes(api: ApiRouter, deps: RouteDeps): void {
  const before = [deps.authenticate];
  const rooms = deps.roomBooking;

  api.route({
    claims: true,
    method: 'post', path: '/rooms/:roomId/bookings', operationId: 'roomBookings.create', summary: '预约活动室', tags,
    description: 'Send an Idempotency-Key header so that a retried request books once. forPerson: book for an elder you act for (代办).',
    before: [...before, deps.limit('booking'), idempotent(deps.redis)],
    schema: { params: RoomParams, body: CreateRoomBookingBody },
    responses: { 201: { description: 'Booked (confirmed, or pending approval)', schema: RoomBookingResponse }, ...rules },
    handler: async (ctx) => {
      const { user } = ctx.state;
      const room = await findRoom(ctx.state.input.params.roomId as string);
      authorize(user, 'book', room);
      const body = ctx.state.input.body as { start: Date; end: Date; purpose: string; attendees: number; forPerson?: string; paid?: boolean };
      const forPerson = await beneficiary(user, body.forPerson);
      const booking = await createRoomBooking(rooms, user, room, forPerson, body);
      ctx.status = 201;
      ctx.body = presentRoomBooking(booking);
    },
  });

  api.route({
    method: 'get', path: '/room-bookings/mine', operationId: 'roomBookings.mine', summary: '我的活动室预约（或我代办的老人的）', tags, before,
    description: 'By default the bookings from today on, soonest first; `when=past`: the earlier ones, newest first. `next` gives the following page (`after`).',
    schema: { query: MineQuery },
    responses: { 200: { description: 'One page', schema: Joi.object({ items: Joi.array().items(RoomBookingResponse), next: nextPage }) } },
    handler: async (ctx) => {
      const { forPerson, ...page } = ctx.state.input.query as OwnListPage & { forPerson?: string };
      const person = await beneficiary(ctx.state.user, forPerson);
      const { items, next } = await listMyRoomBookings(person._id, page);
      ctx.body = { items: items.map(presentRoomBooking), next };
    },
  });

  api.route({
    method: 'get', path: '/room-bookings/:bookingId', operationId: 'roomBookings.get', summary: '查看一条活动室预约', tags, before,
    description: 'The facility\'s staff (and admins) also get `history`: every change, who made it, when and why (a move: where it was before).',
    schema: { params: BookingParams },
    responses: { 200: { description: 'The booking', schema: RoomBookingDetailResponse }, 403: { description: 'forbidden' }, 404: { description: 'not_found' } },
    handler: async (ctx) => {
      const booking = await findRoomBooking(ctx.state.input.params.bookingId as string);
      authorize(ctx.state.user, 'read', booking);
      if (!can(ctx.state.user, 'viewHistory', booking)) {
        ctx.body = presentRoomBooking(booking);
        return;
      }
      const names = await roomBookingHistoryNames(booking);
      ctx.body = { ...presentRoomBooking(booking), history: presentRoomBookingHistory(booking.history, names) };
    },
  });

  api.route({
    claims: true,
    method: 'post', path: '/room-bookings/:bookingId/cancel', operationId: 'roomBookings.cancel', summary: '取消活动室预约', tags, before,
    description: 'Residents before the start; staff at any time, with a reason the resident is told.',
    schema: { params: BookingParams, body: CancelBody },
    responses: { 200: { description: 'Cancelled', schema: RoomBookingResponse }, ...rules },
    handler: async (ctx) => {
      const { user } = ctx.state;
      const booking = await findRoomBooking(ctx.state.input.params.bookingId as string);
      authorize(user, 'cancel', booking);
      const asStaff = can(user, 'cancelAsStaff', booking);
      ctx.body = presentRoomBooking(await cancelRoomBooking(rooms, user, booking, asStaff, ctx.state.input.body.reason as string | undefined));
    },
  });

  api.route({
    claims: true,
    method: 'post', path: '/room-bookings/:bookingId/approve', operationId: 'roomBookings.approve', summary: '审核通过（工作人员）', tags, before,
    schema: { params: BookingParams },
    responses: { 200: { description: 'Confirmed', schema: RoomBookingResponse }, ...rules },
    handler: async (ctx) => {
      const booking = await findRoomBooking(ctx.state.input.params.bookingId as string);
      authorize(ctx.state.user, 'approve', booking);
      ctx.body = presentRoomBooking(await approveRoomBooking(rooms, ctx.state.user, booking));
    },
  });

  api.route({
    claims: true,
    method: 'post', path: '/room-bookings/:bookingId/reject', operationId: 'roomBookings.reject', summary: '审核不通过（工作人员）', tags, before,
    schema: { params: BookingParams, body: RejectBody },
    responses: { 200: { description: 'Rejected', schema: RoomBookingResponse }, ...rules },
    handler: async (ctx) => {
      const booking = await findRoomBooking(ctx.state.input.params.bookingId as string);
      authorize(ctx.state.user, 'reject', booking);
      ctx.body = presentRoomBooking(await rejectRoomBooking(rooms, ctx.state.user, booking, ctx.state.input.body.reason as string));
    },
  });

  api.route({
    claims: true,
    method: 'post', path: '/room-bookings/:bookingId/move', operationId: 'roomBookings.move', summary: '调整预约时间或活动室（工作人员）', tags, before,
    schema: { params: BookingParams, body: MoveBody },
    responses: { 200: { description: 'Moved; the resident is told', schema: RoomBookingResponse }, ...rules },
    handler: async (ctx) => {
      const booking = await findRoomBooking(ctx.state.input.params.bookingId as string);
      authorize(ctx.state.user, 'move', booking);
      const { roomId, start, end, reason } = ctx.state.input.body as { roomId?: string; start: Date; end: Date; reason: string };
      const target = await findRoom(roomId ?? String(booking.room));
      authorize(ctx.state.user, 'manage', target);
      ctx.body = presentRoomBooking(await moveRoomBooking(rooms, ctx.state.user, booking, target, start, end, reason));
    },
  });

  api.route({
    claims: true,
    method: 'post', path: '/room-bookings/:bookingId/check-in', operationId: 'roomBookings.checkIn', summary: '签到（输入活动室门口的签到码）', tags, before,
    schema: { params: BookingParams, body: CheckInBody },
    responses: { 200: { description: 'Checked in', schema: RoomBookingResponse }, ...rules },
    handler: async (ctx) => {
      const booking = await findRoomBooking(ctx.state.input.params.bookingId as string);
      authorize(ctx.state.user, 'checkIn', booking);
      const room = await findRoom(String(booking.room));
      ctx.body = presentRoomBooking(await checkInRoomBooking(rooms, ctx.state.user, booking, room, ctx.state.input.body.code as string));
    },
  });
}
