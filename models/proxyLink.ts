import { Schema, model, type HydratedDocumentFromSchema, type InferRawDocTypeFromSchema } from 'mongoose';
import { invalidatesCachedReads } from '../src/cache/readCache.js';

export const PROXY_RELATIONS = ['子女', '配偶', '亲属', '网格员'] as const;
export type ProxyRelation = (typeof PROXY_RELATIONS)[number];
export const PROXY_LINK_STATUSES = ['pending', 'active', 'revoked'] as const;
export type ProxyLinkStatus = (typeof PROXY_LINK_STATUSES)[number];

/**
 * 代办: lets `proxy` (family member or grid worker) act for `elder`. Only an active link
 * authorises anything; it becomes active when the elder or staff confirm it.
 */
const proxyLinkSchema = new Schema(
  {
    proxy: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    elder: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    relation: { type: String, enum: PROXY_RELATIONS, required: true },
    status: { type: String, enum: PROXY_LINK_STATUSES, required: true, default: 'pending' },
    confirmedBy: { type: String, enum: ['elder', 'staff'] },
    confirmedAt: { type: Date },
    revokedAt: { type: Date },
  },
  { timestamps: true },
);

proxyLinkSchema.pre('validate', function () {
  if (this.proxy && this.elder && this.proxy.equals(this.elder)) {
    this.invalidate('elder', 'a person cannot be their own proxy');
  }
  if (this.status === 'active' && !this.confirmedBy) {
    this.invalidate('confirmedBy', 'an active link records who confirmed it');
  }
});

// One link per pair; re-linking after a revocation reactivates the same document.
proxyLinkSchema.index({ proxy: 1, elder: 1 }, { unique: true });
// Who may act for (and is alerted about) an elder.
proxyLinkSchema.index({ elder: 1, status: 1 });

export type ProxyLinkFields = InferRawDocTypeFromSchema<typeof proxyLinkSchema>;
export type ProxyLinkDoc = HydratedDocumentFromSchema<typeof proxyLinkSchema>;
// Read on every booking through the read cache; each write makes those reads fresh.
proxyLinkSchema.plugin(invalidatesCachedReads('ProxyLink'));
export const ProxyLink = model('ProxyLink', proxyLinkSchema);
