import { expect } from 'chai';
import { Person, Room } from '../models/index.js';
import { findRoom } from '../src/commands/roomBookings.js';
import { loadAuthUser } from '../src/middlewares/authenticate.js';
import { authorize, can, recordOf } from '../src/policies/index.js';
import { useCleanStorage } from './support/storage.js';
import { makeCommunity, makeFacility, makeResident, makeRoom, makeStaff } from './factories/index.js';

describe('authorize() on plain records (recordOf)', () => {
  useCleanStorage();

  async function setting() {
    const community = await makeCommunity();
    const facility = await makeFacility(community);
    const other = await makeFacility(community);
    const room = await makeRoom(facility);
    const staffOf = async (f: typeof facility) =>
      loadAuthUser(String((await makeStaff({ community: community._id, staffScope: { community: community._id, facilities: [f._id] } })).person._id), 'f');
    return { room, own: await staffOf(facility), stranger: await staffOf(other), resident: await loadAuthUser(String((await makeResident({ community: community._id }))._id), 'f') };
  }

  it('judges the plain room from findRoom like the document: its facility’s staff manage it, others may only read', async () => {
    const { room, own, stranger, resident } = await setting();
    const plain = await findRoom(String(room._id));
    expect(plain).to.not.be.instanceOf(Room);
    expect(can(own, 'manage', plain)).to.equal(true);
    expect(can(stranger, 'manage', plain)).to.equal(false);
    expect(can(resident, 'manage', plain)).to.equal(false);
    expect(can(resident, 'book', plain)).to.equal(true);
    expect(() => authorize(stranger, 'manage', plain)).to.throw().with.property('status', 403);
  });

  it('judges the caller’s own plain record (loadAuthUser marks it)', async () => {
    const { resident } = await setting();
    expect(resident.person).to.not.be.instanceOf(Person);
    expect(can(resident, 'update', resident.person)).to.equal(true);
  });

  it('refuses to guess about an unmarked plain object, and the mark does not survive a spread', async () => {
    const { room, own } = await setting();
    const plain = await findRoom(String(room._id));
    expect(() => authorize(own, 'manage', { ...plain })).to.throw(/recordOf/);
    expect(() => authorize(own, 'manage', JSON.parse(JSON.stringify(plain)) as object)).to.throw(/recordOf/);
  });

  it('leaves the mark out of keys and JSON, so presenters and caches never carry it', async () => {
    const marked = recordOf(Room, { name: '书画室' });
    expect(Object.keys(marked)).to.deep.equal(['name']);
    expect(JSON.stringify(marked)).to.equal('{"name":"书画室"}');
  });
});
