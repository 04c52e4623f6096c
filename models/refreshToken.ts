import { Schema, model, type HydratedDocumentFromSchema } from 'mongoose';

/**
 * One refresh token of a sign-in session. Tokens rotate: each use issues the next token in the
 * same family, whose `parent` is the used token's hash. `parent` is unique, so a token can
 * have one successor however many requests race (a guarded update would not do: FerretDB v1
 * does not apply it atomically). Presenting a used token again means it was copied, so the
 * whole family is revoked. Only a SHA-256 of the token is stored.
 */
const refreshTokenSchema = new Schema(
  {
    family: { type: String, required: true },
    tokenHash: { type: String, required: true },
    /** The hash of the token this one replaced; `family:<id>` for a session's first token. */
    parent: { type: String, required: true },
    person: { type: Schema.Types.ObjectId, ref: 'Person', required: true },
    status: { type: String, enum: ['active', 'rotated', 'revoked'], required: true, default: 'active' },
    expiresAt: { type: Date, required: true },
    rotatedAt: { type: Date },
    revokedAt: { type: Date },
  },
  { timestamps: true },
);
refreshTokenSchema.index({ tokenHash: 1 }, { unique: true });
refreshTokenSchema.index({ parent: 1 }, { unique: true });
refreshTokenSchema.index({ family: 1, status: 1 });
refreshTokenSchema.index({ person: 1, status: 1 });
// Rebuilding Redis's copy of recent revocations (src/auth/revocations.ts).
refreshTokenSchema.index({ status: 1, revokedAt: 1 });
// No TTL index on FerretDB: expired tokens are refused by the guard and purged by a job.
refreshTokenSchema.index({ expiresAt: 1 });

export type RefreshTokenDoc = HydratedDocumentFromSchema<typeof refreshTokenSchema>;
export const RefreshToken = model('RefreshToken', refreshTokenSchema);
