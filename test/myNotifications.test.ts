import { expect } from 'chai';
import { Notification, NotificationRead, type PersonDoc } from '../models/index.js';
import { shanghaiDay } from '../models/calendar.js';
import { notify } from '../src/commands/notify.js';
import { makeCommunity, makeProxyLink, makeResident, makeStaff } from './factories/index.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
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
});
