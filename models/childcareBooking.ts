import { Schema, model, type HydratedDocumentFromSchema } from 'mongoose';
import { CHILDCARE_CLASS_TYPES } from './childcareSession.js';

/**
 * confirmed → dropped_off (morning health check passed) → picked_up; confirmed → cancelled
 * (by a parent, late or not, or by staff), turned_away (failed the health check at the door),
 * no_show (nobody came).
 */
export const CHILDCARE_BOOKING_STATUSES = [
  'confirmed', 'dropped_off', 'picked_up', 'cancelled', 'turned_away', 'no_show',
] as const;
export type ChildcareBookingStatus = (typeof CHILDCARE_BOOKING_STATUSES)[number];

const healthDeclarationSchema = new Schema(
  {
    /** The parent declares the child well: no fever, diarrhoea, rash or contact with an infectious illness. */
    healthy: { type: Boolean, required: true },
    notes: { type: String, trim: true },
    declaredAt: { type: Date, required: true },
    declaredBy: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
  },
  { _id: false },
);

/**
 * A child's place in a childcare session. The place itself is a CapacityClaim
 * (`childcare:<session>`), as are "one booking per child per session"
 * (`childcare-child:<session>:<child>`) and the monthly cap (`childcare-month:<child>:<YYYY-MM>`);
 * this document records the booking, its health declaration, drop-off and pick-up.
 */
const childcareBookingSchema = new Schema(
  {
    session: { type: Schema.Types.ObjectId, ref: 'ChildcareSession', required: true },
    centre: { type: Schema.Types.ObjectId, ref: 'Facility', required: true },
    community: { type: Schema.Types.ObjectId, ref: 'Community', required: true },
    child: { type: Schema.Types.ObjectId, ref: 'Child', required: true },
    /** The parent it is booked for (told about offers, codes and changes). */
    bookedFor: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    /** Who made it: the parent, a proxy or staff. */
    bookedBy: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    date: { type: String, required: true },
    start: { type: Date, required: true },
    end: { type: Date, required: true },
    classType: { type: String, enum: CHILDCARE_CLASS_TYPES, required: true },
    /** 'YYYY-MM' of the session, for the monthly cap claim. */
    month: { type: String, required: true },
    /** Set when the booking came from the waitlist. */
    fromWaitlist: { type: Schema.Types.ObjectId, ref: 'ChildcareWaitlistEntry' },
    healthDeclaration: { type: healthDeclarationSchema, required: true },
    status: { type: String, enum: CHILDCARE_BOOKING_STATUSES, required: true },
    version: { type: Number, required: true, default: 0 },
    /** Cancelled after the cancel cut-off (counted like a no-show). */
    lateCancellation: { type: Boolean, default: false },
    /** The morning health check at the door (also kept when the child was turned away). */
    healthCheck: {
      temperature: { type: Number },
      notes: { type: String, trim: true },
      at: { type: Date },
      by: { type: Schema.Types.ObjectId, ref: 'Person' },
    },
    /** SHA-256 of the one-time pick-up code sent to the parent; cleared once used. */
    pickupCodeHash: { type: String },
    pickupCodesSent: { type: Number, default: 0 },
    pickedUp: {
      at: { type: Date },
      by: { type: Schema.Types.ObjectId, ref: 'Person' },
      collectorName: { type: String, trim: true },
      collectorRelation: { type: String, trim: true },
    },
    /** Refused pick-up attempts (wrong code, person not authorised): staff were alerted. */
    pickupRefusals: {
      type: [{ _id: false, at: Date, reason: String, collectorName: String, by: Schema.Types.ObjectId }],
      default: [],
    },
    history: {
      type: [{ _id: false, from: String, to: String, at: Date, by: Schema.Types.ObjectId, reason: String }],
      default: [],
    },
  },
  { timestamps: true },
);
childcareBookingSchema.index({ session: 1, status: 1 });
childcareBookingSchema.index({ bookedFor: 1, start: -1 });
childcareBookingSchema.index({ child: 1, start: -1 });
// A parent's or a child's list reads a month at a time, newest first (src/commands/childcareBookingList.ts).
childcareBookingSchema.index({ bookedFor: 1, month: 1 });
childcareBookingSchema.index({ child: 1, month: 1 });
childcareBookingSchema.index({ status: 1, start: 1 });

export type ChildcareBookingDoc = HydratedDocumentFromSchema<typeof childcareBookingSchema>;
export const ChildcareBooking = model('ChildcareBooking', childcareBookingSchema);
