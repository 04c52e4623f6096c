import { Schema, model, type HydratedDocumentFromSchema } from 'mongoose';

/**
 * waiting → offered (a place is held for the entry until offerExpiresAt) → accepted (a
 * booking was made) | expired | declined; waiting or offered → cancelled (the parent left the
 * line, or staff). offered → waiting when the place turned out to be gone after all.
 */
export const WAITLIST_STATUSES = ['waiting', 'offered', 'accepted', 'expired', 'declined', 'cancelled'] as const;
export type WaitlistStatus = (typeof WAITLIST_STATUSES)[number];

/**
 * A child in line for a full childcare session. `seq` is the arrival ticket (a Redis INCR
 * per session taken when the request reached the server), so the line is first come, first
 * served across app instances; the position shown is the rank among those still waiting.
 * `booking` is the id the booking will get: the entry's claims (one per child per session,
 * the held place while offered) are held under it, so accepting keeps them as they are.
 */
const waitlistSchema = new Schema(
  {
    session: { type: Schema.Types.ObjectId, ref: 'ChildcareSession', required: true },
    centre: { type: Schema.Types.ObjectId, ref: 'Facility', required: true },
    community: { type: Schema.Types.ObjectId, ref: 'Community', required: true },
    child: { type: Schema.Types.ObjectId, ref: 'Child', required: true },
    bookedFor: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    bookedBy: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    start: { type: Date, required: true },
    seq: { type: Number, required: true },
    booking: { type: Schema.Types.ObjectId, required: true },
    status: { type: String, enum: WAITLIST_STATUSES, required: true },
    version: { type: Number, required: true, default: 0 },
    offeredAt: { type: Date },
    offerExpiresAt: { type: Date },
    history: {
      type: [{ _id: false, from: String, to: String, at: Date, by: Schema.Types.ObjectId, reason: String }],
      default: [],
    },
  },
  { timestamps: true },
);
waitlistSchema.index({ session: 1, seq: 1 }, { unique: true });
waitlistSchema.index({ session: 1, status: 1 });
waitlistSchema.index({ status: 1, offerExpiresAt: 1 });
waitlistSchema.index({ bookedFor: 1, start: -1 });

export type WaitlistEntryDoc = HydratedDocumentFromSchema<typeof waitlistSchema>;
export const ChildcareWaitlistEntry = model('ChildcareWaitlistEntry', waitlistSchema);
