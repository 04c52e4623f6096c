import type { CommunityDoc } from '../../models/community.js';
import type { FacilityDoc } from '../../models/facility.js';
import type { MealOrderDoc } from '../../models/mealOrder.js';
import type { PersonDoc, PersonFields } from '../../models/person.js';
import type { RecurringMealOrderDoc } from '../../models/recurringMealOrder.js';
import type { WellnessAlertDoc } from '../../models/wellnessAlert.js';
import { actsFor, hasRole, isAdmin, isStaffOver, type AuthUser } from '../auth/user.js';
import { allow } from './policy.js';

const kitchenStaff = (user: AuthUser, community: unknown, kitchen: unknown) =>
  isStaffOver(user, community as string, kitchen as string) || isAdmin(user);

// Kitchens: anyone signed in reads menus (the order rules check the community); the
// kitchen's staff publish menus, set the delivery area, read the sheets and run the cut-off.
allow<FacilityDoc>('Facility', ['readMeals'], () => true);
allow<FacilityDoc>('Facility', ['manageMeals'], (user, k) => kitchenStaff(user, k.community, k._id));

// An order: its resident, whoever acts for them or booked it, and the kitchen's staff.
allow<MealOrderDoc>('MealOrder', ['read', 'cancel', 'change', 'rate'], (user, o) =>
  actsFor(user, o.bookedFor) || user.id === String(o.bookedBy) || kitchenStaff(user, o.community, o.kitchen));
allow<MealOrderDoc>('MealOrder', ['actAsStaff'], (user, o) => kitchenStaff(user, o.community, o.kitchen));
// At the door: the kitchen's staff and the community's verified volunteers (delivery runs).
allow<MealOrderDoc>('MealOrder', ['recordOutcome'], (user, o) =>
  kitchenStaff(user, o.community, o.kitchen)
  || (hasRole(user, 'volunteer') && user.person.volunteer?.verified === true && String(user.person.community) === String(o.community)));

allow<RecurringMealOrderDoc>('RecurringMealOrder', ['read', 'suspend', 'end'], (user, r) =>
  actsFor(user, r.bookedFor) || user.id === String(r.bookedBy) || kitchenStaff(user, r.community, r.kitchen));

// An alert: whoever was told, and staff of the community.
allow<WellnessAlertDoc>('WellnessAlert', ['read', 'close'], (user, a) =>
  a.recipients.some((r) => String(r) === user.id) || isStaffOver(user, a.community) || isAdmin(user));

// Delivery for a resident not otherwise eligible is approved by staff.
allow<PersonDoc>('Person', ['approveMealDelivery'], (user, p) => isStaffOver(user, p.community) || isAdmin(user));
/** Whether the user may record a visit to `elder`: staff, grid workers of the elder's grid, verified volunteers of the community. */
export function mayVisit(user: AuthUser, elder: PersonFields): boolean {
  if (isAdmin(user) || isStaffOver(user, elder.community)) return true;
  const sameCommunity = !!elder.community && String(user.person.community) === String(elder.community);
  if (!sameCommunity) return false;
  if (hasRole(user, 'grid_worker') && !!elder.grid && (user.person.workGrids ?? []).includes(elder.grid)) return true;
  return hasRole(user, 'volunteer') && user.person.volunteer?.verified === true;
}

// Monthly visits: staff, the grid workers of the elder's grid, verified volunteers of the community.
allow<PersonDoc>('Person', ['recordVisit'], mayVisit);

// Reports over a community: staff see visits and ratings; money (subsidies, rules) is the admin's.
allow<CommunityDoc>('Community', ['viewWellnessReport', 'viewMealRatings'], (user, c) => isStaffOver(user, c._id) || isAdmin(user));
allow<CommunityDoc>('Community', ['viewSubsidyReport', 'manageSubsidyRule'], (user) => isAdmin(user));
