import { Schema, model, type HydratedDocumentFromSchema, type InferRawDocTypeFromSchema } from 'mongoose';

/** A residents' community (社区): the unit that owns facilities, rules and people. */
const communitySchema = new Schema(
  {
    name: { type: String, required: true, trim: true },
    /** Stable short code used by config, seeds and imports; never shown to residents. */
    code: { type: String, required: true, trim: true, match: /^[A-Za-z0-9][A-Za-z0-9_-]{1,39}$/ },
    /** 区 / 县, e.g. 广州市增城区. */
    district: { type: String, required: true, trim: true },
    /** 社区值班电话: given to anyone who sends an urgent message (紧急求助), and by 人工. */
    dutyPhone: { type: String, trim: true, match: /^[0-9-]{3,20}$/ },
  },
  { timestamps: true },
);

communitySchema.index({ code: 1 }, { unique: true });

export type CommunityFields = InferRawDocTypeFromSchema<typeof communitySchema>;
export type CommunityDoc = HydratedDocumentFromSchema<typeof communitySchema>;
export const Community = model('Community', communitySchema);
