import { Schema, model, type HydratedDocumentFromSchema, type InferRawDocTypeFromSchema } from 'mongoose';
import { keepDayOfStart } from './dayOfStart.js';

export const ROOM_BOOKING_STATUSES = [
  'pending', 'confirmed', 'checked_in', 'completed', 'cancelled', 'rejected', 'released_no_show',
] as const;
export type RoomBookingStatus = (typeof ROOM_BOOKING_STATUSES)[number];

/**
 * A booking of a room for a time range. The room's 30-minute units are held by CapacityClaims
 * (key `room:<room>`), which is what prevents double booking; this document records the
 * booking, who made it for whom (代办), and its history.
 */
const roomBookingSchema = new Schema(
  {
    room: { type: Schema.Types.ObjectId, ref: 'Room', required: true },
    facility: { type: Schema.Types.ObjectId, ref: 'Facility', required: true },
    community: { type: Schema.Types.ObjectId, ref: 'Community', required: true },
    /** Whose booking it is (counts against their quota and no-shows). */
    bookedFor: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    /** Who made it: the resident, a proxy, or staff. */
    bookedBy: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    start: { type: Date, required: true },
    end: { type: Date, required: true },
    purpose: { type: String, required: true, trim: true },
    attendees: { type: Number, required: true, min: 1 },
    status: { type: String, enum: ROOM_BOOKING_STATUSES, required: true },
    /** Bumped by each transition; transitions claim `state:<id>` slot version+1 (see stateMachine.ts). */
    version: { type: Number, required: true, default: 0 },
    /** Set when booked as part of a weekly series. */
    series: { type: String },
    /**
     * The Shanghai day of `start` ('YYYY-MM-DD'): the staff reports read a day's bookings by
     * `{community, day}` equality (src/commands/dailyFigures.ts). Set on insert and on every
     * change of `start` (the hooks below, and createRoomBooking's driver insert); records older
     * than the field get it from backfillDays() at start.
     */
    day: { type: String },
    /**
     * The Shanghai month of `start` ('YYYY-MM'): a resident's own list reads a month at a time,
     * newest first (`{bookedFor, month}` equality, src/commands/roomBookingList.ts). Kept with
     * `day`; backfilled at start by backfillMonthsOfStart().
     */
    month: { type: String },
    /** Monday of the Shanghai week, for the weekly quota claim. */
    quotaWeek: { type: String, required: true },
    checkedInAt: { type: Date },
    /** Staff attention: e.g. a blackout was declared over this booking. */
    flag: { reason: { type: String }, at: { type: Date } },
    /**
     * Every change: from → to status (from null when created; from = to for a move), when, by
     * whom, why; a move also records where the booking was before (`was`).
     */
    history: {
      type: [{
        _id: false, from: String, to: String, at: Date, by: Schema.Types.ObjectId, reason: String,
        was: { type: new Schema({ room: Schema.Types.ObjectId, start: Date, end: Date }, { _id: false }), default: undefined },
      }],
      default: [],
    },
  },
  { timestamps: true },
);
// The staff grid (facility, day), residents' lists, the no-show sweep and series.
roomBookingSchema.index({ facility: 1, start: 1 });
roomBookingSchema.index({ room: 1, start: 1 });
roomBookingSchema.index({ bookedFor: 1, start: -1 });
roomBookingSchema.index({ bookedFor: 1, month: 1 });
roomBookingSchema.index({ status: 1, start: 1 });
roomBookingSchema.index({ series: 1 });
roomBookingSchema.index({ community: 1, day: 1 });
keepDayOfStart(roomBookingSchema, { month: true });

export type RoomBookingFields = InferRawDocTypeFromSchema<typeof roomBookingSchema>;
export type RoomBookingDoc = HydratedDocumentFromSchema<typeof roomBookingSchema>;
export const RoomBooking = model('RoomBooking', roomBookingSchema);
