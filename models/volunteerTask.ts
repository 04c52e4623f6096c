import { randomInt } from 'node:crypto';
import { Schema, model, type HydratedDocumentFromSchema, type InferRawDocTypeFromSchema } from 'mongoose';

export const VOLUNTEER_TASK_TYPES = ['meal_delivery', 'elderly_visit', 'room_setup', 'childcare_helper', 'event'] as const;
export type VolunteerTaskType = (typeof VOLUNTEER_TASK_TYPES)[number];
export const VOLUNTEER_TASK_STATUSES = ['open', 'full', 'cancelled', 'done'] as const;
export type VolunteerTaskStatus = (typeof VOLUNTEER_TASK_STATUSES)[number];

/** A fresh 6-digit on-site check-in code (leading zeros kept). */
export function newSiteCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

const positiveInt = { validator: (n: number) => Number.isInteger(n) && n > 0, message: '{PATH} must be a positive whole number' };
const nonNegativeInt = { validator: (n: number) => Number.isInteger(n) && n >= 0, message: '{PATH} must be a whole number ≥ 0' };

/**
 * A volunteer task (志愿服务). Places are claimed with CapacityClaims (`claimPlaces`, key per
 * task), never with a guarded `$inc` on `claimedCount`: FerretDB v1 does not apply guarded
 * updates atomically (README, "Storage"). `claimedCount` is a display counter only.
 */
const volunteerTaskSchema = new Schema(
  {
    community: { type: Schema.Types.ObjectId, ref: 'Community', required: true },
    /** The organising facility; unset for community-wide tasks. */
    facility: { type: Schema.Types.ObjectId, ref: 'Facility' },
    type: { type: String, enum: VOLUNTEER_TASK_TYPES, required: true },
    title: { type: String, required: true, trim: true },
    description: { type: String, trim: true, default: '' },
    /** Where to go (a facility, a building); never a resident's full address in a title. */
    place: { type: String, required: true, trim: true },
    start: { type: Date, required: true },
    end: { type: Date, required: true },
    peopleNeeded: { type: Number, required: true, validate: positiveInt },
    claimedCount: { type: Number, required: true, default: 0, validate: nonNegativeInt },
    skillsRequired: { type: [String], default: [] },
    /** Given to volunteers on site; check-in needs it. */
    siteCode: { type: String, required: true, match: /^\d{6}$/, default: newSiteCode },
    status: { type: String, enum: VOLUNTEER_TASK_STATUSES, required: true, default: 'open' },
    /** The staff member who created it; unset when another service did (e.g. a delivery run). */
    createdBy: { type: Schema.Types.ObjectId, ref: 'Person' },
    /** What created it when not staff: 'meals', 'monthly_visit'… */
    source: { type: String, trim: true },
    /** The elder a visit is for (monthly visits); shown to staff and to the volunteers on it. */
    visitFor: { type: Schema.Types.ObjectId, ref: 'Person' },
    cancelledAt: { type: Date },
    cancelReason: { type: String, trim: true },
  },
  { timestamps: true },
);

volunteerTaskSchema.pre('validate', function () {
  if (this.start && this.end && this.end <= this.start) this.invalidate('end', 'a task ends after it starts');
  if (this.claimedCount > this.peopleNeeded) this.invalidate('claimedCount', 'claimed places cannot exceed people needed');
});

// Volunteers' list of open tasks by time; staff's list per facility.
volunteerTaskSchema.index({ community: 1, status: 1, start: 1 });
volunteerTaskSchema.index({ facility: 1, start: 1 });

export type VolunteerTaskFields = InferRawDocTypeFromSchema<typeof volunteerTaskSchema>;
export type VolunteerTaskDoc = HydratedDocumentFromSchema<typeof volunteerTaskSchema>;
export const VolunteerTask = model('VolunteerTask', volunteerTaskSchema);
