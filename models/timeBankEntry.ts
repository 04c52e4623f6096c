import { Schema, model, type HydratedDocumentFromSchema } from 'mongoose';

export const TIME_BANK_KINDS = ['earned', 'redeemed', 'adjusted'] as const;
export type TimeBankKind = (typeof TIME_BANK_KINDS)[number];

/**
 * The time bank (时间银行): an append-only ledger per volunteer, in minutes. Entries are never
 * changed or deleted. Each entry has the next `seq` of its volunteer, unique with the
 * volunteer, and the balance after it: appending is reading the last entry and inserting
 * seq + 1, so of two racing writers one wins and the other re-reads (commands/timeBank.ts).
 * The chain is serial, so `balanceAfter` is exact and can be checked never to go below zero,
 * without transactions or guarded updates (which FerretDB v1 does not apply atomically).
 */
const timeBankEntrySchema = new Schema(
  {
    volunteer: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    seq: { type: Number, required: true, min: 1 },
    kind: { type: String, enum: TIME_BANK_KINDS, required: true },
    /** Signed: earned > 0, redeemed < 0, adjusted either way. */
    minutes: { type: Number, required: true },
    balanceAfter: { type: Number, required: true, min: 0 },
    /** Why (required for adjustments), or what a redemption was for. */
    reason: { type: String, trim: true },
    /** Earned: the assignment whose approved hours these are. */
    assignment: { type: Schema.Types.ObjectId, ref: 'VolunteerAssignment' },
    /** Redeemed: the service used and who it was for (the volunteer or a family member). */
    service: { type: String, trim: true },
    beneficiary: { type: Schema.Types.ObjectId, ref: 'Person' },
    /** Who wrote it (the volunteer, staff, or the staff member approving hours). */
    by: { type: Schema.Types.ObjectId, ref: 'Person' },
    at: { type: Date, required: true },
  },
  { versionKey: false },
);
timeBankEntrySchema.index({ volunteer: 1, seq: 1 }, { unique: true });

export type TimeBankEntryDoc = HydratedDocumentFromSchema<typeof timeBankEntrySchema>;
export const TimeBankEntry = model('TimeBankEntry', timeBankEntrySchema);
