import { expect } from 'chai';
import { Types } from 'mongoose';
import { JOBS } from '../jobs/index.js';
import { Notification, NotificationAttempt, NotificationRead, NotificationResult } from '../models/index.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { pruneNotifications } from '../src/outbox/retention.js';
import { makeResident } from './factories/index.js';
import { useCleanStorage } from './support/storage.js';

const DAY = 86_400_000;

describe('notification retention', () => {
  useCleanStorage();

  it('deletes notifications due before the retention period with their delivery records and read marks, keeps the rest, and is safe to re-run', async () => {
    const person = await makeResident();
    const now = new Date();
    const note = (key: string, daysAgo: number) =>
      Notification.create({ key, person: person._id, kind: 'room.reminder', text: '提醒', dueAt: new Date(now.getTime() - daysAgo * DAY) });
    const old = await note('old', 91);
    const recent = await note('recent', 89);
    const ago = (days: number) => new Date(now.getTime() - days * DAY);
    await NotificationAttempt.create({ notification: old._id, attempt: 1, instance: 'a', claimedAt: ago(91) });
    await NotificationResult.create({ notification: old._id, attempt: 1, outcome: 'sent', final: true, at: ago(91) });
    await NotificationResult.create({ notification: recent._id, attempt: 1, outcome: 'sent', final: true, at: ago(89) });
    // Marks carry their notification's due time, so they leave with it (read late or not).
    const mark = (n: typeof old) => NotificationRead.create({ notification: n._id, person: person._id, by: person._id, readAt: now, month: n.month, dueAt: n.dueAt });
    await mark(old);
    await mark(recent);

    expect(await pruneNotifications(90, now)).to.deep.equal({ notifications: 1, attempts: 1, results: 1, retries: 0, marks: 1 });
    expect(await NotificationRead.exists({ notification: old._id })).to.equal(null);
    expect(await NotificationRead.exists({ notification: recent._id })).to.not.equal(null);
    expect(await Notification.exists({ _id: old._id })).to.equal(null);
    expect(await Notification.exists({ _id: recent._id })).to.not.equal(null);
    expect(await NotificationResult.countDocuments({ notification: recent._id })).to.equal(1);
    expect(await pruneNotifications(90, now)).to.deep.equal({ notifications: 0, attempts: 0, results: 0, retries: 0, marks: 0 });
    expect(await NotificationResult.countDocuments({ notification: new Types.ObjectId() })).to.equal(0);
  });

  it('deletes month by month in batches (FerretDB v1 deletes at most 65,535 records per statement), all of them, months back', async () => {
    const person = await makeResident();
    const now = new Date();
    await Notification.insertMany([...Array.from({ length: 7 }, (_, i) => 91 + i * 5), 200, 400].map((days, i) => ({
      key: `batch:${i}`, person: person._id, kind: 'room.reminder', text: '提醒', dueAt: new Date(now.getTime() - days * DAY),
    })));
    await Notification.create({ key: 'batch:kept', person: person._id, kind: 'room.reminder', text: '提醒', dueAt: new Date(now.getTime() - 89 * DAY) });
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
