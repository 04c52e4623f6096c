/**
 * Who may do what, in one place. Importing this module registers every model's rules;
 * handlers, bot commands and jobs call authorize(user, action, record).
 */
import './person.js';
import './proxyLink.js';
import './auditEntry.js';
import './room.js';
import './volunteer.js';
import './childcare.js';
import './notification.js';
import './meal.js';
import './monthlyReport.js';
import './urgentAlert.js';
import './community.js';
import './personalDataExport.js';

export { authorize, can, recordOf } from './policy.js';
export { seesFullPhone } from './person.js';
