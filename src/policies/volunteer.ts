import type { PersonDoc } from '../../models/person.js';
import type { VolunteerAbsenceDoc } from '../../models/volunteerAbsence.js';
import type { VolunteerAssignmentDoc } from '../../models/volunteerAssignment.js';
import type { VolunteerTaskDoc } from '../../models/volunteerTask.js';
import { hasRole, isAdmin, isStaffOver, type AuthUser } from '../auth/user.js';
import { allow } from './policy.js';

const staffOverTask = (user: AuthUser, t: { community: VolunteerTaskDoc['community']; facility?: VolunteerTaskDoc['facility'] }) =>
  isStaffOver(user, t.community, t.facility ?? undefined) || isAdmin(user);

// Creating tasks and listing them as staff (asked of the model).
allow('VolunteerTask', ['create', 'listAsStaff'], (user) => isAdmin(user) || (hasRole(user, 'staff') && !!user.person.staffScope?.community));

// The monthly visits to elders in hardship span communities: admins (and the job).
allow('VolunteerTask', ['generateVisits'], (user) => isAdmin(user));

// Residents of the community see its tasks (the mini-program's list); staff theirs.
allow<VolunteerTaskDoc>('VolunteerTask', ['read'], (user, t) =>
  String(user.person.community) === String(t.community) || staffOverTask(user, t));

// Claiming is for volunteers (the command checks verification, suspension, skills, community).
allow<VolunteerTaskDoc>('VolunteerTask', ['claim'], (user) => hasRole(user, 'volunteer'));

// Staff run the tasks of their community (and facilities): edit, cancel, assign, see the roster and site code.
allow<VolunteerTaskDoc>('VolunteerTask', ['manage', 'assign'], staffOverTask);

// The volunteer themselves and the task's staff.
allow<VolunteerAssignmentDoc>('VolunteerAssignment', ['read', 'checkIn', 'checkOut'], (user, a) =>
  user.id === String(a.volunteer) || staffOverTask(user, a));
allow<VolunteerAssignmentDoc>('VolunteerAssignment', ['release'], (user, a) => user.id === String(a.volunteer));
allow<VolunteerAssignmentDoc>('VolunteerAssignment', ['unassign', 'review'], staffOverTask);

// A volunteer's profile, record and time bank: the volunteer and staff of their community.
allow<PersonDoc>('Person', ['readVolunteer', 'redeemTimeBank'], (user, p) =>
  user.id === String(p._id) || isStaffOver(user, p.community) || isAdmin(user));
allow<PersonDoc>('Person', ['manageVolunteer', 'adjustTimeBank'], (user, p) => isStaffOver(user, p.community) || isAdmin(user));
allow('Person', ['listVolunteers'], (user) => isAdmin(user) || (hasRole(user, 'staff') && !!user.person.staffScope?.community));

allow<VolunteerAbsenceDoc>('VolunteerAbsence', ['excuse'], (user, a) => isStaffOver(user, a.community) || isAdmin(user));
