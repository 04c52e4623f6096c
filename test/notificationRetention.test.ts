import { expect } from 'chai';
import { JOBS } from '../jobs/index.js';
import { Notification, NotificationAttempt, NotificationRead, NotificationResult } from '../models/index.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { pruneNotifications } from '../src/outbox/retention.js';
import { makeResident } from './factories/index.js';
import { useCleanStorage } from './support/storage.js';

const DAY = 86_400_000;

describe('notification retention', () => {
  useCleanStorage();

  // Shanghai noon on 7 December 2026: 90 days back is 8 September, so September is the oldest month kept.
  const now = new Date('2026-12-07T04:00:00Z');
  const at = (iso: string) => new Date(iso);

  it('deletes the months wholly before the retention with their read marks, keeps a month while any of it is inside, deletes delivery records by the day, and is safe to re-run', async () => {
    const person = await makeResident();
    const note = (key: string, dueAt: Date) => Notification.create({ key, person: person._id, kind: 'room.reminder', text: '提醒', dueAt });
    // Shanghai 31 August 23:00, and 1 September 08:00 (97 days before now: past the 90, in the month kept).
    const old = await note('old', at('2026-08-31T15:00:00Z'));
    const keptLong = await note('kept-long', at('2026-09-01T00:00:00Z'));
    const recent = await note('recent', new Date(now.getTime() - 89 * DAY));
    await NotificationAttempt.create({ notification: old._id, attempt: 1, instance: 'a', claimedAt: old.dueAt });
    await NotificationResult.create({ notification: keptLong._id, attempt: 1, outcome: 'sent', final: true, at: keptLong.dueAt });
    await NotificationResult.create({ notification: recent._id, attempt: 1, outcome: 'sent', final: true, at: recent.dueAt });
    // Marks carry their notification's month, so they leave with it (read late or not).
    const mark = (n: typeof old) => NotificationRead.create({ notification: n._id, person: person._id, by: person._id, readAt: now, month: n.month, dueAt: n.dueAt });
    for (const n of [old, keptLong, recent]) await mark(n);

    expect(await pruneNotifications(90, now)).to.deep.equal({ notifications: 1, attempts: 1, results: 1, retries: 0, marks: 1 });
    expect(await Notification.exists({ _id: old._id })).to.equal(null);
    expect(await NotificationRead.exists({ notification: old._id })).to.equal(null);
    for (const kept of [keptLong, recent]) {
      expect(await Notification.exists({ _id: kept._id })).to.not.equal(null);
      expect(await NotificationRead.exists({ notification: kept._id })).to.not.equal(null);
    }
    expect(await NotificationResult.countDocuments({ notification: recent._id })).to.equal(1);
    expect(await NotificationResult.countDocuments({ notification: keptLong._id })).to.equal(0);
    expect(await pruneNotifications(90, now)).to.deep.equal({ notifications: 0, attempts: 0, results: 0, retries: 0, marks: 0 });
    // Once 90 days back is in October, September goes whole (both of its messages).
    expect((await pruneNotifications(90, at('2027-01-02T04:00:00Z'))).notifications).to.equal(2);
    expect(await Notification.countDocuments({ person: person._id })).to.equal(0);
  });

  it('deletes month by month in batches (FerretDB v1 deletes at most 65,535 records per statement), all of them, months back', async () => {
    const person = await makeResident();
    const due = [...Array.from({ length: 7 }, (_, i) => `2026-08-${String(1 + i * 4).padStart(2, '0')}T04:00:00Z`), '2026-05-10T04:00:00Z', '2025-11-20T04:00:00Z'];
    await Notification.insertMany(due.map((iso, i) => ({ key: `batch:${i}`, person: person._id, kind: 'room.reminder', text: '提醒', dueAt: at(iso) })));
    await Notification.create({ key: 'batch:kept', person: person._id, kind: 'room.reminder', text: '提醒', dueAt: at('2026-09-02T04:00:00Z') });
    expect((await pruneNotifications(90, now, 3)).notifications).to.equal(9);
    expect(await Notification.countDocuments({ person: person._id })).to.equal(1);
    expect((await pruneNotifications(90, now, 3)).notifications).to.equal(0);
  });

  it('runs daily as a job, and refuses a retention not longer than the reconcile window', () => {
    expect(JOBS.find((j) => j.name === 'outbox.pruneNotifications')).to.include({ schedule: '40 3 * * *' });
    expect(loadConfig({}).outbox.retentionDays).to.equal(90);
    expect(() => loadConfig({ NOTIFICATION_RETENTION_DAYS: '7', OUTBOX_RECONCILE_WINDOW_DAYS: '7' }))
      .to.throw(ConfigError)
      .with.property('problems')
      .that.deep.equals(['NOTIFICATION_RETENTION_DAYS: must be longer than OUTBOX_RECONCILE_WINDOW_DAYS']);
  });
});
