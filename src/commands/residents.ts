import type { PersonDoc } from '../../models/person.js';
import type { AuthUser } from '../auth/user.js';
import { ConflictError } from '../errors.js';
import { auditStaffAccess } from './audit.js';

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
  await person.save();
  await auditStaffAccess(user, 'resident.verify', person._id, { requestId });
  return person;
}
