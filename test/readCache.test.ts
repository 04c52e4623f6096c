import { expect } from 'chai';
import { Redis } from 'ioredis';
import { Blackout, Person, ProxyLink, Room } from '../models/index.js';
import { bumpGeneration, cachedRead, forgetCachedReads, useReadCache } from '../src/cache/readCache.js';
import { loadAuthUser } from '../src/middlewares/authenticate.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { testEnvironment } from './support/env.js';
import { useCleanStorage } from './support/storage.js';
import { makeCommunity, makeFacility, makeProxyLink, makeResident, makeRoom } from './factories/index.js';
import { dayjs } from '../models/calendar.js';

describe('read cache (src/cache/readCache.ts)', () => {
  useCleanStorage();

  describe('cachedRead', () => {
    it('answers from Redis until a write to one of its collections, then reads again', async () => {
      let loads = 0;
      const load = async () => {
        loads += 1;
        return { n: loads, at: new Date('2026-11-23T02:00:00Z') };
      };
            const a = await cachedRead('t:1', ['Room'], load);
      const b = await cachedRead('t:1', ['Room'], load);
      expect(b).to.deep.equal(a);
      expect(b.at).to.be.instanceOf(Date);
      const room = await makeRoom(await makeFacility());
      await Room.updateOne({ _id: room._id }, { $set: { capacity: 3 } });
      const c = await cachedRead('t:1', ['Room'], load);
      expect(c.n).to.be.greaterThan(b.n);
    });

    it('shared: hands every caller of the process the same decoded value while the tokens hold, and reads again after a write', async () => {
      let loads = 0;
      const load = async () => ({ n: ++loads, rooms: [{ name: '多功能厅', at: new Date('2026-11-23T02:00:00Z') }] });
      const a = await cachedRead('t:shared', ['Room'], load, { shared: true });
      const b = await cachedRead('t:shared', ['Room'], load, { shared: true });
      expect(b).to.equal(a); // the same object: not decoded again
      expect(b.rooms[0]!.at).to.be.instanceOf(Date);
      expect(loads).to.equal(1);
      // Under test a shared value is frozen all the way down: a caller changing it fails here.
      expect(Object.isFrozen(b) && Object.isFrozen(b.rooms[0])).to.equal(true);
      expect(() => {
        (b.rooms[0] as { name: string }).name = '改了';
      }).to.throw(TypeError);
      await bumpGeneration('Room');
      const c = await cachedRead('t:shared', ['Room'], load, { shared: true });
      expect(c).to.not.equal(a);
      expect(c.n).to.equal(2);
      // Another process (no decoded copy) reads the same entry from Redis.
      const d = await cachedRead('t:shared', ['Room'], load);
      expect(d).to.deep.equal(c);
      expect(d).to.not.equal(c);
    });

    it('caches the first read of a collection nobody has written yet (its token is taken before the read)', async () => {
      const collection = `NeverWritten${process.pid}${Date.now()}`;
      let loads = 0;
      const load = async () => {
        await new Promise((r) => setTimeout(r, 50)); // a database read, still running when the second reader asks
        return ++loads;
      };
      const [x, y] = await Promise.all([cachedRead('t:fresh', [collection], load), cachedRead('t:fresh', [collection], load)]);
      expect([x, y]).to.deep.equal([1, 1]);
      expect(await cachedRead('t:fresh', [collection], load)).to.equal(1);
      await bumpGeneration(collection); // a first write: read again
      expect(await cachedRead('t:fresh', [collection], load)).to.equal(2);
    });

    it('never keeps a value read before a racing write (the write wins)', async () => {
      const person = await makeResident();
      await loadAuthUser(String(person._id), 'f'); // tokens exist for Person and ProxyLink
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      // A reader that read the database, then stalls before storing what it read.
      const stale = cachedRead(`auth:${person._id}`, ['Person', 'ProxyLink'], async () => {
        const found = await Person.findById(person._id).lean();
        await gate;
        return { person: found, elders: [] as string[] };
      });
      await new Promise((r) => setTimeout(r, 50));
      await Person.updateOne({ _id: person._id }, { $set: { status: 'anonymised' } });
      release();
      await stale;
      const err = await loadAuthUser(String(person._id), 'f').catch((e) => e);
      expect(err.code).to.equal('account_deleted');
    });

    it('reads the database when the cache has no Redis, and when Redis is down', async () => {
      const room = await makeRoom(await makeFacility());
      useReadCache(null);
      try {
        expect((await cachedRead('t:2', ['Room'], async () => 'db'))).to.equal('db');
      } finally {
        useReadCache(testEnvironment().redis);
      }
      const dead = new Redis('redis://127.0.0.1:9', { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
      useReadCache(dead);
      try {
        expect(await cachedRead('t:2', ['Room'], async () => 'db again')).to.equal('db again');
        await Room.updateOne({ _id: room._id }, { $set: { capacity: 4 } }); // a write still succeeds
      } finally {
        useReadCache(testEnvironment().redis);
        dead.disconnect();
      }
    });

    it('forgetCachedReads outdates every entry (for scripts that write around the hooks)', async () => {
      let loads = 0;
      const load = async () => ++loads;
      await makeResident(); // the collection has a token
      const first = await cachedRead('t:3', ['Person'], load);
      expect(await cachedRead('t:3', ['Person'], load)).to.equal(first);
      await forgetCachedReads(testEnvironment().redis);
      expect(await cachedRead('t:3', ['Person'], load)).to.equal(first + 1);
    });
  });

  describe('what the booking path caches is fresh after every change', () => {
    let request: ReturnType<typeof createTestApp>['request'];
    before(() => ({ request } = createTestApp()));
    const start = dayjs().tz('Asia/Shanghai').add(3, 'day').hour(10).minute(0).second(0).millisecond(0);
    const body = (hour: number) => ({
      start: start.hour(hour).toISOString(), end: start.hour(hour + 1).toISOString(), purpose: '合唱排练', attendees: 6,
    });

    it('a proxy link revoked, a room made smaller, a blackout added: each is seen by the next booking', async () => {
      const community = await makeCommunity();
      const facility = await makeFacility(community);
      const room = await makeRoom(facility, { capacity: 10 });
      const elder = await makeResident({ community: community._id });
      const son = await makeResident({ community: community._id });
      const link = await makeProxyLink(son, elder);
      const auth = await bearerFor(son);
      const post = (b: object) => request.post(`/api/v1/rooms/${room._id}/bookings`).set('Authorization', auth).send(b);

      await post({ ...body(9), forPerson: String(elder._id) }).expect(201);
      await ProxyLink.updateOne({ _id: link._id }, { $set: { status: 'revoked' } });
      await post({ ...body(11), forPerson: String(elder._id) }).expect(403);

      await post(body(13)).expect(201);
      await Room.updateOne({ _id: room._id }, { $set: { capacity: 5 } });
      expect((await post(body(14)).expect(400)).body.error.code).to.equal('too_many_attendees');

      await Blackout.create({ facility: facility._id, start: start.hour(15).toDate(), end: start.hour(18).toDate(), reason: '电路检修', createdBy: son._id });
      expect((await post({ ...body(16), attendees: 2 }).expect(409)).body.error.code).to.equal('room_blacked_out');
    });
  });
});
