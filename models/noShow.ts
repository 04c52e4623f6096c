import { Schema, model, type HydratedDocumentFromSchema } from 'mongoose';

/** A booking its resident did not turn up for (or cancelled too late): counted for blocks. */
const noShowSchema = new Schema(
  {
    person: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    /** 'room' | 'childcare' | … */
    service: { type: String, required: true },
    /** The booking it is about; unique, so releasing twice counts once. */
    booking: { type: Schema.Types.ObjectId, required: true },
    at: { type: Date, required: true },
  },
  { versionKey: false },
);
noShowSchema.index({ booking: 1 }, { unique: true });
noShowSchema.index({ person: 1, service: 1, at: -1 });

export type NoShowDoc = HydratedDocumentFromSchema<typeof noShowSchema>;
export const NoShow = model('NoShow', noShowSchema);
