import { Schema, model, type HydratedDocumentFromSchema } from 'mongoose';

/**
 * One accepted mini-program subscription (wx.requestSubscribeMessage): it allows exactly one
 * subscribe message of `templateId` to the person's openid. Recorded by the mini-program
 * right after the user accepts (POST /api/v1/me/subscription-grants).
 */
const subscriptionGrantSchema = new Schema({
  person: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
  templateId: { type: String, required: true },
  openid: { type: String, required: true },
  grantedAt: { type: Date, required: true },
});
subscriptionGrantSchema.index({ person: 1, templateId: 1 });

export type SubscriptionGrantDoc = HydratedDocumentFromSchema<typeof subscriptionGrantSchema>;
export const SubscriptionGrant = model('SubscriptionGrant', subscriptionGrantSchema);

/**
 * A grant spent on a message. Unique per grant: a grant is used once, however many
 * dispatchers race for it (the insert is the decision, not a counter).
 */
const subscriptionGrantUseSchema = new Schema({
  grant: { type: Schema.Types.ObjectId, ref: 'SubscriptionGrant', required: true },
  notification: { type: Schema.Types.ObjectId, ref: 'Notification', required: true },
  at: { type: Date, required: true },
});
subscriptionGrantUseSchema.index({ grant: 1 }, { unique: true });

export const SubscriptionGrantUse = model('SubscriptionGrantUse', subscriptionGrantUseSchema);
