import type { AuditEntryDoc } from '../../models/auditEntry.js';
import { idOf, idOrNull, listOf } from './fields.js';

type AuditEntryFields = Pick<AuditEntryDoc, '_id' | 'actor' | 'action' | 'subject' | 'fields' | 'requestId' | 'at'>;

/**
 * An audit entry as admins read it: ids, and the names of the actor and the subject next to
 * them (`names`: person id → name; null for someone erased or never named). Field names, never values.
 */
export function presentAuditEntry(entry: AuditEntryFields, names: ReadonlyMap<string, string | null>) {
  const actor = idOf(entry.actor);
  const subject = idOrNull(entry.subject);
  return {
    id: idOf(entry._id),
    actor,
    actorName: names.get(actor) ?? null,
    action: entry.action,
    subject,
    subjectName: subject ? names.get(subject) ?? null : null,
    fields: listOf(entry.fields),
    requestId: entry.requestId ?? null,
    at: entry.at,
  };
}
