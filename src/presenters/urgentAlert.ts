import type { UrgentAlertDoc } from '../../models/urgentAlert.js';
import { listOf } from './fields.js';

/** An urgent alert as the API shows it: ids and times; the words stay (the recipients need them). */
export function presentUrgentAlert(a: UrgentAlertDoc, dutyPhone?: string) {
  return {
    id: String(a._id),
    person: String(a.person),
    raisedBy: String(a.raisedBy),
    source: a.source,
    words: listOf(a.words), // an older record may lack the arrays
    raisedAt: a.raisedAt,
    recipients: listOf(a.recipients).length,
    status: a.status,
    acknowledgedBy: a.acknowledgedBy ? String(a.acknowledgedBy) : null,
    acknowledgedAt: a.acknowledgedAt ?? null,
    escalatedAt: a.escalatedAt ?? null,
    ...(dutyPhone !== undefined ? { dutyPhone: dutyPhone || null } : {}),
  };
}
