import { Types } from 'mongoose';
import { atShanghai, shanghaiDay } from '../../models/calendar.js';
import { AuditDay, AuditEntry, noteAuditDay, type AuditEntryDoc } from '../../models/auditEntry.js';
import type { AuthUser } from '../auth/user.js';
import { hasRole } from '../auth/user.js';

/**
 * Records a staff read or change of someone else's personal data. Residents acting on their
 * own or their linked elders' records are not audited here: their actions are the records.
 */
export async function auditStaffAccess(
  user: AuthUser,
  action: string,
  subject: Types.ObjectId | string,
  opts: { fields?: string[]; requestId?: string } = {},
): Promise<void> {
  if (user.id === String(subject)) return;
  if (!hasRole(user, 'staff') && !hasRole(user, 'admin')) return;
  await AuditEntry.create({ actor: user.id, action, subject, fields: opts.fields, requestId: opts.requestId });
}

/**
 * Records a staff read of a list of people's data (residents, a delivery sheet, attendance):
 * one entry for the listing, without a subject. (`auditStaffAccess` skips a subject that is the
 * reader, so a listing must not pass the reader as its subject.)
 */
export async function auditStaffListing(user: AuthUser, action: string, opts: { requestId?: string } = {}): Promise<void> {
  if (!hasRole(user, 'staff') && !hasRole(user, 'admin')) return;
  await AuditEntry.create({ actor: user.id, action, requestId: opts.requestId });
}

/** Records a privacy-relevant action whoever does it (links, bindings, deletion). */
export async function auditAction(
  actor: Types.ObjectId | string,
  action: string,
  subject: Types.ObjectId | string,
  opts: { fields?: string[]; requestId?: string } = {},
): Promise<void> {
  await AuditEntry.create({ actor, action, subject, fields: opts.fields, requestId: opts.requestId });
}

/** How far back an unfiltered page of the trail reads, a day at a time, before it stops. */
export const AUDIT_WINDOW_DAYS = 92;
/** Days with entries read at once (parallel equality reads, each answered from the jsonb index). */
const DAYS_PER_BATCH = 7;

export interface AuditQuery {
  subject?: string;
  actor?: string;
  action?: string;
  /** Only entries before this instant (the previous page's `nextBefore`). */
  before?: Date;
  /**
   * With `before`: also the entries at exactly that instant whose id is lower (the previous
   * page's `nextBeforeId`), so entries written in the same millisecond (one staff list audits
   * every resident it shows) are neither skipped nor repeated across pages.
   */
  beforeId?: string;
  limit: number;
}

/** Gives entries older than the `day` field their day; the number given (idle once all have one). */
export async function backfillAuditDays(): Promise<number> {
  const missing = await AuditEntry.find({ day: null }).select('at').lean();
  for (let i = 0; i < missing.length; i += 500) {
    await AuditEntry.bulkWrite(missing.slice(i, i + 500).map((e) => ({
      updateOne: { filter: { _id: e._id }, update: { $set: { day: shanghaiDay(e.at) } } },
    })));
  }
  for (const day of new Set(missing.map((e) => shanghaiDay(e.at)))) await noteAuditDay(day);
  return missing.length;
}

/**
 * The backfill, once per process (before its first day-by-day listing): after that every
 * entry has a day, since the schema gives it one.
 */
let daysGiven: Promise<number> | null = null;
function giveAuditEntriesTheirDay(): Promise<number> {
  daysGiven ??= backfillAuditDays().catch((err: unknown) => {
    daysGiven = null;
    throw err;
  });
  return daysGiven;
}

/**
 * A page of the audit trail, newest first, read by equality keys only:
 * - for a resident (`subject`): their entries (`{subject}`, pushed down to the jsonb index),
 *   bounded by their own trail;
 * - otherwise day by day back from `before` (default now), `{day[, actor][, action]}` (a staff
 *   member's trail grows with every read they make) for the days that have entries (AuditDay),
 *   a week of them at a time, until the page is full or `AUDIT_WINDOW_DAYS` days were read.
 * `nextBefore` continues the trail: the last entry's time when the page is full, the window's
 * start when it ran out of days, null when there is nothing older to read (for an unfiltered
 * page: nothing in the whole window).
 */
export async function listAuditEntries(q: AuditQuery): Promise<AuditPage> {
  const before = q.before ?? null;
  const newestFirst = (a: AuditEntryDoc, b: AuditEntryDoc) => b.at.getTime() - a.at.getTime() || String(b._id).localeCompare(String(a._id));
  const keep = (e: AuditEntryDoc) =>
    !before || e.at < before || (!!q.beforeId && e.at.getTime() === before.getTime() && String(e._id) < q.beforeId);
  /** The page, continued after its last entry (instant and id). */
  const full = (entries: AuditEntryDoc[]): AuditPage => ({ entries, nextBefore: entries.at(-1)!.at, nextBeforeId: String(entries.at(-1)!._id) });
  const filter: Record<string, unknown> = {};
  if (q.subject) filter.subject = new Types.ObjectId(q.subject);
  if (q.actor) filter.actor = new Types.ObjectId(q.actor);
  if (q.action) filter.action = q.action;
  if (q.subject) {
    const all = (await AuditEntry.find(filter)).filter(keep).sort(newestFirst);
    const entries = all.slice(0, q.limit);
    return all.length > q.limit ? full(entries) : { entries, nextBefore: null, nextBeforeId: null };
  }
  await giveAuditEntriesTheirDay();
  const from = before ?? new Date();
  const firstDay = shanghaiDay(from);
  const window = Array.from({ length: AUDIT_WINDOW_DAYS }, (_, k) => dayBefore(firstDay, k));
  // Only the days that have entries: one {month} read per month of the window.
  const months = [...new Set(window.map((d) => d.slice(0, 7)))];
  const withEntries = new Set((await Promise.all(months.map((month) => AuditDay.find({ month }).select('_id').lean()))).flat().map((d) => d._id));
  const days = window.filter((d) => withEntries.has(d));
  const found: AuditEntryDoc[] = [];
  // 1, 2, 4, then 7 days at a time: a busy trail fills its page from the newest day alone.
  for (let i = 0, size = 1; i < days.length; i += size, size = Math.min(DAYS_PER_BATCH, size * 2)) {
    const batches = await Promise.all(days.slice(i, i + size).map((day) => AuditEntry.find({ day, ...filter })));
    found.push(...batches.flat().filter(keep));
    if (found.length >= q.limit) {
      found.sort(newestFirst);
      return full(found.slice(0, q.limit));
    }
  }
  found.sort(newestFirst);
  // The window ran out. A trail with nothing in a whole window is taken as ended (an older
  // page can still be asked for with `before`); else the next page starts where it stopped.
  return { entries: found, nextBefore: found.length ? atShanghai(dayBefore(firstDay, AUDIT_WINDOW_DAYS - 1), '00:00') : null, nextBeforeId: null };
}

export interface AuditPage {
  entries: AuditEntryDoc[];
  /** Pass as `before` (and `nextBeforeId` as `beforeId`) for the next, older page; null when there is nothing older. */
  nextBefore: Date | null;
  nextBeforeId: string | null;
}

/** The Shanghai day `n` days before `day`. */
function dayBefore(day: string, n: number): string {
  return shanghaiDay(new Date(atShanghai(day, '12:00').getTime() - n * 86_400_000));
}
