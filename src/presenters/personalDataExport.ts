import type { PersonalDataExportFields } from '../../models/personalDataExport.js';

/** An export as its person sees it: where it stands and how big it is; never the data itself. */
export function presentPersonalDataExport(e: Pick<PersonalDataExportFields, '_id' | 'status' | 'requestedAt' | 'readyAt' | 'expiresAt' | 'bytes' | 'records'>) {
  return {
    id: String(e._id),
    status: e.status,
    requestedAt: e.requestedAt,
    readyAt: e.readyAt ?? null,
    expiresAt: e.expiresAt ?? null,
    bytes: e.bytes ?? null,
    records: e.records ?? null,
  };
}
