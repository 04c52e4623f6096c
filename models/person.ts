import { Schema, model, type HydratedDocumentFromSchema, type InferRawDocTypeFromSchema } from 'mongoose';
import { dayjs } from './calendar.js';
import { TIME_ZONE } from '../src/config.js';
import { invalidatesCachedReads } from '../src/cache/readCache.js';

/** Hardship and care tags staff set on a resident. '80+' is not here: it is derived from age. */
export const RESIDENT_TAGS = ['特困', '低保', '低收入', '独居', '失能', '残疾'] as const;

/** Tags whose elders must have a recorded visit every month (特殊困难老年人月探访). */
export const MONTHLY_VISIT_TAGS = ['特困', '独居'] as const;
export type ResidentTag = (typeof RESIDENT_TAGS)[number];
/** The tag derivedTags() adds from the birth date, never stored (it would go stale). */
export const AGE_80_TAG = '80+';
export const AGE_80_YEARS = 80;
export type DerivedTag = ResidentTag | typeof AGE_80_TAG;

export const DIETARY_NEEDS = ['低盐', '低糖', '低脂', '软食', '素食', '清真'] as const;
export type DietaryNeed = (typeof DIETARY_NEEDS)[number];

/** What a person may do; one person can hold several (a grid worker is also a resident). */
export const PERSON_ROLES = ['resident', 'volunteer', 'staff', 'grid_worker', 'admin'] as const;
export type PersonRole = (typeof PERSON_ROLES)[number];

/** pending: registered, not yet confirmed by staff; anonymised: personal fields erased. */
export const PERSON_STATUSES = ['pending', 'active', 'anonymised'] as const;
export type PersonStatus = (typeof PERSON_STATUSES)[number];

const PHONE = /^1\d{10}$|^0\d{2,3}-?\d{7,8}$/;

function noDuplicates(values: readonly unknown[]): boolean {
  return new Set(values).size === values.length;
}

/**
 * Full years on the Shanghai calendar day of `on`. The birth date is read as a Shanghai day
 * too, so a birth date stored at UTC midnight or at Shanghai midnight gives the same age.
 */
export function ageOn(birthDate: Date, on: Date): number {
  const b = dayjs(birthDate).tz(TIME_ZONE);
  const d = dayjs(on).tz(TIME_ZONE);
  const beforeBirthday = d.month() < b.month() || (d.month() === b.month() && d.date() < b.date());
  return d.year() - b.year() - (beforeBirthday ? 1 : 0);
}

/** Stored tags plus '80+' when the person is 80 or older on `now`. Works on lean objects too. */
export function derivedTags(person: { tags?: readonly string[] | null; birthDate?: Date | null }, now: Date): DerivedTag[] {
  const tags = [...(person.tags ?? [])] as DerivedTag[];
  if (person.birthDate && ageOn(person.birthDate, now) >= AGE_80_YEARS) tags.push(AGE_80_TAG);
  return tags;
}

/** A weekly window in which a volunteer can usually help: weekday (0 = Sunday) and Shanghai times. */
export const AVAILABILITY_PATTERN = /^[0-6] (?:[01]\d|2[0-3]):[0-5]\d-(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$/;

const personSchema = new Schema(
  {
    /** Chosen when a new mini-program user completes the profile; required once active. */
    community: {
      type: Schema.Types.ObjectId,
      ref: 'Community',
      required(this: { status?: string }) {
        return this.status === 'active';
      },
    },
    /** A pending mini-program user has no name until they complete the profile. */
    name: {
      type: String,
      trim: true,
      required(this: { status?: string }) {
        return this.status !== 'pending';
      },
    },
    /** Not unique: an elder and a spouse may share a landline; anonymisation clears it. */
    phone: { type: String, trim: true, match: PHONE },
    /** 00:00 Asia/Shanghai of the birth day. Optional for staff and admins. */
    birthDate: { type: Date },
    gender: { type: String, enum: ['男', '女'] },
    address: {
      building: { type: String, trim: true },
      unit: { type: String, trim: true },
      room: { type: String, trim: true },
    },
    /** 网格: delivery sheets and grid workers' lists group by it. */
    grid: { type: String, trim: true },
    tags: {
      type: [{ type: String, enum: RESIDENT_TAGS }],
      default: [],
      validate: { validator: noDuplicates, message: 'tags must not repeat' },
    },
    /**
     * The latest recorded wellness visit (探访, or a meal handed over), kept by the commands that
     * record one (`$max`), so the monthly visit report reads no visit history. Absent on records
     * made before it existed: the report reads that elder's visits once and writes it back.
     */
    lastVisitAt: { type: Date },
    emergencyContact: {
      name: { type: String, trim: true },
      phone: { type: String, trim: true, match: PHONE },
      relation: { type: String, trim: true },
    },
    /** Staff sent a pending sign-up back (what to fix); cleared when the person is verified. */
    verificationRejection: {
      reason: { type: String, trim: true },
      at: { type: Date },
      by: { type: Schema.Types.ObjectId, ref: 'Person' },
    },
    /** The default for meal orders; an order may override it. */
    dietaryNeeds: {
      type: [{ type: String, enum: DIETARY_NEEDS }],
      default: [],
      validate: { validator: noDuplicates, message: 'dietary needs must not repeat' },
    },
    roles: {
      type: [{ type: String, enum: PERSON_ROLES }],
      default: ['resident'],
      validate: { validator: noDuplicates, message: 'roles must not repeat' },
    },
    status: { type: String, enum: PERSON_STATUSES, required: true, default: 'pending' },
    /** For staff and admins: what they may manage. No facilities = the whole community. */
    staffScope: {
      community: { type: Schema.Types.ObjectId, ref: 'Community' },
      facilities: { type: [{ type: Schema.Types.ObjectId, ref: 'Facility' }], default: undefined },
    },
    /** For grid workers (网格员): the grids they look after; meal alerts about elders there go to them. */
    workGrids: { type: [{ type: String, trim: true }], default: undefined },
    /** Staff approval of 送餐上门 for a resident not otherwise eligible (age, 失能/残疾/独居). */
    mealDeliveryApproval: {
      by: { type: Schema.Types.ObjectId, ref: 'Person' },
      at: { type: Date },
      reason: { type: String, trim: true },
    },
    /** For volunteers: only verified and not suspended volunteers may claim tasks. */
    volunteer: {
      skills: { type: [String], default: undefined },
      /** When they can usually help, shown to staff who assign tasks. Weekly windows as "<weekday 0–6> HH:mm-HH:mm" (Shanghai), e.g. "1 09:00-12:00". */
      availability: {
        type: [{ type: String, match: AVAILABILITY_PATTERN }],
        default: undefined,
      },
      availabilityNote: { type: String, trim: true },
      photoUrl: { type: String, trim: true },
      registeredAt: { type: Date },
      verified: { type: Boolean },
      verifiedAt: { type: Date },
      verifiedBy: { type: Schema.Types.ObjectId, ref: 'Person' },
      /** Suspended since (by staff, or by the absence rule); unset when not suspended. */
      suspendedAt: { type: Date },
      /** Until when; unset while suspendedAt is set: until staff reinstate. */
      suspendedUntil: { type: Date },
      suspendedReason: { type: String, trim: true },
    },
  },
  {
    timestamps: true,
    methods: {
      ageOn(date: Date): number | undefined {
        return this.birthDate ? ageOn(this.birthDate, date) : undefined;
      },
      derivedTags(now: Date): DerivedTag[] {
        return derivedTags(this, now);
      },
    },
  },
);

personSchema.index({ phone: 1 });
personSchema.index({ community: 1, roles: 1, status: 1 });
personSchema.index({ community: 1, grid: 1 });
personSchema.index({ community: 1, tags: 1 });

export type PersonFields = InferRawDocTypeFromSchema<typeof personSchema>;
export type PersonDoc = HydratedDocumentFromSchema<typeof personSchema>;
// Read on every booking through the read cache; each write makes those reads fresh.
personSchema.plugin(invalidatesCachedReads('Person'));
export const Person = model('Person', personSchema);
