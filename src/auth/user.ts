import type { Types } from 'mongoose';
import type { PersonFields, PersonRole } from '../../models/person.js';

/** Who is asking: loaded afresh on every request, so role and link changes apply at once. */
export interface AuthUser {
  id: string;
  /** A plain record (from the read cache), marked for the policies; load the document to change it. */
  person: PersonFields;
  roles: PersonRole[];
  /** The sign-in session (refresh-token family) of this request's token. */
  family: string;
  /** Ids of the elders this person may act for (active 代办 links). */
  elders: Set<string>;
}

export const hasRole = (user: AuthUser, role: PersonRole) => user.roles.includes(role);

/** Whether the user is this person or acts for them through an active 代办 link. */
export function actsFor(user: AuthUser, personId: Types.ObjectId | string): boolean {
  const id = String(personId);
  return user.id === id || user.elders.has(id);
}

/**
 * Whether the user is staff over this community (and facility, when given). Staff whose scope
 * lists no facilities cover the whole community; a record with no community yet (a new user
 * who has not completed the profile) is nobody's but the admins'.
 */
export function isStaffOver(
  user: AuthUser,
  community: Types.ObjectId | string | null | undefined,
  facility?: Types.ObjectId | string,
): boolean {
  if (!community || !hasRole(user, 'staff')) return false;
  const scope = user.person.staffScope;
  if (!scope?.community || String(scope.community) !== String(community)) return false;
  if (!facility || !scope.facilities?.length) return true;
  return scope.facilities.some((f) => String(f) === String(facility));
}

export const isAdmin = (user: AuthUser) => hasRole(user, 'admin');

/** A person as the viewer of their own record (e.g. right after they sign in). */
export function asSelf(person: PersonFields): AuthUser {
  return { id: String(person._id), person, roles: [...person.roles], family: '', elders: new Set() };
}
