import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { Types } from 'mongoose';
import {
  chunkKey, ChildcareBooking, ChildcareWaitlistEntry, MealOrder, MealRating, Notification, NotificationRead, Person, PersonalDataExport,
  PersonalDataExportChunk, RecurringMealOrder, RoomBooking, ServiceRating, TimeBankEntry, VolunteerAbsence, VolunteerAssignment,
  WellnessAlert, WellnessVisit,
} from '../models/index.js';
import { makeChild, makeCommunity, makeProxyLink, makeResident, makeStaff } from './factories/index.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { useCleanStorage } from './support/storage.js';
import { asSelf } from '../src/auth/user.js';
import {
  CHUNK_BYTES, EXPORT_KEEP_DAYS, exportPreparationsSettled, preparePersonalDataExport, pruneExpiredExports, requestPersonalDataExport,
  resumeStaleExports, splitBytes,
} from '../src/commands/personalDataExport.js';
import { exportPersonData } from '../src/commands/privacy.js';
import { can } from '../src/policies/index.js';
import { armFailpoint, disarmFailpoints, isArmed } from '../src/runtime/failpoints.js';

// Failpoints may be armed in this process (src/runtime/failpoints.ts reads the flag when arming).
process.env.CSB_FAILPOINTS = '1';

type Request = ReturnType<typeof createTestApp>['request'];

/** Asks for my export, waits for this process to prepare it, and downloads the file. */
async function exportOf(request: Request, auth: string) {
  const asked = await request.post('/api/v1/me/exports').set('Authorization', auth).expect(202);
  await exportPreparationsSettled();
  return request.get(`/api/v1/me/exports/${asked.body.id}/file`).set('Authorization', auth).expect(200);
}

describe('a personal data export holds everything about the person', () => {
  useCleanStorage();

  it('finds one record of every kind seeded for the person, presented, and none of a neighbour\'s', async () => {
    const { request } = createTestApp();
    const community = await makeCommunity();
    const [me, son, neighbour] = [await makeResident({ community: community._id, name: '导出者' }), await makeResident({ community: community._id }), await makeResident({ community: community._id })];
    await makeProxyLink(son, me);
    const child = await makeChild(me);
    const at = new Date();
    // The stored records, as sparse as a record may be: each export section must find its own.
    const seed = async (model: { collection: { insertOne: (doc: object) => Promise<unknown> } }, doc: object) => {
      const _id = new Types.ObjectId();
      await model.collection.insertOne({ _id, community: community._id, createdAt: at, updatedAt: at, ...doc });
      return String(_id);
    };
    const bookedBy = (person: { _id: Types.ObjectId }) => ({ bookedFor: person._id, bookedBy: person._id });
    const ids = {
      roomBookings: await seed(RoomBooking, { ...bookedBy(me), purpose: '书法', status: 'confirmed', start: at, end: at }),
      mealOrders: await seed(MealOrder, {
        ...bookedBy(me), status: 'confirmed', date: '2030-01-01', meal: 'lunch', mode: 'dine_in', quantity: 1,
        breakdown: { unitPrice: 15, quantity: 1, subsidisedPrice: 12, subsidy: 3, deliveryFee: 0, toPay: 12 },
      }),
      standingMealOrders: await seed(RecurringMealOrder, { ...bookedBy(me), status: 'active' }),
      childcareBookings: await seed(ChildcareBooking, { ...bookedBy(me), child: child._id, status: 'confirmed', start: at, end: at }),
      childcareWaitlist: await seed(ChildcareWaitlistEntry, { ...bookedBy(me), child: child._id, status: 'waiting', seq: 1 }),
      volunteerAssignments: await seed(VolunteerAssignment, { volunteer: me._id, status: 'claimed' }),
      volunteerAbsences: await seed(VolunteerAbsence, { volunteer: me._id, at }),
      timeBank: await seed(TimeBankEntry, { volunteer: me._id, minutes: 60, at }),
      wellnessAlerts: await seed(WellnessAlert, { elder: me._id, kind: 'not_at_home', status: 'open', raisedAt: at }),
      wellnessVisits: await seed(WellnessVisit, { elder: me._id, at, month: '2030-01' }),
      mealRatings: await seed(MealRating, { person: me._id, by: me._id, stars: 5 }),
      roomRatings: await seed(ServiceRating, { person: me._id, by: me._id, good: true }),
      notifications: await seed(Notification, { person: me._id, key: `export:${Date.now()}`, kind: 'test', text: '导出测试消息', dueAt: at }),
    };
    await NotificationRead.create({ notification: ids.notifications, person: me._id, by: me._id, readAt: at });
    // Someone else's records never appear.
    const theirs = await seed(RoomBooking, { ...bookedBy(neighbour), purpose: '别人的', status: 'confirmed', start: at, end: at });

    const res = await exportOf(request, await bearerFor(me));
    const body = res.body as Record<string, Array<{ id: string }>> & { person: Record<string, unknown> };
    for (const [section, id] of Object.entries(ids)) {
      expect(body[section], section).to.be.an('array');
      expect(body[section]!.map((r) => r.id), section).to.include(id);
    }
    expect(body.notifications!.find((n) => n.id === ids.notifications)).to.include({ text: '导出测试消息', read: true });
    expect(body.roomBookings!.map((r) => r.id)).not.to.include(theirs);
    // The person as the API presents them (id, not _id; no internal fields), with links and children.
    expect(body.person).to.include({ id: String(me._id), name: '导出者' });
    expect(body.person).not.to.have.any.keys('_id', '__v', 'staffScope');
    expect(body.proxyLinks as unknown as Array<{ role: string }>).to.have.length(1);
    expect((body.children as unknown as Array<{ id: string }>).map((c) => c.id)).to.deep.equal([String(child._id)]);
    expect(body).to.include.keys('signIns', 'accessLog', 'exportedAt');
  });

  it('holds what was booked for the person by their 代办 and what they booked for someone else, each once; needs sign-in', async () => {
    const { request } = createTestApp();
    const community = await makeCommunity();
    const [me, son, elder] = [await makeResident({ community: community._id }), await makeResident({ community: community._id }), await makeResident({ community: community._id })];
    await makeProxyLink(son, me);
    // A link since revoked still brings what was booked through it.
    await makeProxyLink(me, elder, { status: 'revoked' });
    const staff = (await makeStaff({ community: community._id, staffScope: { community: community._id } })).person;
    const at = new Date();
    const order = async (bookedFor: Types.ObjectId, bookedBy: Types.ObjectId) => {
      const _id = new Types.ObjectId();
      await MealOrder.collection.insertOne({
        _id, community: community._id, bookedFor, bookedBy, status: 'confirmed', date: '2030-01-01', meal: 'lunch', mode: 'dine_in', quantity: 1,
        breakdown: { unitPrice: 15, quantity: 1, subsidisedPrice: 12, subsidy: 3, deliveryFee: 0, toPay: 12 }, createdAt: at, updatedAt: at,
      });
      return String(_id);
    };
    const mine = await order(me._id, me._id);
    const bySon = await order(me._id, son._id);
    const forElder = await order(elder._id, me._id);
    const notMine = await order(elder._id, son._id);
    const byStaff = await order(elder._id, staff._id);
    const res = await exportOf(request, await bearerFor(me));
    const ids = (res.body.mealOrders as Array<{ id: string }>).map((o) => o.id);
    expect([...ids].sort()).to.deep.equal([mine, bySon, forElder].sort());
    expect(ids).not.to.include(notMine);
    expect(ids).not.to.include(byStaff);
    // Staff book for anyone: a staff member's export holds what they booked for residents.
    const staffExport = await exportOf(request, await bearerFor(staff));
    expect((staffExport.body.mealOrders as Array<{ id: string }>).map((o) => o.id)).to.deep.equal([byStaff]);
    await request.post('/api/v1/me/exports').expect(401);
  });
});

describe('personal data exports are prepared in the background (POST /api/v1/me/exports)', () => {
  useCleanStorage();
  afterEach(() => disarmFailpoints());
  const DAY = 86_400_000;

  it('answers 202 at once, then the status and the file, which is what exportPersonData returns; the person is told once', async () => {
    const { request } = createTestApp();
    const community = await makeCommunity();
    const me = await makeResident({ community: community._id, name: '导出快' });
    await makeChild(me);
    const auth = await bearerFor(me);
    const asked = await request.post('/api/v1/me/exports').set('Authorization', auth).expect(202);
    expect(asked.body).to.include({ status: 'preparing' });
    expect(asked.headers.location).to.equal(`/api/v1/me/exports/${asked.body.id}`);
    await exportPreparationsSettled();
    const status = await request.get(`/api/v1/me/exports/${asked.body.id}`).set('Authorization', auth).expect(200);
    expect(status.body).to.include({ id: asked.body.id, status: 'ready' });
    expect(new Date(status.body.expiresAt).getTime() - new Date(status.body.readyAt).getTime()).to.equal(EXPORT_KEEP_DAYS * DAY);
    expect(status.body.bytes).to.be.greaterThan(100);
    const file = await request.get(`/api/v1/me/exports/${asked.body.id}/file`).set('Authorization', auth).expect(200);
    expect(file.headers['content-disposition']).to.equal('attachment; filename="my-data.json"');
    expect(file.headers['cache-control']).to.equal('no-store');
    expect(file.headers['content-encoding']).to.equal('gzip');
    expect(Buffer.byteLength(file.text)).to.equal(status.body.bytes);
    // The same content as the export made now, but for the instant it was made.
    const person = (await Person.findById(me._id))!;
    const now = JSON.parse(JSON.stringify(await exportPersonData(person, asSelf(person.toObject())))) as Record<string, unknown>;
    const { exportedAt, ...content } = file.body as Record<string, unknown>;
    delete now.exportedAt;
    // Made since: the message saying it is ready.
    now.notifications = (now.notifications as Array<{ kind: string }>).filter((n) => n.kind !== 'personal_data_export_ready');
    expect(exportedAt).to.be.a('string');
    expect(content).to.deep.equal(now);
    // Told once, with the export's id; preparing it again (a late resume) changes nothing.
    const told = await Notification.find({ person: me._id, kind: 'personal_data_export_ready' }).lean();
    expect(told).to.have.length(1);
    expect(told[0]!.text).to.include(asked.body.id);
    expect(await preparePersonalDataExport(new Types.ObjectId(asked.body.id as string), 0)).to.equal('not_taken');
    expect(await Notification.countDocuments({ person: me._id, kind: 'personal_data_export_ready' })).to.equal(1);
    // Listed, newest first; the next request is a new export.
    const again = await request.post('/api/v1/me/exports').set('Authorization', auth).expect(202);
    expect(again.body.id).not.to.equal(asked.body.id);
    await exportPreparationsSettled();
    const list = await request.get('/api/v1/me/exports').set('Authorization', auth).expect(200);
    expect(list.body.items.map((e: { id: string }) => e.id)).to.deep.equal([again.body.id, asked.body.id]);
  });

  it('makes one export however many requests race on two instances, and answers each with it', async () => {
    const instances = [createTestApp().request, createTestApp().request];
    const me = await makeResident({ community: (await makeCommunity())._id });
    const auth = await bearerFor(me);
    // Its first preparation fails, so it is still preparing when the last request arrives
    // (a fast one could be ready by then, and a request after that rightly makes a new one).
    armFailpoint('personalDataExport.prepare');
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => instances[i % 2]!.post('/api/v1/me/exports').set('Authorization', auth)));
    expect(answers.map((a) => a.status)).to.deep.equal(answers.map(() => 202));
    expect(new Set(answers.map((a) => a.body.id as string)).size).to.equal(1);
    await exportPreparationsSettled();
    expect(isArmed('personalDataExport.prepare')).to.equal(false);
    const id = answers[0]!.body.id as string;
    expect(await PersonalDataExport.find({ person: me._id }).lean()).to.have.length(1).and.to.have.nested.property('[0].status', 'preparing');
    // The resume job retries it once its short lease is over.
    expect(await resumeStaleExports(new Date(Date.now() + 2 * 60_000), 5)).to.include({ ready: 1 });
    expect((await PersonalDataExport.findById(id))!).to.include({ status: 'ready', attempts: 2 });
    expect(await Notification.countDocuments({ person: me._id, kind: 'personal_data_export_ready' })).to.equal(1);
  });

  it('refuses strangers: 401 without sign-in, 404 for someone else\'s export (staff too), 400 for a bad id, 409 while preparing', async () => {
    const { request } = createTestApp();
    const community = await makeCommunity();
    const [me, neighbour] = [await makeResident({ community: community._id }), await makeResident({ community: community._id })];
    const staff = (await makeStaff({ roles: ['staff', 'admin'], community: community._id, staffScope: { community: community._id } })).person;
    // Asked for, not started: still preparing.
    const { doc } = await requestPersonalDataExport(me._id);
    const url = `/api/v1/me/exports/${doc._id}`;
    await request.get(url).expect(401);
    await request.get(`${url}/file`).expect(401);
    await request.get('/api/v1/me/exports').expect(401);
    await request.get('/api/v1/me/export').expect(401);
    for (const who of [neighbour, staff]) {
      const res = await request.get(url).set('Authorization', await bearerFor(who)).expect(404);
      expect(res.body.error.code).to.equal('not_found');
      await request.get(`${url}/file`).set('Authorization', await bearerFor(who)).expect(404);
      expect(can(asSelf(who.toObject()), 'read', doc)).to.equal(false);
    }
    const auth = await bearerFor(me);
    await request.get('/api/v1/me/exports/not-an-id').set('Authorization', auth).expect(400);
    const extra = await request.post('/api/v1/me/exports').set('Authorization', auth).send({ format: 'csv' }).expect(400);
    expect(extra.body.error.code).to.equal('validation_error');
    await request.get(`/api/v1/me/exports/${new Types.ObjectId()}`).set('Authorization', auth).expect(404);
    const early = await request.get(`${url}/file`).set('Authorization', auth).expect(409);
    expect(early.body.error.code).to.equal('export_preparing');
    expect(early.body.error.message).to.match(/准备中/);
    // Asking again while it prepares answers the same export; the legacy GET too, with its Location.
    expect((await request.post('/api/v1/me/exports').set('Authorization', auth).expect(202)).body.id).to.equal(String(doc._id));
    const legacy = await request.get('/api/v1/me/export').set('Authorization', auth).expect(202);
    expect(legacy.headers.location).to.equal(url);
    expect(await PersonalDataExport.countDocuments({ person: me._id })).to.equal(1);
  });

  it('documents the legacy GET /me/export as deprecated, with its 202 and Location', async () => {
    type Op = { deprecated?: boolean; responses: Record<string, { headers?: object }> };
    const doc = (await createTestApp().request.get('/openapi.json').expect(200)).body as { paths: Record<string, Record<string, Op>> };
    const legacy = doc.paths['/api/v1/me/export']!.get!;
    expect(legacy.deprecated).to.equal(true);
    expect(legacy.responses['202']!.headers).to.have.property('Location');
    expect(doc.paths['/api/v1/me/exports']!.post!.responses['202']!.headers).to.have.property('Location');
    expect(doc.paths['/api/v1/me/exports/{exportId}/file']!.get!.responses).to.include.keys('200', '401', '404', '409', '410');
  });

  it('keeps the file 7 days: 410 after, then the prune deletes the file and, 30 days on, the record', async () => {
    const { request } = createTestApp();
    const me = await makeResident({ community: (await makeCommunity())._id });
    const auth = await bearerFor(me);
    const { doc } = await requestPersonalDataExport(me._id);
    expect(await preparePersonalDataExport(doc._id, 0)).to.equal('ready');
    const ready = (await PersonalDataExport.findById(doc._id))!;
    await request.get(`/api/v1/me/exports/${doc._id}/file`).set('Authorization', auth).expect(200);
    const late = new Date(ready.expiresAt!.getTime() + 1000);
    await pruneExpiredExports(new Date(ready.expiresAt!.getTime() - 1000), 100);
    expect((await PersonalDataExport.findById(doc._id))!.status).to.equal('ready');
    expect(await PersonalDataExportChunk.countDocuments({ export: doc._id })).to.equal(ready.chunks);
    expect(await pruneExpiredExports(late, 100)).to.include({ deleted: 0 });
    expect(await PersonalDataExportChunk.countDocuments({ export: doc._id })).to.equal(0);
    const gone = await request.get(`/api/v1/me/exports/${doc._id}/file`).set('Authorization', auth).expect(410);
    expect(gone.body.error).to.include({ code: 'export_expired' });
    expect((await request.get(`/api/v1/me/exports/${doc._id}`).set('Authorization', auth).expect(200)).body.status).to.equal('expired');
    // The legacy GET no longer serves it: it asks for a new one.
    expect((await request.get('/api/v1/me/export').set('Authorization', auth).expect(202)).body.id).not.to.equal(String(doc._id));
    await exportPreparationsSettled();
    await pruneExpiredExports(new Date(late.getTime() + 31 * DAY), 100);
    expect(await PersonalDataExport.countDocuments({ _id: doc._id })).to.equal(0);
    await request.get(`/api/v1/me/exports/${doc._id}`).set('Authorization', auth).expect(404);
  });

  it('resumes an export whose instance stopped (lease over), not one still held; the legacy GET then serves it', async () => {
    const { request } = createTestApp();
    const me = await makeResident({ community: (await makeCommunity())._id });
    const { doc } = await requestPersonalDataExport(me._id);
    // Taken by an instance that then died: attempt 1, lease running.
    await PersonalDataExport.updateOne({ _id: doc._id }, { $set: { attempts: 1, leaseUntil: new Date(Date.now() + 10 * 60_000) } });
    await resumeStaleExports(new Date(), 5);
    expect((await PersonalDataExport.findById(doc._id))!).to.include({ status: 'preparing', attempts: 1 });
    await resumeStaleExports(new Date(Date.now() + 11 * 60_000), 5);
    const done = (await PersonalDataExport.findById(doc._id))!;
    expect(done).to.include({ status: 'ready', attempts: 2, slot: String(doc._id) });
    expect(await PersonalDataExportChunk.countDocuments({ export: doc._id })).to.equal(done.chunks);
    expect(done.told).to.equal(true);
    // Ready but its message not stored (the outbox failed then): the job tells the person, once.
    await Notification.deleteMany({ person: me._id, kind: 'personal_data_export_ready' });
    await PersonalDataExport.updateOne({ _id: doc._id }, { $set: { told: false } });
    await resumeStaleExports(new Date(), 5);
    await resumeStaleExports(new Date(), 5);
    expect(await Notification.countDocuments({ person: me._id, kind: 'personal_data_export_ready' })).to.equal(1);
    expect((await PersonalDataExport.findById(doc._id))!.told).to.equal(true);
    const legacy = await request.get('/api/v1/me/export').set('Authorization', await bearerFor(me)).expect(200);
    expect(legacy.headers['content-disposition']).to.include('attachment');
    expect(legacy.body.person.id).to.equal(String(me._id));
    // Gives up after the third failed attempt and tells the person (a deleted person: no message).
    const { doc: other } = await requestPersonalDataExport(me._id);
    await PersonalDataExport.updateOne({ _id: other._id }, { $set: { attempts: 2, leaseUntil: new Date(0) } });
    await Person.updateOne({ _id: me._id }, { $set: { status: 'anonymised' } });
    await resumeStaleExports(new Date(), 5);
    expect((await PersonalDataExport.findById(other._id))!.status).to.equal('failed');
  });

  it('is deleted with the account, file and all', async () => {
    const { request } = createTestApp();
    const me = await makeResident({ community: (await makeCommunity())._id });
    const auth = await bearerFor(me);
    await exportOf(request, auth);
    const { doc } = await requestPersonalDataExport(me._id);
    const mine = await PersonalDataExport.find({ person: me._id }).lean();
    const ids = mine.map((e) => e._id);
    expect(mine.map((e) => e.status).sort()).to.deep.equal(['preparing', 'ready']);
    expect(await PersonalDataExportChunk.countDocuments({ export: mine.find((e) => e.status === 'ready')!._id })).to.be.greaterThan(0);
    await request.post('/api/v1/me/deletion').set('Authorization', auth).send({ confirm: '确认注销' }).expect(204);
    expect(await PersonalDataExport.countDocuments({ person: me._id })).to.equal(0);
    for (const id of ids) expect(await PersonalDataExportChunk.countDocuments({ export: id })).to.equal(0);
    // A preparation that was running finds its export gone and keeps nothing.
    expect(await preparePersonalDataExport(doc._id, 0)).to.equal('not_taken');
    expect(await PersonalDataExportChunk.countDocuments({ export: doc._id })).to.equal(0);
  });

  it('serves a file stored in several gzipped pieces as one JSON text (gzipped or not), the pieces of its own attempt only', async () => {
    const { request } = createTestApp();
    const me = await makeResident({ community: (await makeCommunity())._id });
    const text = JSON.stringify({ exportedAt: new Date(), person: { name: '分段😀' }, notes: ['一'.repeat(50), '二'.repeat(50)] });
    const pieces = splitBytes(gzipSync(text), 17);
    expect(pieces.length).to.be.greaterThan(3);
    expect(Buffer.concat(pieces).length).to.equal(gzipSync(text).length);
    const now = new Date();
    const e = await PersonalDataExport.create({
      person: me._id, slot: 'x', status: 'ready', requestedAt: now, readyAt: now, expiresAt: new Date(now.getTime() + DAY), attempts: 2, chunks: pieces.length,
    });
    await PersonalDataExport.updateOne({ _id: e._id }, { $set: { slot: String(e._id) } });
    await PersonalDataExportChunk.insertMany([
      ...pieces.map((piece, seq) => ({ _id: chunkKey(e._id, 2, seq), export: e._id, attempt: 2, seq, gzip: piece })),
      { _id: chunkKey(e._id, 1, 0), export: e._id, attempt: 1, seq: 0, gzip: gzipSync('{"stale":true}') },
    ]);
    const auth = await bearerFor(me);
    const zipped = await request.get(`/api/v1/me/exports/${e._id}/file`).set('Authorization', auth).set('Accept-Encoding', 'gzip').expect(200);
    expect(zipped.headers['content-encoding']).to.equal('gzip');
    expect(zipped.text).to.equal(text);
    const plain = await request.get(`/api/v1/me/exports/${e._id}/file`).set('Authorization', auth).set('Accept-Encoding', 'identity').expect(200);
    expect(plain.headers).not.to.have.property('content-encoding');
    expect(plain.text).to.equal(text);
    expect(plain.headers.vary).to.match(/Accept-Encoding/i);
    expect(CHUNK_BYTES).to.be.below(16 * 1024 * 1024);
  });
});
