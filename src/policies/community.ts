import type { CommunityDoc } from '../../models/community.js';
import { allow } from './policy.js';

// Community and facility names are public (a resident chooses their community from the list;
// issue 16 item 5). What each facility lets the caller do is the Facility policy's decision.
allow<CommunityDoc>('Community', ['list'], () => true);
