import type { CommunityDoc } from '../../models/community.js';
import { isAdmin, isStaffOver, type AuthUser } from '../auth/user.js';
import { allow } from './policy.js';

const staffOrAdmin = (user: AuthUser, c: CommunityDoc) => isStaffOver(user, c._id) || isAdmin(user);

// The monthly statistics and the dashboard of a community: its staff and admins read them and
// generate the running month's on demand.
allow<CommunityDoc>('Community', ['viewMonthlyReport', 'generateMonthlyReport', 'viewDashboard'], staffOrAdmin);
