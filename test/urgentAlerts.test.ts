import { expect } from 'chai';
import { JOBS, runJobTick } from '../jobs/index.js';
import { Notification, UrgentAlert, type CommunityDoc, type PersonDoc } from '../models/index.js';
import { makeCommunity, makeProxyLink, makeResident, makeStaff } from './factories/index.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { startInstances } from './support/instances.js';
import { useCleanStorage } from './support/storage.js';

describe('紧急求助 API (the mini-program SOS button)', () => {
  useCleanStorage();
  let request: ReturnType<typeof createTestApp>['request'];
  let community: CommunityDoc;
  let elder: PersonDoc;
  let son: PersonDoc;
  let staff: PersonDoc;
  let gridWorker: PersonDoc;

  const raise = (body: object, authorization?: string) => {
    const r = request.post('/api/v1/urgent-alerts');
    return (authorization ? r.set('Authorization', authorization) : r).send(body);
  };
  const acknowledge = (id: unknown, authorization: string) =>
    request.post(`/api/v1/urgent-alerts/${id}/acknowledge`).set('Authorization', authorization).send({});

  before(async () => {
    ({ request } = createTestApp());
    community = await makeCommunity({ dutyPhone: '020-82661234' });
    staff = (await makeStaff({ community: community._id, name: '值班王姐' })).person;
    gridWorker = await makeResident({ community: community._id, roles: ['resident', 'grid_worker'], workGrids: ['第一网格'] });
  });

  beforeEach(async () => {
    await UrgentAlert.deleteMany({});
    elder = await makeResident({ community: community._id, name: '吴奶奶', grid: '第一网格', address: { building: '5栋', unit: '1单元', room: '302' } });
    son = await makeResident({ community: community._id, name: '吴先生' });
    await makeProxyLink(son, elder);
  });

  describe('POST /api/v1/urgent-alerts', () => {
    it('raises the alert for the caller (201), tells family, grid worker and staff, and gives the duty phone', async () => {
      const res = await raise({ words: '我起不来了' }, await bearerFor(elder)).expect(201);
      expect(res.body).to.include({ person: String(elder._id), source: 'api', status: 'open', recipients: 3, dutyPhone: '020-82661234' });
      expect(res.body.words).to.deep.equal(['我起不来了']);
      const notes = await Notification.find({ key: new RegExp(`^urgent-alert:${res.body.id}:`) }).lean();
      expect(notes.map((n) => String(n.person)).sort()).to.deep.equal([son, staff, gridWorker].map((p) => String(p._id)).sort());
      expect(notes[0]!.text).to.include('吴奶奶').and.include('5栋1单元302').and.include('我起不来了');
    });

    it('lets a proxy raise it for the elder; one open alert per person even when dozens race', async () => {
      const auth = await bearerFor(son);
      const results = await Promise.all(Array.from({ length: 24 }, () => raise({ forPerson: String(elder._id) }, auth)));
      expect(results.map((r) => r.status)).to.deep.equal(Array(24).fill(201));
      expect(new Set(results.map((r) => r.body.id)).size).to.equal(1);
      expect(await UrgentAlert.countDocuments({ person: elder._id })).to.equal(1);
      expect(await Notification.countDocuments({ key: new RegExp(`^urgent-alert:${results[0]!.body.id}:`) })).to.equal(3);
    });

    it('refuses a stranger raising it in someone else\'s name (403), no token (401), unknown keys (400)', async () => {
      const stranger = await makeResident({ community: community._id });
      const refused = await raise({ forPerson: String(elder._id) }, await bearerFor(stranger)).expect(403);
      expect(refused.body.error.code).to.equal('forbidden');
      await raise({}).expect(401);
      const bad = await raise({ words: '救命', level: 9 }, await bearerFor(elder)).expect(400);
      expect(bad.body.error.code).to.equal('validation_error');
      await raise({ words: 12 }, await bearerFor(elder)).expect(400);
      expect(await UrgentAlert.countDocuments({})).to.equal(0);
    });
  });

  describe('POST /api/v1/urgent-alerts/:alertId/acknowledge', () => {
    it('the first who answers takes it (200); of dozens racing exactly one wins, the rest get 409 naming who did', async () => {
      const { body: alert } = await raise({ words: '摔倒了' }, await bearerFor(elder)).expect(201);
      const [sonAuth, staffAuth, gridAuth] = await Promise.all([son, staff, gridWorker].map((p) => bearerFor(p)));
      const tries = await Promise.all(Array.from({ length: 30 }, (_, i) => acknowledge(alert.id, [sonAuth, staffAuth, gridAuth][i % 3]!)));
      const won = tries.filter((r) => r.status === 200);
      expect(won).to.have.length(1);
      expect(tries.filter((r) => r.status === 409)).to.have.length(29);
      const lost = tries.find((r) => r.status === 409)!;
      expect(lost.body.error.code).to.equal('urgent_already_acknowledged');
      expect(lost.body.error.message).to.include('已经响应');
      expect(won[0]!.body.status).to.equal('acknowledged');
      const toElder = await Notification.find({ person: elder._id, kind: 'urgent_help_acknowledged' }).lean();
      expect(toElder).to.have.length(1);
    });

    it('refuses someone who was not told (403), an unknown id (404), a malformed id (400)', async () => {
      const { body: alert } = await raise({}, await bearerFor(elder)).expect(201);
      const stranger = await makeResident({ community: community._id });
      await acknowledge(alert.id, await bearerFor(stranger)).expect(403);
      await acknowledge('6b0000000000000000000000', await bearerFor(staff)).expect(404);
      await acknowledge('nope', await bearerFor(staff)).expect(400);
      expect((await UrgentAlert.findById(alert.id).lean())!.status).to.equal('open');
    });
  });

  describe('job urgent.escalate', () => {
    it('tells the community\'s admins of an alert nobody acknowledged in URGENT_ESCALATE_AFTER_MINUTES, on one instance, once', async () => {
      const admin = await makeResident({ community: community._id, roles: ['admin'], staffScope: { community: community._id } });
      const { body: alert } = await raise({ words: '心口疼' }, await bearerFor(elder)).expect(201);
      const { instances, close } = await startInstances(2);
      try {
        const job = JOBS.find((j) => j.name === 'urgent.escalate')!;
        const at = new Date(Date.parse(alert.raisedAt) + 6 * 60_000);
        const reports = await Promise.all(instances.map((i) => runJobTick(i.deps, job, at, at)));
        expect(reports.filter((r) => r.status === 'ok')).to.have.length(1);
        const told = await Notification.find({ kind: 'urgent_help_escalated' }).lean();
        expect(told.map((n) => String(n.person))).to.deep.equal([String(admin._id)]);
        expect(told[0]!.text).to.include('吴奶奶').and.include('心口疼');
        expect((await UrgentAlert.findById(alert.id).lean())!.escalatedAt).to.be.instanceOf(Date);
      } finally {
        await close();
      }
    });
  });
});
