import { Schema, model, type HydratedDocumentFromSchema, type InferRawDocTypeFromSchema } from 'mongoose';
import { dayjs } from './calendar.js';
import { TIME_ZONE } from '../src/config.js';

/**
 * Whole months of age on the Shanghai day of `on` (childcare eligibility is the age on the
 * session date). A child born on the 31st turns one month older on the last day of a shorter month.
 */
export function ageInMonths(birthDate: Date, on: Date): number {
  const b = dayjs(birthDate).tz(TIME_ZONE);
  const d = dayjs(on).tz(TIME_ZONE);
  let months = (d.year() - b.year()) * 12 + (d.month() - b.month());
  const lastDay = d.daysInMonth();
  if (d.date() < Math.min(b.date(), lastDay)) months -= 1;
  return months;
}

const guardianSchema = new Schema(
  {
    name: { type: String, required: true, trim: true },
    relation: { type: String, required: true, trim: true },
    phone: { type: String, required: true, trim: true, match: /^1\d{10}$/ },
    /** The parent who authorised this guardian to pick the child up. */
    authorisedBy: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    authorisedAt: { type: Date, required: true },
  },
  { _id: true },
);

/** A child (0–3 years) booked into childcare by a parent; parents may always pick up. */
const childSchema = new Schema(
  {
    parents: {
      type: [{ type: Schema.Types.ObjectId, ref: 'Person' }],
      required: true,
      validate: { validator: (p: unknown[]) => p.length > 0, message: 'a child has at least one parent' },
    },
    name: { type: String, required: true, trim: true },
    /** 00:00 Asia/Shanghai of the birth day. */
    birthDate: { type: Date, required: true },
    allergies: { type: [String], default: [] },
    /** Shown to carers at drop-off; staff views only. */
    healthNotes: { type: String, trim: true },
    /** Non-parents authorised to pick up; each names the parent who authorised them. */
    guardians: { type: [guardianSchema], default: [] },
  },
  {
    timestamps: true,
    methods: {
      ageInMonths(on: Date): number {
        return ageInMonths(this.birthDate, on);
      },
    },
  },
);

childSchema.pre('validate', function () {
  const parents = this.parents ?? [];
  this.guardians.forEach((g, i) => {
    if (g.authorisedBy && !parents.some((p) => p.equals(g.authorisedBy))) {
      this.invalidate(`guardians.${i}.authorisedBy`, 'a guardian must be authorised by one of the child’s parents');
    }
  });
});

childSchema.index({ parents: 1 });

export type ChildFields = InferRawDocTypeFromSchema<typeof childSchema>;
export type ChildDoc = HydratedDocumentFromSchema<typeof childSchema>;
export const Child = model('Child', childSchema);
