import { Schema, model, type HydratedDocumentFromSchema } from 'mongoose';
import { keepDayOfStart } from './dayOfStart.js';
import { invalidatesCachedReads } from '../src/cache/readCache.js';

/**
 * claimed → checked_in → checked_out → approved | declined (hours reviewed by staff);
 * claimed → released (by the volunteer), unassigned (by staff), absent (never came), cancelled
 * (the task was cancelled).
 */
export const VOLUNTEER_ASSIGNMENT_STATUSES = [
  'claimed', 'checked_in', 'checked_out', 'approved', 'declined', 'released', 'unassigned', 'absent', 'cancelled',
] as const;
export type VolunteerAssignmentStatus = (typeof VOLUNTEER_ASSIGNMENT_STATUSES)[number];

/** Statuses that hold a place on the task and the volunteer's time. */
export const HOLDING_ASSIGNMENT_STATUSES: VolunteerAssignmentStatus[] = ['claimed', 'checked_in'];

/**
 * One volunteer on one task. The place, the "one claim per volunteer and task" rule and the
 * volunteer's time (no overlapping tasks) are CapacityClaims held by this document's `_id`
 * (`task:<task>`, `task-volunteer:<task>:<volunteer>`, `volunteer-time:<volunteer>`); status
 * changes claim `state:<id>` (stateMachine.ts). Declined hours stay, with their reason.
 */
const volunteerAssignmentSchema = new Schema(
  {
    task: { type: Schema.Types.ObjectId, ref: 'VolunteerTask', required: true },
    volunteer: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    community: { type: Schema.Types.ObjectId, ref: 'Community', required: true },
    facility: { type: Schema.Types.ObjectId, ref: 'Facility' },
    /** Copied from the task: the planned time (lists, the auto check-out sweep, the record). */
    start: { type: Date, required: true },
    end: { type: Date, required: true },
    /**
     * The Shanghai day of `start` ('YYYY-MM-DD'), for the staff reports' equality reads
     * (src/commands/dailyFigures.ts); kept by the hooks below, backfilled by backfillDays().
     */
    day: { type: String },
    /**
     * The Shanghai month of `start` ('YYYY-MM'): the volunteer's own list reads a month at a time,
     * newest first (`{volunteer, month}` equality, src/commands/volunteerAssignmentList.ts).
     * Kept with `day`; backfilled at start by backfillMonthsOfStart().
     */
    month: { type: String },
    /** Who put the volunteer on the task: the volunteer (claim) or staff (assign). */
    assignedBy: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    status: { type: String, enum: VOLUNTEER_ASSIGNMENT_STATUSES, required: true, default: 'claimed' },
    version: { type: Number, required: true, default: 0 },
    checkedInAt: { type: Date },
    checkedOutAt: { type: Date },
    /** Overlap of presence (check-in to check-out) with the planned time. */
    attendedMinutes: { type: Number, min: 0 },
    /** Whether attendance reached the minimum share of the planned time (hours may count). */
    hoursEligible: { type: Boolean },
    /** Set when staff approve: the hours (in minutes) and points credited. */
    approvedMinutes: { type: Number, min: 0 },
    points: { type: Number, min: 0 },
    reviewedBy: { type: Schema.Types.ObjectId, ref: 'Person' },
    reviewedAt: { type: Date },
    declineReason: { type: String, trim: true },
    /** Staff attention, e.g. checked out automatically. */
    flag: { reason: { type: String }, at: { type: Date } },
    history: {
      type: [{ _id: false, from: String, to: String, at: Date, by: Schema.Types.ObjectId, reason: String }],
      default: [],
    },
  },
  { timestamps: true },
);
volunteerAssignmentSchema.index({ task: 1, status: 1 });
volunteerAssignmentSchema.index({ volunteer: 1, start: -1 });
volunteerAssignmentSchema.index({ volunteer: 1, month: 1 });
volunteerAssignmentSchema.index({ status: 1, end: 1 });
volunteerAssignmentSchema.index({ community: 1, status: 1 });
volunteerAssignmentSchema.index({ community: 1, day: 1 });
keepDayOfStart(volunteerAssignmentSchema, { month: true });
// The staff list's pages are read-cached (GET /volunteer-assignments): every write marks them outdated.
volunteerAssignmentSchema.plugin(invalidatesCachedReads('VolunteerAssignment'));

export type VolunteerAssignmentDoc = HydratedDocumentFromSchema<typeof volunteerAssignmentSchema>;
export const VolunteerAssignment = model('VolunteerAssignment', volunteerAssignmentSchema);
