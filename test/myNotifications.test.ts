import { expect } from 'chai';
import { Redis } from 'ioredis';
import { Types } from 'mongoose';
import { Notification, NotificationRead, type PersonDoc } from '../models/index.js';
import { shanghaiDay } from '../models/calendar.js';
import { monthOf } from '../models/notification.js';
import { forgetInboxTallies, readInboxTallies, storeInboxTally, TALLY_KEEP_SECONDS } from '../src/commands/inboxTallies.js';
import { listMyNotifications, markNotificationsRead } from '../src/commands/myNotifications.js';
import { loadAuthUser } from '../src/middlewares/authenticate.js';
import { notify, notifyMany } from '../src/commands/notify.js';
import { makeCommunity, makeProxyLink, makeResident, makeStaff } from './factories/index.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { testEnvironment } from './support/env.js';
import { useCleanStorage } from './support/storage.js';

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);

describe('GET /api/v1/me/notifications and POST /api/v1/me/notifications/read', () => {
  useCleanStorage();
  let request: ReturnType<typeof createTestApp>['request'];
  let elder: PersonDoc;
  let son: PersonDoc;
  let neighbour: PersonDoc;
  let auth: { elder: string; son: string; neighbour: string; staff: string };
  let n = 0;
  const tell = (person: PersonDoc, text: string, dueAt: Date, kind = 'room_booking_reminder') => notify(person._id, `test:me:${(n += 1)}`, kind, text, dueAt);
  const list = (token: string, query = '') => request.get(`/api/v1/me/notifications${query}`).set('Authorization', token);
  const markRead = (token: string, body: object) => request.post('/api/v1/me/notifications/read').set('Authorization', token).send(body);

  before(async () => {
    ({ request } = createTestApp());
    const community = await makeCommunity();
    [elder, son, neighbour] = [await makeResident({ community: community._id }), await makeResident({ community: community._id }), await makeResident({ community: community._id })];
    await makeProxyLink(son, elder);
    const staff = (await makeStaff({ community: community._id, staffScope: { community: community._id } })).person;
    auth = { elder: await bearerFor(elder), son: await bearerFor(son), neighbour: await bearerFor(neighbour), staff: await bearerFor(staff) };
    await tell(elder, '明天 9:00 书画室预约提醒', minutesAgo(30));
    await tell(elder, '您的预约已被工作人员取消：活动室维修', minutesAgo(20), 'room_booking_cancelled');
    await tell(elder, '候补到名额了，请在 2 小时内确认', minutesAgo(10), 'childcare_waitlist_offer');
    await tell(elder, '明天的提醒（还没到时间）', new Date(Date.now() + 86_400_000));
    await tell(neighbour, '邻居的消息', minutesAgo(5));
  });

  it('lists what the person was told, newest first, paginated, without messages not yet due or anyone else\'s', async () => {
    const first = await list(auth.elder, '?limit=2').expect(200);
    expect(first.body.items.map((i: { text: string }) => i.text)).to.deep.equal(['候补到名额了，请在 2 小时内确认', '您的预约已被工作人员取消：活动室维修']);
    expect(first.body).to.include({ page: 1, limit: 2, hasMore: true, unread: 3 });
    expect(first.body.items[0]).to.have.all.keys('id', 'kind', 'text', 'at', 'read', 'readAt');
    expect(first.body.items[0]).to.include({ kind: 'childcare_waitlist_offer', read: false, readAt: null });
    const second = await list(auth.elder, '?limit=2&page=2').expect(200);
    expect(second.body.items.map((i: { text: string }) => i.text)).to.deep.equal(['明天 9:00 书画室预约提醒']);
    expect(second.body.hasMore).to.equal(false);
  });

  it('marks given messages read (ignoring other people\'s ids), then all; marking again changes nothing', async () => {
    const items = (await list(auth.elder).expect(200)).body.items as Array<{ id: string }>;
    const theirs = String((await Notification.findOne({ person: neighbour._id }))!._id);
    expect((await markRead(auth.elder, { ids: [items[0]!.id, theirs] }).expect(200)).body).to.deep.equal({ marked: 1 });
    expect(await NotificationRead.countDocuments({ notification: theirs })).to.equal(0);
    const after = (await list(auth.elder).expect(200)).body;
    expect(after.unread).to.equal(2);
    expect(after.items[0].read).to.equal(true);
    expect(new Date(after.items[0].readAt).getTime()).to.be.closeTo(Date.now(), 60_000);
    expect((await markRead(auth.elder, { all: true }).expect(200)).body).to.deep.equal({ marked: 2 });
    expect((await markRead(auth.elder, { all: true }).expect(200)).body).to.deep.equal({ marked: 0 });
    expect((await list(auth.elder).expect(200)).body.unread).to.equal(0);
    expect((await list(auth.neighbour).expect(200)).body.unread).to.equal(1);
  });

  it('lets a 代办 read and mark an elder\'s messages with ?for=, and nobody else (staff neither)', async () => {
    const seen = await list(auth.son, `?for=${elder._id}`).expect(200);
    expect(seen.body.items).to.have.length(3);
    expect((await list(auth.son).expect(200)).body.items).to.have.length(0);
    for (const token of [auth.neighbour, auth.staff]) {
      const refused = await list(token, `?for=${elder._id}`).expect(403);
      expect(refused.body.error.code).to.equal('forbidden');
      await markRead(token, { all: true, for: String(elder._id) }).expect(403);
    }
    await markRead(auth.son, { all: true, for: String(elder._id) }).expect(200);
  });

  it('asks for ids or all (not both), in Chinese, and needs sign-in', async () => {
    const neither = await markRead(auth.elder, {}).expect(400);
    expect(neither.body.error.message).to.match(/至少需要填写其中一项/);
    await markRead(auth.elder, { ids: [String(elder._id)], all: true }).expect(400);
    await request.get('/api/v1/me/notifications').expect(401);
    await list(auth.elder, '?for=nope').expect(400);
  });

  describe('a long history, read a month at a time', () => {
    const DAY = 86_400_000;
    let reader: PersonDoc;
    let token: string;
    before(async () => {
      reader = await makeResident();
      token = await bearerFor(reader);
      await tell(reader, '五分钟前', minutesAgo(5));
      await tell(reader, '四十天前', new Date(Date.now() - 40 * DAY));
      await tell(reader, '七十天前', new Date(Date.now() - 70 * DAY));
      // Past the 90-day retention, not pruned yet: never read (outbox.pruneNotifications deletes it).
      await tell(reader, '一百三十天前', new Date(Date.now() - 130 * DAY));
    });

    it('stores each message under its due month, and pages newest first across months, leaving out what is past the retention', async () => {
      const stored = await Notification.find({ person: reader._id }).lean();
      for (const note of stored) expect(note.month).to.equal(shanghaiDay(note.dueAt).slice(0, 7));
      const texts: string[] = [];
      for (let page = 1; page <= 4; page++) {
        const res = await list(token, `?limit=1&page=${page}`).expect(200);
        texts.push(...res.body.items.map((i: { text: string }) => i.text));
        expect(res.body.hasMore).to.equal(page < 3);
        expect(res.body.unread).to.equal(3);
      }
      expect(texts).to.deep.equal(['五分钟前', '四十天前', '七十天前']);
    });

    it('counts unread across the months not shown, and marks one of an older month or all of them', async () => {
      const old = (await Notification.findOne({ person: reader._id, text: '七十天前' }))!;
      expect((await markRead(token, { ids: [String(old._id)] }).expect(200)).body).to.deep.equal({ marked: 1 });
      const mark = await NotificationRead.findOne({ notification: old._id }).lean();
      expect(mark).to.include({ month: old.month });
      expect(mark!.dueAt!.getTime()).to.equal(old.dueAt.getTime());
      const first = await list(token, '?limit=1').expect(200);
      expect(first.body.unread).to.equal(2);
      const third = await list(token, '?limit=1&page=3').expect(200);
      expect(third.body.items[0]).to.include({ text: '七十天前', read: true });
      expect((await markRead(token, { all: true }).expect(200)).body).to.deep.equal({ marked: 2 });
      expect((await list(token, '?limit=1').expect(200)).body.unread).to.equal(0);
    });

    it('answers 404 for an unknown person in `for`', async () => {
      const res = await list(token, '?for=0123456789abcdef01234567').expect(404);
      expect(res.body.error.code).to.equal('not_found');
      await markRead(token, { all: true, for: '0123456789abcdef01234567' }).expect(404);
    });
  });
  describe('the unread of months that are over, tallied in Redis', () => {
    const DAY = 86_400_000;
    const daysAgo = (d: number, plusMinutes = 0) => new Date(Date.now() - d * DAY + plusMinutes * 60_000);
    const redis = () => testEnvironment().redis;
    const inboxKey = (p: PersonDoc) => `inbox:${String(p._id)}`;
    const unread = async (token: string) => (await list(token, '?limit=1').expect(200)).body.unread as number;

    /** Two messages this month (a page of 1 is filled by them), `older` 40 days ago, one 75 days ago. */
    async function makeReader(older = 2) {
      const reader = await makeResident();
      await tell(reader, '十分钟前', minutesAgo(10));
      await tell(reader, '五分钟前', minutesAgo(5));
      await notifyMany(Array.from({ length: older }, (_, i) => ({
        person: reader._id, key: `test:older:${reader._id}:${i}`, kind: 'room_booking_reminder', text: `四十天前 ${i}`, dueAt: daysAgo(40, i),
      })));
      await tell(reader, '七十五天前', daysAgo(75));
      return { reader, token: await bearerFor(reader) };
    }

    it('counts a month that is over once, then answers its unread from Redis (kept a week at most), not from the database', async () => {
      const { reader, token } = await makeReader();
      expect(await unread(token)).to.equal(5);
      expect(await redis().hgetall(inboxKey(reader))).to.include({ [monthOf(daysAgo(40))]: '2:0', [monthOf(daysAgo(75))]: '1:0' });
      expect(await redis().ttl(inboxKey(reader))).to.be.within(1, TALLY_KEEP_SECONDS);
      // Removed behind the commands' back (nothing in the service deletes part of a month): the tally still counts it.
      await Notification.deleteOne({ person: reader._id, text: '七十五天前' });
      expect(await unread(token)).to.equal(5);
      // The tallies gone (expired, or Redis emptied): counted again from the database.
      await redis().del(inboxKey(reader));
      expect(await unread(token)).to.equal(4);
    });

    it('counts at once a mark of an older message and a message told into a month already over', async () => {
      const { reader, token } = await makeReader();
      expect(await unread(token)).to.equal(5);
      const old = (await Notification.findOne({ person: reader._id, text: '四十天前 0' }))!;
      await markRead(token, { ids: [String(old._id)] }).expect(200);
      expect(await unread(token)).to.equal(4);
      await tell(reader, '补发：四十天前的提醒', daysAgo(40, 30));
      expect(await unread(token)).to.equal(5);
      await markRead(token, { all: true }).expect(200);
      expect(await unread(token)).to.equal(0);
    });

    it('counts every month from the database when Redis is away, and stores nothing', async () => {
      const { reader } = await makeReader();
      const away = new Redis(testEnvironment().redisUrl, { lazyConnect: true });
      const found = await listMyNotifications(reader._id, { page: 1, limit: 1 }, { retentionDays: 90, redis: away });
      expect(found.unread).to.equal(5);
      expect(found.items.map((i) => i.note.text)).to.deep.equal(['五分钟前']);
      expect((await readInboxTallies(redis(), reader._id))!.tallies.size).to.equal(0);
    });

    it('never stores a tally counted before a write into its month landed', async () => {
      const person = new Types.ObjectId();
      const month = monthOf(daysAgo(60));
      const seen = (await readInboxTallies(redis(), person))!;
      await forgetInboxTallies(redis(), person, [month]); // a mark or a message landed after the count
      await storeInboxTally(redis(), person, month, seen, { told: 3, marked: 0 });
      expect((await readInboxTallies(redis(), person))!.tallies.has(month)).to.equal(false);
      const after = (await readInboxTallies(redis(), person))!;
      await storeInboxTally(redis(), person, month, after, { told: 3, marked: 1 });
      expect((await readInboxTallies(redis(), person))!.tallies.get(month)).to.deep.equal({ told: 3, marked: 1 });
    });

    it('marks all unread newest first, a limit at a time (the next call takes the rest), skipping months that are over and all read by their tally', async () => {
      const { reader, token } = await makeReader(3);
      const user = await loadAuthUser(String(reader._id), 'test');
      const opts = { retentionDays: 90, redis: redis() };
      const first = await Notification.findOne({ person: reader._id, text: '四十天前 2' });
      await markRead(token, { ids: [String(first!._id)] }).expect(200);
      const markedTexts = async () => {
        const marked = new Set((await NotificationRead.find({ person: reader._id })).map((m) => String(m.notification)));
        return (await Notification.find({ person: reader._id })).filter((n) => marked.has(String(n._id))).map((n) => n.text).sort();
      };
      expect(await markNotificationsRead(user, reader._id, { all: true }, opts, 3)).to.equal(3);
      expect(await markedTexts()).to.deep.equal(['五分钟前', '十分钟前', '四十天前 1', '四十天前 2'].sort());
      expect(await markNotificationsRead(user, reader._id, { all: true }, opts, 3)).to.equal(2);
      expect(await unread(token)).to.equal(0);
      expect(await markNotificationsRead(user, reader._id, { all: true }, opts, 3)).to.equal(0);
      // The months that are over are all read by their tallies now: a message slipped into one
      // behind the commands' back is left for the tally's next count (the next look or a week).
      await Notification.collection.insertOne({ key: `test:behind:${reader._id}`, person: reader._id, kind: 'room_booking_reminder', text: '绕过命令', dueAt: daysAgo(40, 9), month: monthOf(daysAgo(40, 9)) });
      expect(await markNotificationsRead(user, reader._id, { all: true }, opts, 3)).to.equal(0);
      await redis().del(`inbox:${reader._id}`);
      expect(await markNotificationsRead(user, reader._id, { all: true }, opts, 3)).to.equal(1);
    });

    it('keeps the count exact under 25 lists racing 25 marks of messages in a month that is over, round after round', async () => {
      const { reader, token } = await makeReader(75);
      const olds = await Notification.find({ person: reader._id, text: /^四十天前/ }).lean();
      expect(olds).to.have.length(75);
      for (let round = 1; round <= 3; round++) {
        const marking = olds.slice((round - 1) * 25, round * 25);
        await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2
          ? list(token, '?limit=1').expect(200)
          : markRead(token, { ids: [String(marking[i / 2]!._id)] }).expect(200))));
        expect(await NotificationRead.countDocuments({ person: reader._id })).to.equal(25 * round);
        expect(await unread(token)).to.equal(2 + 75 + 1 - 25 * round);
      }
    });
  });
});
