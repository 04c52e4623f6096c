import { randomInt } from 'node:crypto';
import { Schema, model, type HydratedDocumentFromSchema, type InferRawDocTypeFromSchema } from 'mongoose';
import { openingHoursPath } from './openingHours.js';
import { invalidatesCachedReads } from '../src/cache/readCache.js';

const positiveInt = { validator: (n: number) => Number.isInteger(n) && n > 0, message: '{PATH} must be a positive whole number' };
const wholeMinutes = { validator: Number.isInteger, message: '{PATH} must be whole minutes' };

/**
 * A bookable room of a community centre (活动室 / 场地), with its own opening hours and
 * booking rules. Every rule number is per room, so staff tune them without a deploy.
 */
const roomSchema = new Schema(
  {
    facility: { type: Schema.Types.ObjectId, ref: 'Facility', required: true },
    name: { type: String, required: true, trim: true },
    capacity: { type: Number, required: true, validate: positiveInt },
    equipment: { type: [String], default: [] },
    openingHours: openingHoursPath(),
    /** Bookings start and end on multiples of this, counted from midnight. */
    slotMinutes: { type: Number, required: true, default: 30, validate: positiveInt },
    minNoticeMinutes: { type: Number, required: true, default: 60, min: 0, validate: wholeMinutes },
    maxAdvanceDays: { type: Number, required: true, default: 14, validate: positiveInt },
    maxDurationMinutes: { type: Number, required: true, default: 240, validate: positiveInt },
    /** Bookings (not hours) one resident may hold in this room per Monday-to-Sunday week. */
    weeklyQuotaPerResident: { type: Number, required: true, default: 3, validate: positiveInt },
    approvalRequired: { type: Boolean, required: true, default: false },
    /** Uses (purposes) that need staff approval even when the room does not, e.g. 收费课程. */
    approvalRequiredFor: { type: [String], default: [] },
    /** Shown on site; a resident enters it to check in. */
    checkInCode: { type: String, required: true, match: /^\d{6}$/, default: () => String(randomInt(0, 1_000_000)).padStart(6, '0') },
  },
  { timestamps: true },
);

roomSchema.pre('validate', function () {
  if (this.slotMinutes && this.maxDurationMinutes % this.slotMinutes !== 0) {
    this.invalidate('maxDurationMinutes', 'maximum duration must be a whole number of slots');
  }
});

// Names are unique within a facility; the day/week grid lists rooms by facility.
roomSchema.index({ facility: 1, name: 1 }, { unique: true });

export type RoomFields = InferRawDocTypeFromSchema<typeof roomSchema>;
export type RoomDoc = HydratedDocumentFromSchema<typeof roomSchema>;
// Read on every booking through the read cache; each write makes those reads fresh.
roomSchema.plugin(invalidatesCachedReads('Room'));
export const Room = model('Room', roomSchema);
