import { Schema, model, type HydratedDocumentFromSchema } from 'mongoose';

export const VOLUNTEER_ABSENCE_KINDS = ['late_release', 'no_show'] as const;
export type VolunteerAbsenceKind = (typeof VOLUNTEER_ABSENCE_KINDS)[number];

/**
 * A volunteer who released a task after the cut-off or never came. One per assignment (unique),
 * so a job or a retry counts it once. Unexcused absences in a calendar year (`year`, Shanghai)
 * suspend the volunteer at VOLUNTEER_ABSENCE_LIMIT; staff may excuse one (it then stops counting).
 */
const volunteerAbsenceSchema = new Schema(
  {
    volunteer: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    assignment: { type: Schema.Types.ObjectId, ref: 'VolunteerAssignment', required: true },
    task: { type: Schema.Types.ObjectId, ref: 'VolunteerTask', required: true },
    community: { type: Schema.Types.ObjectId, ref: 'Community', required: true },
    kind: { type: String, enum: VOLUNTEER_ABSENCE_KINDS, required: true },
    at: { type: Date, required: true },
    year: { type: Number, required: true },
    excused: { type: Boolean, required: true, default: false },
    excusedBy: { type: Schema.Types.ObjectId, ref: 'Person' },
    excusedAt: { type: Date },
    excuseReason: { type: String, trim: true },
  },
  { timestamps: true },
);
volunteerAbsenceSchema.index({ assignment: 1 }, { unique: true });
volunteerAbsenceSchema.index({ volunteer: 1, year: 1 });

export type VolunteerAbsenceDoc = HydratedDocumentFromSchema<typeof volunteerAbsenceSchema>;
export const VolunteerAbsence = model('VolunteerAbsence', volunteerAbsenceSchema);
