import type { PersonDoc, PersonFields } from '../../models/person.js';
import { actsFor, hasRole, isAdmin, isStaffOver } from '../auth/user.js';
import { allow } from './policy.js';

// Residents see and change their own record and their linked elders'; staff those of their
// community; admins all.
allow<PersonDoc>('Person', ['read', 'update', 'issueBindingCode', 'bookFor'], (user, person) =>
  actsFor(user, person._id) || isStaffOver(user, person.community) || isAdmin(user));

// Confirming who someone is, and linking elders to helpers, is staff work.
allow<PersonDoc>('Person', ['verify', 'linkProxy', 'setTags'], (user, person) =>
  isStaffOver(user, person.community) || isAdmin(user));

// Who may act for an elder (代办 links, any status): the staff of the community, as they link them.
allow<PersonDoc>('Person', ['listProxyLinks'], (user, person) => isStaffOver(user, person.community) || isAdmin(user));

allow<PersonDoc>('Person', ['unbindBot'], (user, person) =>
  user.id === String(person._id) || isStaffOver(user, person.community) || isAdmin(user));

// Whether a WeChat bot contact is bound to a resident: the staff who issue codes and unbind.
allow<PersonDoc>('Person', ['readBotBinding'], (user, person) => isStaffOver(user, person.community) || isAdmin(user));

// Listing residents (asked of the model): staff see their community's, admins everyone's.
allow('Person', ['list'], (user) => isAdmin(user) || (hasRole(user, 'staff') && !!user.person.staffScope?.community));

// A person's own data export and deletion request are theirs alone.
allow<PersonDoc>('Person', ['export', 'delete'], (user, person) => user.id === String(person._id));

/** Whether the viewer may see this person's full phone number (staff in scope and the person). */
export const seesFullPhone = (viewer: Parameters<typeof actsFor>[0], person: PersonFields) =>
  viewer.id === String(person._id) || isStaffOver(viewer, person.community) || isAdmin(viewer);
