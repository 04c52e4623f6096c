import argon2 from 'argon2';
import { Schema, model, type HydratedDocumentFromSchema, type InferRawDocTypeFromSchema } from 'mongoose';
import { invalidatesCachedReads } from '../src/cache/readCache.js';

/**
 * How a person signs in. subject is the username for staff_password, the openid for
 * wechat_miniprogram, the unionid for wechat_unionid and the contact id for wechat_bot.
 * Keeping these in their own collection gives a unique key per (provider, subject) without a
 * sparse or partial index on Person.
 */
export const IDENTITY_PROVIDERS = ['staff_password', 'wechat_miniprogram', 'wechat_unionid', 'wechat_bot'] as const;
export type IdentityProvider = (typeof IDENTITY_PROVIDERS)[number];

/** Only argon2 hashes are stored, never a password. */
const ARGON2_HASH = /^\$argon2(?:id|i|d)\$/;

const identitySchema = new Schema(
  {
    provider: { type: String, enum: IDENTITY_PROVIDERS, required: true },
    subject: { type: String, required: true, trim: true },
    person: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    // Not `select: false`: that adds a projection to findOneAndUpdate, which FerretDB rejects.
    // Presenters leave it out, and toJSON drops it as a second line of defence.
    passwordHash: {
      type: String,
      match: ARGON2_HASH,
      required(this: { provider?: string }) {
        return this.provider === 'staff_password';
      },
    },
    // Set when repeated wrong passwords lock a staff username, so the lock outlives a Redis
    // restart (the attempt counters themselves live in Redis).
    lockedUntil: { type: Date },
  },
  {
    timestamps: true,
    toJSON: {
      transform(_doc, ret: Record<string, unknown>) {
        delete ret.passwordHash;
        return ret;
      },
    },
  },
);

identitySchema.pre('validate', function () {
  if (this.provider !== 'staff_password' && this.passwordHash) {
    this.invalidate('passwordHash', 'only staff_password identities have a password');
  }
});

identitySchema.index({ provider: 1, subject: 1 }, { unique: true });
identitySchema.index({ person: 1 });

/** An argon2id hash of a password, for Identity.passwordHash. */
export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, { type: argon2.argon2id });
}

/** True when `password` matches the stored hash; false for a missing or malformed hash. */
export async function verifyPassword(passwordHash: string | null | undefined, password: string): Promise<boolean> {
  if (!passwordHash) return false;
  try {
    return await argon2.verify(passwordHash, password);
  } catch {
    return false;
  }
}

export type IdentityFields = InferRawDocTypeFromSchema<typeof identitySchema>;
export type IdentityDoc = HydratedDocumentFromSchema<typeof identitySchema>;
// The bot looks up the contact of every message through the read cache.
identitySchema.plugin(invalidatesCachedReads('Identity'));
export const Identity = model('Identity', identitySchema);
