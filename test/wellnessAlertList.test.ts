import { expect } from 'chai';
import { Types } from 'mongoose';
import { WellnessAlert } from '../models/index.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { useCleanStorage } from './support/storage.js';
import { makeCommunity, makeFacility, makeResident, makeStaff } from './factories/index.js';

describe('GET /api/v1/wellness-alerts: who and where (the console\'s alerts page)', () => {
  useCleanStorage();

  it('gives staff the elder\'s name, address and grid and the kitchen\'s name, and only their community\'s alerts', async () => {
    const { request } = createTestApp();
    const community = await makeCommunity();
    const kitchen = await makeFacility(community, { kind: 'kitchen', name: '幸福食堂' });
    const elder = await makeResident({ community: community._id, name: '周爷爷', address: { building: '3栋', unit: '2单元', room: '301' }, grid: '第二网格' });
    const staff = (await makeStaff({ community: community._id })).person;
    const otherStaff = (await makeStaff({ community: (await makeCommunity())._id })).person;
    await WellnessAlert.create({
      order: new Types.ObjectId(), elder: elder._id, community: community._id, kitchen: kitchen._id, kind: 'needs_attention',
      note: '说话含糊', raisedBy: staff._id, raisedAt: new Date(), recipients: [],
    });

    const res = await request.get('/api/v1/wellness-alerts?status=open').set('Authorization', await bearerFor(staff)).expect(200);
    expect(res.body.items).to.have.length(1);
    expect(res.body.items[0]).to.include({ elderName: '周爷爷', elderAddress: '3栋2单元301', elderGrid: '第二网格', kitchenName: '幸福食堂', kind: 'needs_attention' });
    const other = await request.get('/api/v1/wellness-alerts?status=open').set('Authorization', await bearerFor(otherStaff)).expect(200);
    expect(other.body.items).to.deep.equal([]);
  });
});
