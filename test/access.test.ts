import { trusted } from 'mongoose';
import { expect } from 'chai';
import type { Response } from 'supertest';
import { AuditEntry, Identity, Person, PersonalDataExport, ProxyLink } from '../models/index.js';
import { shanghaiDay } from '../models/calendar.js';
import { backfillAuditDays } from '../src/commands/audit.js';
import { exportPreparationsSettled } from '../src/commands/personalDataExport.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { TEST_JWT_SECRET, testEnvironment } from './support/env.js';
import { capturedLogLines } from './support/logs.js';
import { useCleanStorage } from './support/storage.js';
import { makeCommunity, makeIdentity, makeResident, makeStaff } from './factories/index.js';

// A mainland mobile number standing on its own: not a run of digits inside a request id (UUID)
// or an ObjectId, whose hex now and then holds 11 decimal digits in a row and made this test flaky.
const FULL_PHONE = /(?<![\dA-Za-z])1\d{10}(?![\dA-Za-z])/g;

describe('residents, 代办 and privacy', () => {
  useCleanStorage();
  let request: ReturnType<typeof createTestApp>['request'];
  /** Every response of this file with the phones its caller may see in full. */
  const seen: Array<{ call: string; res: Response; allowed: string[] }> = [];

  async function as(person: { _id: unknown; phone?: string | null }, allowed: string[] = []) {
    const auth = await bearerFor(person as never);
    const mine = [person.phone ?? '', ...allowed].filter(Boolean);
    const wrap = (method: 'get' | 'post' | 'patch' | 'delete') => (url: string, body?: object) => {
      const req = request[method](url).set('Authorization', auth);
      req.on('response', (res: Response) => seen.push({ call: `${method.toUpperCase()} ${url}`, res, allowed: mine }));
      return body ? req.send(body) : req;
    };
    return { get: wrap('get'), post: wrap('post'), patch: wrap('patch'), delete: wrap('delete') };
  }

  let community: Awaited<ReturnType<typeof makeCommunity>>;
  let elder: Awaited<ReturnType<typeof makeResident>>;
  let neighbour: Awaited<ReturnType<typeof makeResident>>;
  let daughter: Awaited<ReturnType<typeof makeResident>>;
  let staff: Awaited<ReturnType<typeof makeResident>>;
  let otherStaff: Awaited<ReturnType<typeof makeResident>>;
  let admin: Awaited<ReturnType<typeof makeResident>>;

  before(async () => {
    ({ request } = createTestApp());
    community = await makeCommunity();
    elder = await makeResident({ community: community._id, name: '王奶奶', tags: ['独居'], emergencyContact: { name: '王小红', phone: '13900001111', relation: '女儿' } });
    neighbour = await makeResident({ community: community._id, name: '李大爷' });
    daughter = await makeResident({ community: community._id, name: '王小红', phone: '13900001111' });
    staff = (await makeStaff({ community: community._id })).person;
    otherStaff = (await makeStaff({ community: (await makeCommunity())._id })).person;
    admin = await makeResident({ community: community._id, roles: ['admin'], birthDate: undefined });
  });

  describe('GET /api/v1/me and PATCH /api/v1/me', () => {
    it('shows my own record with my full phone and birth date', async () => {
      // Their own record includes the emergency contact they gave, in full.
      const res = await (await as(elder, ['13900001111'])).get('/api/v1/me').expect(200);
      expect(res.body).to.include({ id: String(elder._id), name: '王奶奶', phone: elder.phone });
      expect(res.body.birthDate).to.be.a('string');
      expect(res.body.tags).to.include('独居');
    });

    it('lets a new user complete the profile, then staff verify it', async () => {
      const session = (await request.post('/api/v1/auth/wechat/login').send({ code: 'newcomer#1' }).expect(200)).body;
      const auth = `Bearer ${session.accessToken}`;
      const incomplete = await request.post(`/api/v1/residents/${session.person.id}/verify`).set('Authorization', await bearerFor(admin)).expect(409);
      expect(incomplete.body.error.code).to.equal('profile_incomplete');
      const done = await request.patch('/api/v1/me').set('Authorization', auth).send({
        name: '赵新来', phone: '13700002222', birthDate: '1950-05-01', community: String(community._id),
        address: { building: '3栋', unit: '2单元', room: '301' }, dietaryNeeds: ['低盐'],
      }).expect(200);
      expect(done.body).to.include({ status: 'pending', name: '赵新来', phone: '13700002222' });
      // Staff over the resident see the full phone.
      const verified = await (await as(staff, ['13700002222'])).post(`/api/v1/residents/${session.person.id}/verify`).expect(200);
      expect(verified.body.status).to.equal('active');
      const again = await (await as(staff, ['13700002222'])).post(`/api/v1/residents/${session.person.id}/verify`).expect(409);
      expect(again.body.error.code).to.equal('already_verified');
    });

    it('refuses a tag set by the resident themself (400) and unknown fields', async () => {
      const me = await as(neighbour);
      const res = await me.patch('/api/v1/me', { tags: ['特困'] }).expect(400);
      expect(res.body.error.details[0].field).to.equal('body.tags');
      await me.patch('/api/v1/me', { name: trusted({ $ne: null }) }).expect(400);
      expect((await Person.findById(neighbour._id))!.tags).to.deep.equal([]);
    });

    it('needs a token (401)', async () => {
      await request.get('/api/v1/me').expect(401);
      await request.get('/api/v1/me').set('Authorization', 'Basic abc').expect(401);
    });
  });

  describe('GET /api/v1/residents/:personId', () => {
    it('refuses a resident reading or changing another resident (403), changing nothing', async () => {
      const me = await as(neighbour);
      const res = await me.get(`/api/v1/residents/${elder._id}`).expect(403);
      expect(res.body.error.code).to.equal('forbidden');
      await me.patch(`/api/v1/residents/${elder._id}`, { dietaryNeeds: ['素食'] }).expect(403);
      await me.post(`/api/v1/residents/${elder._id}/binding-code`).expect(403);
      await me.delete(`/api/v1/residents/${elder._id}/bot-binding`).expect(403);
      await me.post(`/api/v1/residents/${elder._id}/verify`).expect(403);
      expect((await Person.findById(elder._id))!.dietaryNeeds).to.deep.equal([]);
    });

    it('lets staff set hardship tags and audits the change by field name, not value', async () => {
      const res = await (await as(staff, [neighbour.phone!])).patch(`/api/v1/residents/${neighbour._id}`, { tags: ['低保'] }).expect(200);
      expect(res.body.tags).to.include('低保');
      const entry = await AuditEntry.findOne({ actor: staff._id, action: 'resident.update', subject: neighbour._id });
      expect(entry!.fields).to.deep.equal(['tags']);
      expect(JSON.stringify(entry)).not.to.include('低保');
    });

    it('shows staff of the community the full record and audits the read', async () => {
      const res = await (await as(staff, [elder.phone!, '13900001111'])).get(`/api/v1/residents/${elder._id}`).expect(200);
      expect(res.body.phone).to.equal(elder.phone);
      const entry = await AuditEntry.findOne({ actor: staff._id, action: 'resident.read', subject: elder._id });
      expect(entry).to.exist;
    });

    it('tells staff over the resident whether a WeChat bot contact is bound, and not the resident', async () => {
      const sun = await makeResident({ community: community._id, name: '孙爷爷' });
      const before = await (await as(staff, [sun.phone!])).get(`/api/v1/residents/${sun._id}`).expect(200);
      expect(before.body.botBound).to.equal(false);
      await makeIdentity(sun, { provider: 'wechat_bot', subject: 'contact-sun' });
      const after = await (await as(admin, [sun.phone!])).get(`/api/v1/residents/${sun._id}`).expect(200);
      expect(after.body.botBound).to.equal(true);
      // The resident reading their own record through this route is not told (staff's field).
      const own = await (await as(sun)).get(`/api/v1/residents/${sun._id}`).expect(200);
      expect(own.body).not.to.have.property('botBound');
    });

    it('audits a staff listing of residents (one entry for the list)', async () => {
      // Staff see the full phones of their community's residents.
      const phones = (await Person.find({ community: community._id }).lean()).map((p) => p.phone ?? '').filter(Boolean);
      await (await as(staff, phones)).get('/api/v1/residents').expect(200);
      const entry = await AuditEntry.findOne({ actor: staff._id, action: 'resident.list' });
      expect(entry).to.exist;
      expect(entry!.subject).to.equal(undefined);
    });

    it('refuses staff of another community (403)', async () => {
      await (await as(otherStaff)).get(`/api/v1/residents/${elder._id}`).expect(403);
      await (await as(otherStaff)).patch(`/api/v1/residents/${elder._id}`, { grid: 'x' }).expect(403);
      await (await as(otherStaff)).post(`/api/v1/residents/${elder._id}/verify`).expect(403);
    });

    it('answers 404 for an unknown id and 400 for a malformed one', async () => {
      await (await as(staff)).get('/api/v1/residents/65a1b2c3d4e5f6a7b8c9d0e1').expect(404);
      await (await as(staff)).get('/api/v1/residents/not-an-id').expect(400);
    });
  });

  describe('代办: POST /api/v1/proxy-links, confirm, act, revoke', () => {
    it('lets a family member act for an elder only after the elder confirms, and not after revocation', async () => {
      const helper = await as(daughter);
      // Before any link: no access.
      await helper.get(`/api/v1/residents/${elder._id}`).expect(403);
      const wrongName = await helper.post('/api/v1/proxy-links', { elderPhone: elder.phone, elderName: '别人', relation: '子女' }).expect(404);
      expect(wrongName.body.error.message).to.include('核对姓名和手机号');
      const requested = await helper.post('/api/v1/proxy-links', { elderPhone: elder.phone, elderName: '王奶奶', relation: '子女' }).expect(201);
      expect(requested.body).to.include({ status: 'pending', relation: '子女' });
      expect(requested.body.elder.phone).to.match(/^\d{3}\*{4}\d{4}$/);
      await helper.get(`/api/v1/residents/${elder._id}`).expect(403);
      // Only the elder (or staff) may confirm.
      await helper.post(`/api/v1/proxy-links/${requested.body.id}/confirm`).expect(403);
      await (await as(elder, ['13900001111'])).post(`/api/v1/proxy-links/${requested.body.id}/confirm`).expect(200);

      // Acting: read (phone masked: proxies are not staff) and change the elder's record.
      const read = await helper.get(`/api/v1/residents/${elder._id}`).expect(200);
      expect(read.body.phone).to.equal(`${elder.phone!.slice(0, 3)}****${elder.phone!.slice(-4)}`);
      await helper.patch(`/api/v1/residents/${elder._id}`, { dietaryNeeds: ['低盐', '软食'] }).expect(200);
      expect((await Person.findById(elder._id))!.dietaryNeeds).to.deep.equal(['低盐', '软食']);
      // A proxy may not set hardship tags.
      await helper.patch(`/api/v1/residents/${elder._id}`, { tags: ['特困'] }).expect(403);

      await (await as(elder, ['13900001111'])).delete(`/api/v1/proxy-links/${requested.body.id}`).expect(200);
      await helper.get(`/api/v1/residents/${elder._id}`).expect(403);
      await helper.patch(`/api/v1/residents/${elder._id}`, { dietaryNeeds: [] }).expect(403);
      const again = await helper.delete(`/api/v1/proxy-links/${requested.body.id}`).expect(409);
      expect(again.body.error.code).to.equal('proxy_link_revoked');
    });

    it('lets staff link a grid worker directly, and refuses staff of another community', async () => {
      const gridWorker = await makeResident({ community: community._id, roles: ['resident', 'grid_worker'] });
      await (await as(otherStaff)).post(`/api/v1/residents/${neighbour._id}/proxy-links`, { proxyId: String(gridWorker._id), relation: '网格员' }).expect(403);
      const link = await (await as(staff)).post(`/api/v1/residents/${neighbour._id}/proxy-links`, { proxyId: String(gridWorker._id), relation: '网格员' }).expect(201);
      expect(link.body).to.include({ status: 'active', confirmedBy: 'staff' });
      await (await as(gridWorker)).get(`/api/v1/residents/${neighbour._id}`).expect(200);
      const mine = await (await as(gridWorker)).get('/api/v1/me/proxy-links').expect(200);
      expect(mine.body.items.map((l: { elder: { id: string } }) => l.elder.id)).to.include(String(neighbour._id));
    });
  });

  describe('bot binding codes', () => {
    it('gives a resident a 6-digit code valid for 10 minutes, and staff one for their residents only', async () => {
      const res = await (await as(neighbour)).post('/api/v1/me/binding-code').expect(201);
      expect(res.body.code).to.match(/^\d{6}$/);
      const ttl = await testEnvironment().redis.ttl(`bot-binding:code:${res.body.code}`);
      expect(ttl).to.be.within(595, 600);
      await (await as(staff)).post(`/api/v1/residents/${neighbour._id}/binding-code`).expect(201);
      await (await as(otherStaff)).post(`/api/v1/residents/${neighbour._id}/binding-code`).expect(403);
      // A new code replaces the previous one.
      expect(await testEnvironment().redis.get(`bot-binding:code:${res.body.code}`)).to.equal(null);
    });

    it('lets staff unbind a resident’s bot contact', async () => {
      await makeIdentity(neighbour, { provider: 'wechat_bot', subject: 'contact-li' });
      await (await as(otherStaff)).delete(`/api/v1/residents/${neighbour._id}/bot-binding`).expect(403);
      const res = await (await as(staff)).delete(`/api/v1/residents/${neighbour._id}/bot-binding`).expect(200);
      expect(res.body.unbound).to.equal(1);
      expect(await Identity.countDocuments({ provider: 'wechat_bot', person: neighbour._id })).to.equal(0);
    });
  });

  describe('GET /api/v1/audit-entries', () => {
    it('is for admins only', async () => {
      await (await as(staff)).get('/api/v1/audit-entries').expect(403);
      await (await as(elder)).get('/api/v1/audit-entries').expect(403);
      const res = await (await as(admin)).get(`/api/v1/audit-entries?actor=${staff._id}`).expect(200);
      expect(res.body.items.map((e: { action: string }) => e.action)).to.include('resident.read');
    });

    it('names the actor and the subject next to their ids, newest first, filtered by subject, actor and action', async () => {
      await (await as(staff, [elder.phone!, '13900001111'])).get(`/api/v1/residents/${elder._id}`).expect(200);
      const reads = await (await as(admin)).get(`/api/v1/audit-entries?subject=${elder._id}&actor=${staff._id}&action=resident.read`).expect(200);
      expect(reads.body.items.length).to.be.greaterThan(0);
      for (const e of reads.body.items) {
        expect(e).to.include({ actor: String(staff._id), actorName: staff.name, subject: String(elder._id), subjectName: '王奶奶', action: 'resident.read' });
      }
      const ats = reads.body.items.map((e: { at: string }) => e.at);
      expect(ats).to.deep.equal([...ats].sort().reverse());
      // A listing has no subject, so no subject name.
      const listing = await (await as(admin)).get(`/api/v1/audit-entries?actor=${staff._id}&action=resident.list&limit=1`).expect(200);
      expect(listing.body.items).to.have.length(1);
      expect(listing.body.items[0]).to.include({ subject: null, subjectName: null, actorName: staff.name });
    });

    it('refuses a malformed filter (400)', async () => {
      await (await as(admin)).get('/api/v1/audit-entries?subject=not-an-id').expect(400);
      await (await as(admin)).get('/api/v1/audit-entries?limit=501').expect(400);
      await (await as(admin)).get('/api/v1/audit-entries?action=resident%20read').expect(400);
      await (await as(admin)).get('/api/v1/audit-entries?before=yesterday').expect(400);
      await request.get('/api/v1/audit-entries').expect(401);
    });

    it('pages the trail a day at a time, newest first, nextBefore continuing it without gaps or repeats', async () => {
      const action = 'bench.pageTrail';
      const now = Date.now();
      const DAY = 86_400_000;
      // Five entries over three days, and one before the 92-day window (a later page).
      const ats = [0, 1, 2, DAY + 5, 2 * DAY + 7, 100 * DAY].map((ms) => new Date(now - 60_000 - ms));
      const made = await AuditEntry.insertMany(ats.map((at) => ({ actor: staff._id, subject: elder._id, action, at })));
      expect(made.map((e) => e.get('day'))).to.deep.equal(ats.map((at) => shanghaiDay(at)));
      const page = (q: string) => as(admin).then((a) => a.get(`/api/v1/audit-entries?action=${action}${q}`).expect(200));

      const first = await page('&limit=2');
      expect(first.body.items.map((e: { at: string }) => e.at)).to.deep.equal(ats.slice(0, 2).map((d) => d.toISOString()));
      expect(first.body.items[0]).to.include({ actorName: staff.name, subjectName: '王奶奶' });
      expect(first.body.nextBefore).to.equal(ats[1]!.toISOString());
      const second = await page(`&limit=2&before=${first.body.nextBefore}`);
      expect(second.body.items.map((e: { at: string }) => e.at)).to.deep.equal(ats.slice(2, 4).map((d) => d.toISOString()));
      // The rest of the window: one entry, then the window's start to go on from.
      const third = await page(`&limit=10&before=${second.body.nextBefore}`);
      expect(third.body.items.map((e: { at: string }) => e.at)).to.deep.equal([ats[4]!.toISOString()]);
      expect(new Date(third.body.nextBefore).getTime()).to.be.lessThan(ats[4]!.getTime()).and.greaterThan(ats[5]!.getTime());
      const fourth = await page(`&limit=10&before=${third.body.nextBefore}`);
      expect(fourth.body.items.map((e: { at: string }) => e.at)).to.deep.equal([ats[5]!.toISOString()]);
      // A staff member's trail is paged the same way; a resident's is read whole and paged.
      const byActor = await (await as(admin)).get(`/api/v1/audit-entries?actor=${staff._id}&action=${action}&limit=5`).expect(200);
      expect(byActor.body.items).to.have.length(5);
      const bySubject = await (await as(admin)).get(`/api/v1/audit-entries?subject=${elder._id}&action=${action}&limit=5`).expect(200);
      expect(bySubject.body.items.map((e: { at: string }) => e.at)).to.deep.equal(ats.slice(0, 5).map((d) => d.toISOString()));
      expect(bySubject.body.nextBefore).to.equal(ats[4]!.toISOString());
      const lastOfSubject = await (await as(admin)).get(`/api/v1/audit-entries?subject=${elder._id}&action=${action}&before=${bySubject.body.nextBefore}`).expect(200);
      expect(lastOfSubject.body).to.deep.include({ nextBefore: null });
      expect(lastOfSubject.body.items).to.have.length(1);
    });

    it('pages entries written in the same millisecond (one list audits every resident it shows) without skipping or repeating one', async () => {
      const action = 'bench.sameInstant';
      const at = new Date(Date.now() - 30_000);
      const made = await AuditEntry.insertMany(Array.from({ length: 5 }, () => ({ actor: staff._id, subject: elder._id, action, at })));
      const seen: string[] = [];
      let cursor = '';
      for (let i = 0; i < 3; i++) {
        const res = await (await as(admin)).get(`/api/v1/audit-entries?action=${action}&limit=2${cursor}`).expect(200);
        seen.push(...res.body.items.map((e: { id: string }) => e.id));
        if (!res.body.nextBeforeId) break;
        expect(res.body.nextBefore).to.equal(at.toISOString());
        cursor = `&before=${res.body.nextBefore}&beforeId=${res.body.nextBeforeId}`;
      }
      expect(seen).to.have.length(5);
      expect([...seen].sort()).to.deep.equal(made.map((e) => String(e._id)).sort());
      // The same for a resident's trail, read by subject.
      const bySubject = await (await as(admin)).get(`/api/v1/audit-entries?subject=${elder._id}&action=${action}&limit=3`).expect(200);
      const rest = await (await as(admin)).get(`/api/v1/audit-entries?subject=${elder._id}&action=${action}&before=${bySubject.body.nextBefore}&beforeId=${bySubject.body.nextBeforeId}`).expect(200);
      expect([...bySubject.body.items, ...rest.body.items].map((e: { id: string }) => e.id).sort()).to.deep.equal(made.map((e) => String(e._id)).sort());
      await (await as(admin)).get(`/api/v1/audit-entries?before=${at.toISOString()}&beforeId=nope`).expect(400);
    });

    it('gives entries written before the day field their day', async () => {
      const at = new Date(Date.now() - 3 * 86_400_000);
      const { insertedId } = await AuditEntry.collection.insertOne({ actor: staff._id, action: 'bench.legacy', at });
      expect(await backfillAuditDays()).to.be.greaterThan(0);
      expect((await AuditEntry.findById(insertedId).lean())!.day).to.equal(shanghaiDay(at));
      expect(await backfillAuditDays()).to.equal(0);
      const res = await (await as(admin)).get('/api/v1/audit-entries?action=bench.legacy').expect(200);
      expect(res.body.items.map((e: { id: string }) => e.id)).to.deep.equal([String(insertedId)]);
    });
  });

  describe('POST /api/v1/me/exports and POST /api/v1/me/deletion', () => {
    it('exports my data without secrets, then anonymises me and ends my sessions', async () => {
      const leaving = await makeResident({ community: community._id, name: '钱要走', phone: '13700009999' });
      await makeIdentity(leaving, { provider: 'wechat_bot', subject: 'contact-qian' });
      const me = await as(leaving);
      const asked = await me.post('/api/v1/me/exports').expect(202);
      await exportPreparationsSettled();
      const exported = await me.get(`/api/v1/me/exports/${asked.body.id}/file`).expect(200);
      expect(exported.headers['content-disposition']).to.include('attachment');
      expect(exported.body.person.name).to.equal('钱要走');
      expect(exported.body.signIns).to.deep.equal([{ provider: 'wechat_bot', since: exported.body.signIns[0].since }]);
      expect(JSON.stringify(exported.body)).not.to.include('contact-qian');

      await me.post('/api/v1/me/deletion', { confirm: '好的' }).expect(400);
      await me.post('/api/v1/me/deletion', { confirm: '确认注销' }).expect(204);
      const after = await Person.findById(leaving._id);
      expect(after).to.include({ status: 'anonymised', name: '已注销居民' });
      expect(after!.phone).to.equal(undefined);
      expect(String(after!.community)).to.equal(String(community._id));
      expect(await Identity.countDocuments({ person: leaving._id })).to.equal(0);
      expect(await PersonalDataExport.countDocuments({ person: leaving._id })).to.equal(0);
      // Every session ended with the deletion.
      const res = await me.get('/api/v1/me').expect(401);
      expect(res.body.error.code).to.equal('token_invalid');
      expect(await ProxyLink.countDocuments({ $or: [{ proxy: leaving._id }, { elder: leaving._id }], status: trusted({ $ne: 'revoked' }) })).to.equal(0);
    });
  });

  describe('privacy across every response and log line of this file', () => {
    it('shows no full phone number but the caller’s own (or staff’s residents’), and no secret', async () => {
      expect(seen.length).to.be.greaterThan(20);
      for (const { call, res, allowed } of seen) {
        const text = JSON.stringify(res.body);
        const phones = text.match(FULL_PHONE) ?? [];
        for (const phone of phones) expect(allowed, `${call}: ${phone}`).to.include(phone);
        expect(text).not.to.include(TEST_JWT_SECRET);
        expect(text).not.to.include('$argon2');
      }
      const logs = capturedLogLines.join('\n');
      expect(logs.match(FULL_PHONE) ?? []).to.deep.equal([]);
      expect(logs).not.to.include(TEST_JWT_SECRET);
      expect(logs).not.to.match(/Bearer ey/);
    });
  });
});
