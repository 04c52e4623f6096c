import { Schema, model, type HydratedDocumentFromSchema, type InferRawDocTypeFromSchema } from 'mongoose';
import { TIME_OF_DAY_PATTERN } from './calendar.js';
import { openingHoursPath } from './openingHours.js';
import { invalidatesCachedReads } from '../src/cache/readCache.js';

export const FACILITY_KINDS = ['community_centre', 'kitchen', 'childcare_centre'] as const;
export type FacilityKind = (typeof FACILITY_KINDS)[number];

/** A place of a community: the centre (rooms), a kitchen (助餐点) or a childcare centre. */
const facilitySchema = new Schema(
  {
    community: { type: Schema.Types.ObjectId, ref: 'Community', required: true },
    kind: { type: String, enum: FACILITY_KINDS, required: true },
    name: { type: String, required: true, trim: true },
    address: { type: String, required: true, trim: true },
    /** The facility's public contact number (not personal data). */
    phone: { type: String, trim: true },
    openingHours: openingHoursPath(),
    /**
     * Kitchens (助餐点): the grids and buildings they deliver to (送餐上门). Empty or unset:
     * the whole community. Dine-in and pickup are open to every resident of the community.
     */
    serviceArea: {
      grids: { type: [{ type: String, trim: true }], default: undefined },
      buildings: { type: [{ type: String, trim: true }], default: undefined },
    },
    /** Kitchens: their own order cut-offs ('HH:mm' on the day of the meal); unset = the configured default. */
    mealCutoffs: {
      lunch: { type: String, match: TIME_OF_DAY_PATTERN },
      dinner: { type: String, match: TIME_OF_DAY_PATTERN },
    },
  },
  { timestamps: true },
);

// One name per community: the seed and staff pages find a facility by it.
facilitySchema.index({ community: 1, name: 1 }, { unique: true });
facilitySchema.index({ community: 1, kind: 1 });

export type FacilityFields = InferRawDocTypeFromSchema<typeof facilitySchema>;
export type FacilityDoc = HydratedDocumentFromSchema<typeof facilitySchema>;
// Read on every booking through the read cache; each write makes those reads fresh.
facilitySchema.plugin(invalidatesCachedReads('Facility'));
export const Facility = model('Facility', facilitySchema);
