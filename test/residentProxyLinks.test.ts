import { expect } from 'chai';
import { Notification } from '../models/index.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { useCleanStorage } from './support/storage.js';
import { makeCommunity, makeResident, makeStaff } from './factories/index.js';

describe('GET /api/v1/residents/:personId/proxy-links (the console\'s residents page)', () => {
  useCleanStorage();

  it('lists an elder\'s links, any status, to the community\'s staff only, phones masked', async () => {
    const { request } = createTestApp();
    const community = await makeCommunity();
    const elder = await makeResident({ community: community._id, name: '赵奶奶' });
    const son = await makeResident({ community: community._id, name: '赵小明' });
    const gridWorker = await makeResident({ community: community._id, name: '孙网格', roles: ['resident', 'grid_worker'] });
    const staff = (await makeStaff({ community: community._id })).person;
    const otherStaff = (await makeStaff({ community: (await makeCommunity())._id })).person;
    const asStaff = await bearerFor(staff);

    await request.post(`/api/v1/residents/${elder._id}/proxy-links`).set('Authorization', asStaff).send({ proxyId: String(gridWorker._id), relation: '网格员' }).expect(201);
    const pending = await request.post('/api/v1/proxy-links').set('Authorization', await bearerFor(son))
      .send({ elderPhone: elder.phone, elderName: '赵奶奶', relation: '子女' }).expect(201);

    const res = await request.get(`/api/v1/residents/${elder._id}/proxy-links`).set('Authorization', asStaff).expect(200);
    expect(res.body.items.map((l: { proxy: { name: string }; status: string }) => `${l.proxy.name}:${l.status}`)).to.have.members(['孙网格:active', '赵小明:pending']);
    expect(res.body.items[0].id).to.equal(pending.body.id); // newest first
    for (const l of res.body.items) expect(l.proxy.phone).to.match(/^\d{3}\*{4}\d{4}$/);

    // The proxy's side: the grid worker's own links.
    const asProxy = await request.get(`/api/v1/residents/${gridWorker._id}/proxy-links`).set('Authorization', asStaff).expect(200);
    expect(asProxy.body.items.map((l: { elder: { name: string } }) => l.elder.name)).to.deep.equal(['赵奶奶']);

    await request.get(`/api/v1/residents/${elder._id}/proxy-links`).set('Authorization', await bearerFor(otherStaff)).expect(403);
    await request.get(`/api/v1/residents/${elder._id}/proxy-links`).set('Authorization', await bearerFor(son)).expect(403);
    await request.get(`/api/v1/residents/${elder._id}/proxy-links`).set('Authorization', await bearerFor(elder)).expect(403);
  });
});

describe('POST /api/v1/residents/:personId/reject-verification', () => {
  useCleanStorage();

  it('sends a pending sign-up back with the reason, tells the person, and verifying clears it', async () => {
    const { request } = createTestApp();
    const community = await makeCommunity();
    const newcomer = await makeResident({ community: community._id, name: '吴阿姨', status: 'pending' });
    const staff = (await makeStaff({ community: community._id })).person;
    const otherStaff = (await makeStaff({ community: (await makeCommunity())._id })).person;
    const asStaff = await bearerFor(staff);
    const url = `/api/v1/residents/${newcomer._id}/reject-verification`;

    const missing = await request.post(url).set('Authorization', asStaff).send({}).expect(400);
    expect(missing.body.error.code).to.equal('validation_error');
    await request.post(url).set('Authorization', await bearerFor(otherStaff)).send({ reason: '住址不全' }).expect(403);
    const res = await request.post(url).set('Authorization', asStaff).send({ reason: '住址缺少门牌号' }).expect(200);
    expect(res.body.status).to.equal('pending');
    expect(res.body.verificationRejection.reason).to.equal('住址缺少门牌号');
    const told = await Notification.findOne({ person: newcomer._id, kind: 'resident_verification_rejected' }).orFail();
    expect(told.text).to.include('住址缺少门牌号');

    const verified = await request.post(`/api/v1/residents/${newcomer._id}/verify`).set('Authorization', asStaff).expect(200);
    expect(verified.body).to.include({ status: 'active', verificationRejection: null });
    const again = await request.post(url).set('Authorization', asStaff).send({ reason: '再看看' }).expect(409);
    expect(again.body.error.code).to.equal('already_verified');
  });
});
