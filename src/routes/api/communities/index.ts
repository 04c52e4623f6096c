import Joi from 'joi';
import { Community } from '../../../../models/community.js';
import { bookingMessages, listCommunities, pendingBookings, PENDING_LIMIT } from '../../../commands/communities.js';
import { findRoomBooking } from '../../../commands/roomBookings.js';
import { findFacility } from '../../../commands/rooms.js';
import { authorize } from '../../../policies/index.js';
import { presentCommunity, presentPendingBooking } from '../../../presenters/community.js';
import type { ApiRouter } from '../../apiRouter.js';
import type { RouteDeps } from '../deps.js';
import { FacilityParams } from '../rooms/manageSchema.js';
import { BookingMessagesResponse, BookingParams, CommunityResponse, ListCommunitiesQuery, PendingBookingResponse } from './schema.js';

/** Communities and their facilities (pickers of the mini-program and the staff console), and the approvals queue. */
export function registerCommunityRoutes(api: ApiRouter, deps: RouteDeps): void {
  const before = [deps.authenticate];

  api.route({
    method: 'get', path: '/communities', operationId: 'communities.list', summary: '社区和服务场所列表', tags: ['社区'], before,
    description: 'scope=all (default): every community with its facilities, for a resident choosing theirs. scope=staff: only what the caller manages (an admin: everything); the staff console builds its pickers from it.',
    schema: { query: ListCommunitiesQuery },
    responses: { 200: { description: 'Communities', schema: Joi.object({ items: Joi.array().items(CommunityResponse) }) } },
    handler: async (ctx) => {
      authorize(ctx.state.user, 'list', Community);
      const listings = await listCommunities(ctx.state.user, ctx.state.input.query.scope as 'all' | 'staff');
      ctx.body = { items: listings.map(presentCommunity) };
    },
  });

  api.route({
    method: 'get', path: '/facilities/:facilityId/pending-bookings', operationId: 'rooms.pendingBookings', summary: '待审核的活动室预约（工作人员）', tags: ['活动室预约'], before,
    description: `Pending bookings not yet over, soonest first (at most ${PENDING_LIMIT}), with the room's name and the booker's name and masked phone.`,
    schema: { params: FacilityParams },
    responses: {
      200: { description: 'The approvals queue', schema: Joi.object({ items: Joi.array().items(PendingBookingResponse) }) },
      403: { description: 'forbidden: not staff of this facility' },
      404: { description: 'not_found' },
    },
    handler: async (ctx) => {
      const facility = await findFacility(ctx.state.input.params.facilityId as string);
      authorize(ctx.state.user, 'manage', facility);
      ctx.body = { items: (await pendingBookings(facility)).map((p) => presentPendingBooking(p, ctx.state.user)) };
    },
  });

  api.route({
    method: 'get', path: '/room-bookings/:bookingId/messages', operationId: 'roomBookings.messages', summary: '居民收到的关于这条预约的通知', tags: ['活动室预约'], before,
    description: 'What the resident was told (approved, rejected, moved, cancelled, reminders), oldest first: the staff console shows it in the booking drawer.',
    schema: { params: BookingParams },
    responses: { 200: { description: 'Messages', schema: BookingMessagesResponse }, 403: { description: 'forbidden' }, 404: { description: 'not_found' } },
    handler: async (ctx) => {
      const booking = await findRoomBooking(ctx.state.input.params.bookingId as string);
      authorize(ctx.state.user, 'read', booking);
      ctx.body = { items: await bookingMessages(booking) };
    },
  });
}
