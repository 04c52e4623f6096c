import type { PersonalDataExportFields } from '../../models/personalDataExport.js';
import { allow } from './policy.js';

// A data export is the person's whole record: theirs alone. Not their 代办 (who can already see
// what they book for the elder) and not staff or admins (staff reads are audited one by one;
// a bulk copy of a resident's data is not a staff tool). Others are told 404, not 403.
allow<Pick<PersonalDataExportFields, 'person'>>('PersonalDataExport', ['read', 'download'], (user, e) => user.id === String(e.person));
