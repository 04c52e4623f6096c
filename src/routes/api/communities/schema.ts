import Joi from 'joi';
import { objectId } from '../common.js';
import { RoomBookingResponse } from '../rooms/schema.js';

export const ListCommunitiesQuery = Joi.object({
  scope: Joi.string().valid('all', 'staff').default('all').label('范围')
    .description('all: every community (names for choosing one); staff: the communities and facilities the caller manages'),
});

export const CommunityResponse = Joi.object({
  id: Joi.string(), name: Joi.string(), district: Joi.string(),
  facilities: Joi.array().items(Joi.object({
    id: Joi.string(), name: Joi.string(), kind: Joi.string().valid('community_centre', 'kitchen', 'childcare_centre'), address: Joi.string(),
    manage: Joi.boolean().description('The caller is staff over it (or an admin)'),
  })),
}).meta({ className: 'Community' });

export const PendingBookingResponse = RoomBookingResponse.keys({
  roomName: Joi.string().allow(null),
  booker: Joi.object({ id: Joi.string(), name: Joi.string().allow(null), phone: Joi.string().allow(null).description('Masked') }),
}).meta({ className: 'PendingRoomBooking' });

export const BookingParams = Joi.object({ bookingId: objectId().required().label('预约') });
export const BookingMessagesResponse = Joi.object({
  items: Joi.array().items(Joi.object({ kind: Joi.string(), text: Joi.string(), at: Joi.date() })),
}).meta({ className: 'RoomBookingMessages' });
