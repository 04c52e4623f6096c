import { shanghaiDay } from '../../../../models/calendar.js';
import { findRoomBooking } from '../../../commands/roomBookings.js';
import { rateRoomBooking, roomRatingReport, type RoomRatingRequest } from '../../../commands/roomRatings.js';
import { findFacility } from '../../../commands/rooms.js';
import { authorize } from '../../../policies/index.js';
import { presentRoomRating } from '../../../presenters/roomBooking.js';
import type { ApiRouter } from '../../apiRouter.js';
import type { RouteDeps } from '../deps.js';
import { FacilityParams } from './manageSchema.js';
import { BookingParams, RatingBody, RatingReportResponse, RatingResponse, RatingsQuery } from './schema.js';

const tags = ['活动室预约'];

/** 好差评 of room bookings: the resident rates a use once; the facility's staff see the report. */
export function registerRoomRatingRoutes(api: ApiRouter, deps: RouteDeps): void {
  const before = [deps.authenticate];

  api.route({
    method: 'post', path: '/room-bookings/:bookingId/rating', operationId: 'roomBookings.rate', summary: '好差评（使用活动室后）', tags, before,
    schema: { params: BookingParams, body: RatingBody },
    responses: {
      201: { description: 'Rated', schema: RatingResponse },
      403: { description: 'forbidden: not the resident, nor who booked for them' },
      404: { description: 'not_found' },
      409: { description: 'room_booking_not_rateable, already_rated' },
    },
    handler: async (ctx) => {
      const booking = await findRoomBooking(ctx.state.input.params.bookingId as string);
      authorize(ctx.state.user, 'rate', booking);
      ctx.status = 201;
      ctx.body = presentRoomRating(await rateRoomBooking(ctx.state.user, booking, ctx.state.input.body as unknown as RoomRatingRequest));
    },
  });

  api.route({
    method: 'get', path: '/facilities/:facilityId/room-ratings', operationId: 'rooms.ratingReport', summary: '活动室好差评汇总（工作人员）', tags, before,
    description: 'Counts per room and the latest comments (without who wrote them) for uses between from and to (Shanghai days); default: the last 30 days.',
    schema: { params: FacilityParams, query: RatingsQuery },
    responses: {
      200: { description: 'The report', schema: RatingReportResponse },
      403: { description: 'forbidden: not staff of this facility' },
      404: { description: 'not_found' },
    },
    handler: async (ctx) => {
      const facility = await findFacility(ctx.state.input.params.facilityId as string);
      authorize(ctx.state.user, 'viewRoomRatings', facility);
      const q = ctx.state.input.query as { from?: string; to?: string };
      const to = q.to ?? shanghaiDay(new Date());
      const from = q.from ?? shanghaiDay(new Date(Date.now() - 29 * 86_400_000));
      ctx.body = await roomRatingReport(facility._id, from, to);
    },
  });
}
