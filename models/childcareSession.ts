import { Schema, model, type HydratedDocumentFromSchema, type InferRawDocTypeFromSchema } from 'mongoose';
import { isDay, shanghaiDay } from './calendar.js';

/**
 * Class types of 《托育机构设置标准（试行）》: age range in months [min, max), the most
 * children a class may hold, and children per carer.
 * 混龄 (mixed, 18 months+): the standard gives a maximum of 18 but no ratio, so we use 1:5,
 * the strictest ratio that applies to children of 18 months and older (托小班's).
 */
export const CHILDCARE_CLASSES = {
  乳儿班: { minMonths: 6, maxMonths: 12, maxChildren: 10, childrenPerCarer: 3 },
  托小班: { minMonths: 12, maxMonths: 24, maxChildren: 15, childrenPerCarer: 5 },
  托大班: { minMonths: 24, maxMonths: 36, maxChildren: 20, childrenPerCarer: 7 },
  混龄: { minMonths: 18, maxMonths: 36, maxChildren: 18, childrenPerCarer: 5 },
} as const;
export type ChildcareClassType = keyof typeof CHILDCARE_CLASSES;
export const CHILDCARE_CLASS_TYPES = Object.keys(CHILDCARE_CLASSES) as ChildcareClassType[];

/** Places in a session: min(class maximum, carers on shift × children per carer). */
export function sessionCapacity(classType: ChildcareClassType, carers: number): number {
  const cls = CHILDCARE_CLASSES[classType];
  if (!cls) throw new RangeError(`unknown class type: ${String(classType)}`);
  if (!Number.isInteger(carers) || carers < 0) throw new RangeError(`carers must be a whole number ≥ 0, got ${carers}`);
  return Math.min(cls.maxChildren, carers * cls.childrenPerCarer);
}

const nonNegativeInt = { validator: (n: number) => Number.isInteger(n) && n >= 0, message: '{PATH} must be a whole number ≥ 0' };

/**
 * One childcare session (计时托 / 临时托) of a class type at a centre. Places are taken with
 * CapacityClaims (`claimPlaces`, key per session), never with a guarded `$inc` on `booked`:
 * FerretDB v1 does not apply guarded updates atomically (README, "Storage"). `booked` is a
 * display counter only. `sessionCapacity` changes when staff change the carers on shift.
 */
const childcareSessionSchema = new Schema(
  {
    centre: { type: Schema.Types.ObjectId, ref: 'Facility', required: true },
    /** The Shanghai calendar day of `start`, 'YYYY-MM-DD'. */
    date: { type: String, required: true, validate: { validator: isDay, message: 'date must be YYYY-MM-DD' } },
    start: { type: Date, required: true },
    end: { type: Date, required: true },
    classType: { type: String, enum: CHILDCARE_CLASS_TYPES, required: true },
    carersOnShift: { type: Number, required: true, validate: nonNegativeInt },
    /** Defaults to sessionCapacity(); staff may set it lower (never higher). */
    capacity: { type: Number, required: true, validate: nonNegativeInt },
    /**
     * Display only, refreshed from the bookings after each change (it may exceed capacity
     * after staff reduced the carers: children already booked are never dropped).
     */
    booked: { type: Number, required: true, default: 0, validate: nonNegativeInt },
  },
  { timestamps: true },
);

childcareSessionSchema.pre('validate', function () {
  if (!this.classType || !Number.isInteger(this.carersOnShift)) return;
  const max = sessionCapacity(this.classType, this.carersOnShift);
  if (this.capacity === undefined || this.capacity === null) this.capacity = max;
  if (this.capacity > max) this.invalidate('capacity', `capacity cannot exceed ${max} for ${this.classType} with ${this.carersOnShift} carers`);
  if (this.start && this.end && this.end <= this.start) this.invalidate('end', 'a session ends after it starts');
  if (this.start && this.date && shanghaiDay(this.start) !== this.date) this.invalidate('date', 'date must be the Shanghai day of start');
});

childcareSessionSchema.index({ centre: 1, start: 1, classType: 1 }, { unique: true });
childcareSessionSchema.index({ date: 1, classType: 1 });

export type ChildcareSessionFields = InferRawDocTypeFromSchema<typeof childcareSessionSchema>;
export type ChildcareSessionDoc = HydratedDocumentFromSchema<typeof childcareSessionSchema>;
export const ChildcareSession = model('ChildcareSession', childcareSessionSchema);
