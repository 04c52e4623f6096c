import type { NotificationDoc } from '../../models/notification.js';
import type { PersonFields } from '../../models/person.js';
import { actsFor, hasRole, isAdmin, isStaffOver } from '../auth/user.js';
import { allow } from './policy.js';

/** A notification with its person loaded (the community decides which staff see it). */
export type NotificationWithPerson = Omit<NotificationDoc, 'person'> & { person: PersonFields };

const staffish = (user: Parameters<typeof isAdmin>[0]) => hasRole(user, 'staff') || isAdmin(user);

// Messages that could not be delivered: staff (those of their community) and admins.
allow('Notification', ['listUndelivered'], staffish);
allow<NotificationWithPerson>('Notification', ['read', 'retry'], (user, n) =>
  isAdmin(user) || isStaffOver(user, n.person?.community));

// What a person was told (GET /me/notifications?for=): the person and whoever acts for them
// as 代办; not staff (a message's text is the person's own).
allow<PersonFields>('Person', ['readNotifications'], (user, person) => actsFor(user, person._id));

// Job runs hold counts and error codes, no personal data: staff and admins.
allow('JobRun', ['list'], staffish);

// Anyone signed in records the subscriptions they accepted in the mini-program, for themselves.
allow('SubscriptionGrant', ['create'], () => true);
