import Joi from 'joi';
import { Facility } from '../../../../models/facility.js';
import { beneficiary } from '../../../commands/actingFor.js';
import { createBlackout, deleteBlackout, findBlackout, listBlackouts, type BlackoutRequest } from '../../../commands/blackouts.js';
import { freeRooms, roomAvailabilityFromGrid, type FreeRoomsQuery as FreeRoomsRequest } from '../../../commands/roomAvailability.js';
import { findRoom } from '../../../commands/roomBookings.js';
import { createRoom, findFacility, listRooms, updateRoom, type RoomListQuery, type RoomSettings } from '../../../commands/rooms.js';
import { facilitySchedule, forgetScheduleRooms } from '../../../commands/roomSchedule.js';
import { bookRoomSeries, cancelRoomSeries, seriesRefusal, type SeriesRequest, type SeriesResult } from '../../../commands/roomSeries.js';
import { NotFoundError } from '../../../errors.js';
import { idempotent } from '../../../middlewares/idempotency.js';
import { errorBody } from '../../../middlewares/errorHandler.js';
import { authorize, can } from '../../../policies/index.js';
import { presentRoomBooking } from '../../../presenters/roomBooking.js';
import { presentBlackout, presentRoom } from '../../../presenters/room.js';
import type { ApiRouter } from '../../apiRouter.js';
import type { RouteDeps } from '../deps.js';
import {
  AvailabilityQuery, AvailabilityResponse, BlackoutParams, BlackoutResponse, CancelSeriesBody, CancelSeriesResponse,
  CreateBlackoutBody, CreateRoomBody, CreateSeriesBody, FacilityParams, FreeRoomsQuery, ListBlackoutsQuery, ListRoomsQuery,
  RoomResponse, ScheduleQuery, ScheduleResponse, SeriesParams, SeriesRefusedResponse, SeriesResponse, UpdateRoomBody,
} from './manageSchema.js';
import { RoomBookingResponse, RoomParams } from './schema.js';

const roomTags = ['活动室'];
const bookingTags = ['活动室预约'];
const forbidden = { 403: { description: 'forbidden: not staff of this facility' } };
const notFound = { 404: { description: 'not_found' } };

function presentSeries(result: SeriesResult) {
  return {
    series: result.series,
    mode: result.mode,
    booked: result.occurrences.filter((o) => o.status === 'booked').length,
    conflicts: result.occurrences.filter((o) => o.status === 'conflict').length,
    occurrences: result.occurrences,
  };
}

/**
 * Rooms as staff run them (settings, blackouts, the day/week grid) and as residents and the
 * bot look for them (availability, free rooms), plus weekly series of bookings.
 */
export function registerRoomRoutes(api: ApiRouter, deps: RouteDeps): void {
  const before = [deps.authenticate];

  // --- rooms ------------------------------------------------------------------------------

  api.route({
    method: 'post', path: '/facilities/:facilityId/rooms', operationId: 'rooms.create', summary: '新增活动室（工作人员）', tags: roomTags, before,
    description: 'Without openingHours the room takes the facility\'s. An open day must be open at least 8 hours (400 opening_hours_too_short).',
    schema: { params: FacilityParams, body: CreateRoomBody },
    responses: {
      201: { description: 'Created', schema: RoomResponse },
      400: { description: 'opening_hours_too_short, opening_hours_invalid, validation_error' },
      ...forbidden, ...notFound,
      409: { description: 'room_name_taken' },
    },
    handler: async (ctx) => {
      const facility = await findFacility(ctx.state.input.params.facilityId as string);
      authorize(ctx.state.user, 'manage', facility);
      const room = await createRoom(facility, ctx.state.input.body as unknown as RoomSettings & { name: string; capacity: number });
      await forgetScheduleRooms(deps.redis, facility._id);
      ctx.status = 201;
      ctx.body = presentRoom(room, { staff: true });
    },
  });

  api.route({
    method: 'patch', path: '/rooms/:roomId', operationId: 'rooms.update', summary: '修改活动室设置（工作人员）', tags: roomTags, before,
    description: 'Applies to new bookings; existing bookings keep their time and room.',
    schema: { params: RoomParams, body: UpdateRoomBody },
    responses: {
      200: { description: 'Updated', schema: RoomResponse },
      400: { description: 'opening_hours_too_short, opening_hours_invalid, validation_error' },
      ...forbidden, ...notFound,
      409: { description: 'room_name_taken' },
    },
    handler: async (ctx) => {
      const room = await findRoom(ctx.state.input.params.roomId as string);
      authorize(ctx.state.user, 'manage', room);
      const updated = await updateRoom(room, ctx.state.input.body as RoomSettings);
      await forgetScheduleRooms(deps.redis, room.facility._id);
      ctx.body = presentRoom(updated, { staff: true });
    },
  });

  api.route({
    method: 'get', path: '/rooms', operationId: 'rooms.list', summary: '活动室列表', tags: roomTags, before,
    description: 'Filters: facility, minCapacity, equipment (all of them; comma-separated or repeated). Without facility: the rooms of the caller\'s community. checkInCode only for the facility\'s staff.',
    schema: { query: ListRoomsQuery },
    responses: { 200: { description: 'Rooms', schema: Joi.object({ items: Joi.array().items(RoomResponse) }) } },
    handler: async (ctx) => {
      const rooms = await listRooms(ctx.state.user, ctx.state.input.query as unknown as RoomListQuery);
      ctx.body = { items: rooms.map(({ room, staff }) => presentRoom(room, { staff })) };
    },
  });

  api.route({
    method: 'get', path: '/rooms/:roomId', operationId: 'rooms.get', summary: '查看活动室', tags: roomTags, before,
    schema: { params: RoomParams },
    responses: { 200: { description: 'The room', schema: RoomResponse }, ...notFound },
    handler: async (ctx) => {
      const room = await findRoom(ctx.state.input.params.roomId as string);
      authorize(ctx.state.user, 'read', room);
      ctx.body = presentRoom(room, { staff: can(ctx.state.user, 'manage', room) });
    },
  });

  // --- availability -----------------------------------------------------------------------

  api.route({
    method: 'get', path: '/rooms/:roomId/availability', operationId: 'rooms.availability', summary: '某天的空闲时段', tags: roomTags, before,
    description: 'Free ranges of a Shanghai day: opening hours minus booked time, blackouts still in force and time already past, read from the staff grid\'s projection (as free-rooms). Booking rules (notice, advance, quota) still apply, and booking claims the units.',
    schema: { params: RoomParams, query: AvailabilityQuery },
    responses: { 200: { description: 'Free ranges', schema: AvailabilityResponse }, ...notFound },
    handler: async (ctx) => {
      const room = await findRoom(ctx.state.input.params.roomId as string);
      authorize(ctx.state.user, 'read', room);
      ctx.body = await roomAvailabilityFromGrid(deps.redis, room, ctx.state.input.query.date as string);
    },
  });

  api.route({
    method: 'get', path: '/facilities/:facilityId/free-rooms', operationId: 'rooms.free', summary: '某时段空闲的活动室', tags: roomTags, before,
    description: 'Rooms open, not blacked out and not booked for the whole range, with at least minCapacity places and all the equipment asked for. Read from the staff grid\'s projection of the day(s), not from the claims: free does not promise bookable (booking claims the time, and a racing booking loses there).',
    schema: { params: FacilityParams, query: FreeRoomsQuery },
    responses: {
      200: { description: 'Free rooms', schema: Joi.object({ items: Joi.array().items(RoomResponse) }) },
      400: { description: 'range_too_long, range_in_past, validation_error' },
      ...notFound,
    },
    handler: async (ctx) => {
      const facility = await findFacility(ctx.state.input.params.facilityId as string);
      const staff = can(ctx.state.user, 'manage', facility);
      const rooms = await freeRooms(deps.redis, facility._id, ctx.state.input.query as unknown as FreeRoomsRequest);
      ctx.body = { items: rooms.map((r) => presentRoom(r, { staff })) };
    },
  });

  // --- blackouts --------------------------------------------------------------------------

  api.route({
    method: 'post', path: '/facilities/:facilityId/blackouts', operationId: 'blackouts.create', summary: '设置停用时段（工作人员）', tags: roomTags, before,
    description: 'Without roomId the whole facility. New bookings over it are refused (409 room_blacked_out); existing pending and confirmed bookings over it are flagged and listed here, never cancelled silently: move or cancel them with a reason.',
    schema: { params: FacilityParams, body: CreateBlackoutBody },
    responses: {
      201: { description: 'Created, with the bookings it flagged', schema: Joi.object({ blackout: BlackoutResponse, flagged: Joi.array().items(RoomBookingResponse) }) },
      400: { description: 'room_not_in_facility, validation_error' },
      ...forbidden, ...notFound,
    },
    handler: async (ctx) => {
      const facility = await findFacility(ctx.state.input.params.facilityId as string);
      authorize(ctx.state.user, 'manage', facility);
      const { blackout, flagged } = await createBlackout(deps.roomBooking, ctx.state.user, facility, ctx.state.input.body as unknown as BlackoutRequest);
      ctx.status = 201;
      ctx.body = { blackout: presentBlackout(blackout), flagged: flagged.map(presentRoomBooking) };
    },
  });

  api.route({
    method: 'get', path: '/facilities/:facilityId/blackouts', operationId: 'blackouts.list', summary: '停用时段列表（工作人员）', tags: roomTags, before,
    description: 'Blackouts overlapping [from, to); default from now for 90 days.',
    schema: { params: FacilityParams, query: ListBlackoutsQuery },
    responses: { 200: { description: 'Blackouts', schema: Joi.object({ items: Joi.array().items(BlackoutResponse) }) }, ...forbidden, ...notFound },
    handler: async (ctx) => {
      const facility = await findFacility(ctx.state.input.params.facilityId as string);
      authorize(ctx.state.user, 'viewSchedule', facility);
      const q = ctx.state.input.query as { from?: Date; to?: Date };
      const from = q.from ?? new Date();
      const to = q.to ?? new Date(from.getTime() + 90 * 86_400_000);
      ctx.body = { items: (await listBlackouts(facility._id, from, to)).map(presentBlackout) };
    },
  });

  api.route({
    method: 'delete', path: '/blackouts/:blackoutId', operationId: 'blackouts.delete', summary: '取消停用时段（工作人员）', tags: roomTags, before,
    description: 'Flags it set are cleared from bookings no other blackout covers.',
    schema: { params: BlackoutParams },
    responses: { 200: { description: 'Deleted', schema: Joi.object({ deleted: Joi.boolean(), unflagged: Joi.number() }) }, ...forbidden, ...notFound },
    handler: async (ctx) => {
      const blackout = await findBlackout(ctx.state.input.params.blackoutId as string);
      const facility = await Facility.findById(blackout.facility);
      if (!facility) throw NotFoundError('没有找到这条停用安排');
      authorize(ctx.state.user, 'manage', facility);
      const { unflagged } = await deleteBlackout(deps.roomBooking, blackout);
      ctx.body = { deleted: true, unflagged };
    },
  });

  // --- the staff grid ---------------------------------------------------------------------

  api.route({
    method: 'get', path: '/facilities/:facilityId/schedule', operationId: 'rooms.schedule', summary: '活动室日程（日 / 周，工作人员）', tags: roomTags, before,
    description: 'Every room of the facility and every booking starting in the day (days=1) or week (days=7) from date, except cancelled and rejected ones. Bookers\' phones are masked.',
    schema: { params: FacilityParams, query: ScheduleQuery },
    responses: { 200: { description: 'The grid', schema: ScheduleResponse }, ...forbidden, ...notFound },
    handler: async (ctx) => {
      const facility = await findFacility(ctx.state.input.params.facilityId as string);
      authorize(ctx.state.user, 'viewSchedule', facility);
      const { date, days } = ctx.state.input.query as { date: string; days: number };
      ctx.body = await facilitySchedule(deps.redis, facility._id, date, days);
    },
  });

  // --- weekly series ----------------------------------------------------------------------

  api.route({
    claims: true,
    method: 'post', path: '/rooms/:roomId/bookings/series', operationId: 'roomBookings.createSeries', summary: '每周重复预约', tags: bookingTags,
    description: [
      'Weekly at the same Shanghai time, for `weeks` weeks (2–26) or until a date. Every occurrence is listed as booked, free or conflict (reason, and for slot_taken what it collides with).',
      'mode=preview books nothing; free_only books the free occurrences (201; 409 series_nothing_booked when none could be); all_or_nothing books all or none (409 series_conflict with the list).',
      'Each occurrence obeys the room\'s rules on its own: with maxAdvanceDays 14, occurrences further ahead are conflicts (booking_too_far), for staff too. Send an Idempotency-Key header.',
    ].join(' '),
    before: [...before, deps.limit('booking'), idempotent(deps.redis)],
    schema: { params: RoomParams, body: CreateSeriesBody },
    responses: {
      200: { description: 'Preview', schema: SeriesResponse },
      201: { description: 'Booked (free_only: at least one; all_or_nothing: all)', schema: SeriesResponse },
      400: { description: 'series_length_invalid, validation_error' },
      403: { description: 'forbidden, booking_blocked, resident_not_verified' },
      ...notFound,
      409: { description: 'series_conflict, series_nothing_booked: nothing booked; the occurrences say why', schema: SeriesRefusedResponse },
    },
    handler: async (ctx) => {
      const { user } = ctx.state;
      const room = await findRoom(ctx.state.input.params.roomId as string);
      authorize(user, 'book', room);
      const body = ctx.state.input.body as unknown as SeriesRequest & { forPerson?: string };
      const forPerson = await beneficiary(user, body.forPerson);
      const result = await bookRoomSeries(deps.roomBooking, user, room, forPerson, body);
      if (!result.ok) {
        // A refusal that still carries the list, in the standard error shape plus the occurrences.
        ctx.status = 409;
        ctx.body = { ...errorBody(seriesRefusal(result)), ...presentSeries(result) };
        return;
      }
      ctx.status = body.mode === 'preview' ? 200 : 201;
      ctx.body = presentSeries(result);
    },
  });

  api.route({
    claims: true,
    method: 'post', path: '/room-bookings/series/:seriesId/cancel', operationId: 'roomBookings.cancelSeries', summary: '取消整组重复预约', tags: bookingTags, before,
    description: 'Cancels every occurrence still to come. Staff give a reason the resident is told. One occurrence: POST /room-bookings/{bookingId}/cancel.',
    schema: { params: SeriesParams, body: CancelSeriesBody },
    responses: {
      200: { description: 'What was cancelled, and what could not be', schema: CancelSeriesResponse },
      400: { description: 'reason_required' },
      403: { description: 'forbidden' },
      ...notFound,
    },
    handler: async (ctx) => {
      const { cancelled, skipped } = await cancelRoomSeries(deps.roomBooking, ctx.state.user, ctx.state.input.params.seriesId as string,
        ctx.state.input.body.reason as string | undefined);
      ctx.body = { cancelled: cancelled.map(presentRoomBooking), skipped };
    },
  });
}
