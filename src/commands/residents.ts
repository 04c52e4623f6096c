import type { PersonDoc } from '../../models/person.js';
import type { AuthUser } from '../auth/user.js';
import { ConflictError } from '../errors.js';
import { auditStaffAccess } from './audit.js';
import { notify } from './notify.js';

/** Fields a resident (or their proxy) may change; tags and roles are staff decisions. */
export interface ProfileChanges {
  name?: string;
  phone?: string;
  birthDate?: Date;
  gender?: '男' | '女';
  community?: string;
  address?: { building?: string; unit?: string; room?: string };
  grid?: string;
  emergencyContact?: { name: string; phone: string; relation?: string };
  dietaryNeeds?: string[];
  /** Staff only (the schema for residents does not accept them). */
  tags?: string[];
}

/**
 * Applies profile changes. A resident picks their community only while pending: after
 * verification, moving community is staff work. Staff changes are audited by field name.
 */
export async function updateProfile(user: AuthUser, person: PersonDoc, changes: ProfileChanges, requestId?: string): Promise<PersonDoc> {
  if (changes.community && person.status !== 'pending' && String(person.community) !== changes.community) {
    throw ConflictError('已认证的居民不能自行更换社区，请联系社区工作人员', 'community_locked');
  }
  person.set(changes);
  await person.save();
  await auditStaffAccess(user, 'resident.update', person._id, { fields: Object.keys(changes), requestId });
  return person;
}

/** Staff confirm a pending resident's identity; only a completed profile can be verified. */
export async function verifyResident(user: AuthUser, person: PersonDoc, requestId?: string): Promise<PersonDoc> {
  if (person.status !== 'pending') throw ConflictError('该居民已认证，无需重复操作', 'already_verified');
  if (!person.name || !person.phone || !person.community) {
    throw ConflictError('该居民还未填写姓名、手机号和所在社区，请先完善资料', 'profile_incomplete');
  }
  person.status = 'active';
  person.set('verificationRejection', undefined);
  await person.save();
  await auditStaffAccess(user, 'resident.verify', person._id, { requestId });
  return person;
}

/**
 * Staff send a pending sign-up back with what to fix (e.g. 住址与户籍不符): the person stays
 * pending and is told why; verifying later clears the note. Refused once verified.
 */
export async function rejectResidentVerification(user: AuthUser, person: PersonDoc, reason: string, requestId?: string, now = new Date()): Promise<PersonDoc> {
  if (person.status !== 'pending') throw ConflictError('该居民已认证，不能退回', 'already_verified');
  person.set('verificationRejection', { reason, at: now, by: user.person._id });
  await person.save();
  await auditStaffAccess(user, 'resident.rejectVerification', person._id, { requestId });
  await notify(person._id, `resident-verification:${person._id}:rejected:${now.getTime()}`, 'resident_verification_rejected',
    `您的居民认证未通过：${reason}。请修改资料后等待社区工作人员重新认证。`, now);
  return person;
}
