import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { trusted, Types } from 'mongoose';
import { shanghaiFields } from '../../models/calendar.js';
import { Person } from '../../models/person.js';
import {
  chunkKey, PersonalDataExport, PersonalDataExportChunk, preparingSlot, type PersonalDataExportDoc,
} from '../../models/personalDataExport.js';
import { asSelf } from '../auth/user.js';
import type { Logger } from '../logger.js';
import { failpoint } from '../runtime/failpoints.js';
import { isDuplicateKey } from '../storage/mongo.js';
import { notify } from './notify.js';
import { exportPersonData } from './privacy.js';

/** Days a prepared file is kept (then personalDataExports.prune deletes it). */
export const EXPORT_KEEP_DAYS = 7;
/** A preparation holds its export this long; an instance that died holding it is resumed after. */
export const EXPORT_LEASE_MINUTES = 10;
/** A new export not taken by its own instance within this is resumed by the job. */
const START_GRACE_MS = 60_000;
/** Preparations tried before the export is marked failed (and the person told). */
export const EXPORT_MAX_ATTEMPTS = 3;
/** Bytes per stored piece of the gzipped JSON: far below the 16 MB document limit. */
export const CHUNK_BYTES = 4 * 1024 * 1024;

const MINUTE = 60_000;
const gzipped = promisify(gzip);
const DAY = 86_400_000;

/**
 * Asks for a person's data export: a new one, or the one already preparing. Race-safe across
 * instances: the insert under the unique `preparing:<person>` slot decides; losers read the
 * winner. A loser can find no winner if it just became ready (its slot moved): it tries again.
 */
export async function requestPersonalDataExport(person: Types.ObjectId, now = new Date()): Promise<{ doc: PersonalDataExportDoc; created: boolean }> {
  for (let i = 0; i < 5; i++) {
    try {
      const doc = await PersonalDataExport.create({
        person, slot: preparingSlot(person), status: 'preparing', requestedAt: now, attempts: 0,
        leaseUntil: new Date(now.getTime() + START_GRACE_MS),
      });
      return { doc, created: true };
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const preparing = await PersonalDataExport.findOne({ slot: preparingSlot(person) });
      if (preparing) return { doc: preparing, created: false };
    }
  }
  throw new Error('personal data export: the preparing slot kept changing');
}

/** Preparations running in this process (tests and shutdown wait for them; a lost one is resumed). */
const running = new Map<string, Promise<unknown>>();

/** Starts preparing an export in this process, after the current request (the caller does not wait). */
export function startPreparing(id: Types.ObjectId, log?: Logger): void {
  const key = String(id);
  if (running.has(key)) return;
  const run = new Promise<void>((resolve) => setImmediate(resolve))
    .then(() => preparePersonalDataExport(id, 0, new Date(), log))
    .catch((err) => log?.error({ err: { message: (err as Error).message }, exportId: key }, 'personal data export failed'))
    .finally(() => running.delete(key));
  running.set(key, run);
}

/** Resolves once every preparation this process started has finished. */
export async function exportPreparationsSettled(): Promise<void> {
  while (running.size) await Promise.all([...running.values()]);
}

export type PrepareOutcome = 'ready' | 'retry' | 'failed' | 'not_taken';

/**
 * Prepares an export: takes it (the attempt counter it was seen with is the guard, so one
 * preparation runs at a time), writes the JSON of exportPersonData in pieces tagged with the
 * attempt, then marks it ready and tells the person. Every step is guarded by the attempt: a
 * preparation that lost its lease to the resume job finds its final update refused and deletes
 * its own pieces, and pieces of other attempts are deleted by the winner.
 */
export async function preparePersonalDataExport(id: Types.ObjectId, seenAttempts: number, now = new Date(), log?: Logger): Promise<PrepareOutcome> {
  const attempt = seenAttempts + 1;
  const taken = await PersonalDataExport.findOneAndUpdate(
    { _id: id, status: 'preparing', attempts: seenAttempts },
    { $set: { attempts: attempt, leaseUntil: new Date(now.getTime() + EXPORT_LEASE_MINUTES * MINUTE) } },
    { returnDocument: 'after' },
  );
  if (!taken) return 'not_taken';
  const t0 = performance.now();
  let readyNow: PersonalDataExportDoc | null = null;
  try {
    failpoint('personalDataExport.prepare');
    const person = await Person.findById(taken.person);
    if (!person || person.status === 'anonymised') throw Object.assign(new Error('person gone'), { code: 'person_gone' });
    const data = await exportPersonData(person, asSelf(person.toObject()));
    const text = JSON.stringify(data);
    const zipped = await gzipped(text);
    const pieces = splitBytes(zipped, CHUNK_BYTES);
    await PersonalDataExportChunk.deleteMany({ export: id, attempt });
    await PersonalDataExportChunk.collection.insertMany(
      pieces.map((piece, seq) => ({ _id: chunkKey(id, attempt, seq), export: id, attempt, seq, gzip: piece })) as never[],
      { ordered: false },
    );
    const readyAt = new Date();
    const expiresAt = new Date(readyAt.getTime() + EXPORT_KEEP_DAYS * DAY);
    const ready = await PersonalDataExport.findOneAndUpdate(
      { _id: id, status: 'preparing', attempts: attempt },
      {
        $set: {
          status: 'ready', slot: String(id), readyAt, expiresAt, preparedMs: Math.round(performance.now() - t0),
          bytes: Buffer.byteLength(text), gzipBytes: zipped.length, chunks: pieces.length, records: countRecords(data),
        },
        $unset: { leaseUntil: 1 },
      },
      { returnDocument: 'after' },
    );
    if (!ready) {
      // Taken over (or the person deleted their account meanwhile): these pieces are nobody's.
      await PersonalDataExportChunk.deleteMany({ export: id, attempt });
      return 'not_taken';
    }
    readyNow = ready;
  } catch (err) {
    await PersonalDataExportChunk.deleteMany({ export: id, attempt }).catch(() => undefined);
    const code = (err as { code?: unknown }).code === 'person_gone' ? 'person_gone' : 'prepare_failed';
    log?.warn({ exportId: String(id), attempt, error: code }, 'personal data export preparation failed');
    if (attempt < EXPORT_MAX_ATTEMPTS && code !== 'person_gone') {
      // Left preparing: the resume job tries again once this short lease is over.
      await PersonalDataExport.updateOne({ _id: id, status: 'preparing', attempts: attempt }, { $set: { leaseUntil: new Date(now.getTime() + MINUTE) } });
      return 'retry';
    }
    const failed = await PersonalDataExport.findOneAndUpdate(
      { _id: id, status: 'preparing', attempts: attempt },
      { $set: { status: 'failed', slot: String(id), error: code }, $unset: { leaseUntil: 1 } },
      { returnDocument: 'after' },
    );
    if (failed && code !== 'person_gone') {
      await notify(taken.person, `personal-data-export:${id}:failed`, 'personal_data_export_failed',
        '抱歉，您申请导出的个人数据没有准备成功。请在小程序「我的 → 我的数据」重新申请；如果仍不成功，请联系社区工作人员。');
    }
    return 'failed';
  }
  // Ready: what follows may fail without undoing it (the resume job tells the person if this did not).
  await PersonalDataExportChunk.deleteMany({ export: id, attempt: trusted({ $ne: attempt }) }).catch(() => undefined);
  await tellReady(readyNow).catch((err) => log?.warn({ exportId: String(id), err: { message: (err as Error).message } }, 'export ready, not yet told'));
  return 'ready';
}

/** Tells the person their export is ready (once: the outbox key), then marks it told. */
async function tellReady(e: Pick<PersonalDataExportDoc, '_id' | 'person' | 'expiresAt' | 'readyAt'>): Promise<void> {
  await notify(e.person, `personal-data-export:${e._id}:ready`, 'personal_data_export_ready', readyText(e._id, e.expiresAt!), e.readyAt ?? new Date());
  await PersonalDataExport.updateOne({ _id: e._id }, { $set: { told: true } });
}

/** Cuts bytes into pieces of at most `size`. */
export function splitBytes(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

const countRecords = (data: Record<string, unknown>) =>
  Object.values(data).reduce<number>((n, v) => n + (Array.isArray(v) ? v.length : 0), 0);

function readyText(id: Types.ObjectId, expiresAt: Date): string {
  const f = shanghaiFields(expiresAt);
  return `您申请导出的个人数据已准备好（编号 ${id}），请在 ${f.month}月${f.day}日 前到小程序「我的 → 我的数据」下载。到期后文件会删除，需要时可以重新申请。`;
}

/** The gzipped file of a ready export, from its pieces read by `_id`. */
export async function readExportGzip(doc: Pick<PersonalDataExportDoc, '_id' | 'attempts' | 'chunks'>): Promise<Buffer> {
  const ids = Array.from({ length: doc.chunks ?? 0 }, (_, seq) => chunkKey(doc._id, doc.attempts ?? 0, seq));
  const pieces = await Promise.all(ids.map((_id) => PersonalDataExportChunk.findById(_id).lean()));
  if (pieces.some((p) => !p)) throw new Error(`personal data export ${String(doc._id)}: a piece is missing`);
  return Buffer.concat(pieces.map((p) => asBuffer(p!.gzip)));
}

/** A stored Buffer as read back (lean reads give the driver's Binary). */
const asBuffer = (b: unknown): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from((b as { buffer: Uint8Array }).buffer));

/** A person's exports, newest first (their own equality read: a few records, bounded by the prune). */
export async function listPersonExports(person: Types.ObjectId | string, limit = 10): Promise<PersonalDataExportDoc[]> {
  const all = await PersonalDataExport.find({ person });
  return all.sort((a, b) => b.requestedAt.getTime() - a.requestedAt.getTime()).slice(0, limit);
}

/** The newest ready export still within its keeping period, if any. */
export async function newestReadyExport(person: Types.ObjectId | string, now = new Date()): Promise<PersonalDataExportDoc | null> {
  const ready = await PersonalDataExport.find({ person, status: 'ready' });
  return ready.filter((e) => (e.expiresAt?.getTime() ?? 0) > now.getTime())
    .sort((a, b) => (b.readyAt?.getTime() ?? 0) - (a.readyAt?.getTime() ?? 0))[0] ?? null;
}

/**
 * Exports left preparing by an instance that stopped (its lease is over), `limit` a run: each is
 * taken with the attempt counter it was read with, so two instances never prepare the same one.
 * Also tells the people whose export became ready but whose message could not be stored.
 */
export async function resumeStaleExports(now: Date, limit: number, log?: Logger): Promise<Record<string, number>> {
  const preparing = await PersonalDataExport.find({ status: 'preparing' }).lean();
  const stale = preparing.filter((e) => !e.leaseUntil || e.leaseUntil.getTime() <= now.getTime()).slice(0, limit);
  const counts: Record<string, number> = { stale: stale.length, ready: 0, retry: 0, failed: 0, not_taken: 0, told: 0 };
  for (const e of stale) counts[await preparePersonalDataExport(e._id, e.attempts ?? 0, now, log)]! += 1;
  // Ready but the message failed (the outbox key keeps it to one message however often this runs).
  const untold = await PersonalDataExport.find({ status: 'ready', told: false }).limit(limit).lean();
  for (const e of untold) {
    await tellReady(e);
    counts.told! += 1;
  }
  return counts;
}

/**
 * Deletes the files of exports past their keeping period (the records stay, `expired`, so a late
 * download gets 410, not 404), and the records themselves 30 days after; `limit` a run.
 * Safe to re-run.
 */
export async function pruneExpiredExports(now: Date, limit: number): Promise<Record<string, number>> {
  const [ready, expired] = await Promise.all([
    PersonalDataExport.find({ status: 'ready' }).lean(),
    // Two equalities, not `$in` (FerretDB v1 filters `$in` in Go after decoding every record).
    Promise.all([PersonalDataExport.find({ status: 'expired' }).lean(), PersonalDataExport.find({ status: 'failed' }).lean()]).then((l) => l.flat()),
  ]);
  const due = ready.filter((e) => e.expiresAt && e.expiresAt.getTime() <= now.getTime()).slice(0, limit);
  for (const e of due) {
    await PersonalDataExport.updateOne({ _id: e._id, status: 'ready' }, { $set: { status: 'expired' } });
    await PersonalDataExportChunk.deleteMany({ export: e._id });
  }
  const forgetBefore = now.getTime() - 30 * DAY;
  const old = expired.filter((e) => (e.expiresAt ?? e.requestedAt).getTime() <= forgetBefore).slice(0, limit);
  for (const e of old) {
    await PersonalDataExportChunk.deleteMany({ export: e._id });
    await PersonalDataExport.deleteOne({ _id: e._id });
  }
  return { expired: due.length, deleted: old.length };
}

/** Account deletion: every export of the person and its file (a preparation running finds its export gone). */
export async function deletePersonExports(person: Types.ObjectId): Promise<number> {
  const exports = await PersonalDataExport.find({ person }).select({ _id: 1 }).lean();
  for (const e of exports) await PersonalDataExportChunk.deleteMany({ export: e._id });
  const { deletedCount } = await PersonalDataExport.deleteMany({ person });
  return deletedCount;
}
