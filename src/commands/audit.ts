import type { Types } from 'mongoose';
import { AuditEntry } from '../../models/auditEntry.js';
import type { AuthUser } from '../auth/user.js';
import { hasRole } from '../auth/user.js';

/**
 * Records a staff read or change of someone else's personal data. Residents acting on their
 * own or their linked elders' records are not audited here: their actions are the records.
 */
export async function auditStaffAccess(
  user: AuthUser,
  action: string,
  subject: Types.ObjectId | string,
  opts: { fields?: string[]; requestId?: string } = {},
): Promise<void> {
  if (user.id === String(subject)) return;
  if (!hasRole(user, 'staff') && !hasRole(user, 'admin')) return;
  await AuditEntry.create({ actor: user.id, action, subject, fields: opts.fields, requestId: opts.requestId });
}

/**
 * Records a staff read of a list of people's data (residents, a delivery sheet, attendance):
 * one entry for the listing, without a subject. (`auditStaffAccess` skips a subject that is the
 * reader, so a listing must not pass the reader as its subject.)
 */
export async function auditStaffListing(user: AuthUser, action: string, opts: { requestId?: string } = {}): Promise<void> {
  if (!hasRole(user, 'staff') && !hasRole(user, 'admin')) return;
  await AuditEntry.create({ actor: user.id, action, requestId: opts.requestId });
}

/** Records a privacy-relevant action whoever does it (links, bindings, deletion). */
export async function auditAction(
  actor: Types.ObjectId | string,
  action: string,
  subject: Types.ObjectId | string,
  opts: { fields?: string[]; requestId?: string } = {},
): Promise<void> {
  await AuditEntry.create({ actor, action, subject, fields: opts.fields, requestId: opts.requestId });
}
