import type { PersonFields } from '../../models/person.js';
import type { UrgentAlertDoc } from '../../models/urgentAlert.js';
import { actsFor, isAdmin, isStaffOver } from '../auth/user.js';
import { allow } from './policy.js';

// 紧急求助 is raised by the person, anyone who acts for them (代办), their community's staff
// or an admin: nobody else may sound an alarm in someone's name.
allow<PersonFields>('Person', ['raiseUrgentHelp'], (user, p) =>
  actsFor(user, p._id) || isStaffOver(user, p.community) || isAdmin(user));

// An alert is read and acknowledged by whoever was told of it, staff of the community, admins.
allow<UrgentAlertDoc>('UrgentAlert', ['read', 'acknowledge'], (user, a) =>
  a.recipients.some((r) => String(r) === user.id) || isStaffOver(user, a.community) || isAdmin(user));
