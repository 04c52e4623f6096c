import { expect } from 'chai';
import { Types } from 'mongoose';
import { CapacityClaim } from '../models/index.js';
import { claimPlaces } from '../src/booking/claims.js';
import { setStoreKind, storeKind, type StoreKind } from '../src/storage/storeKind.js';
import { useCleanStorage } from './support/storage.js';

/**
 * claimPlaces on both paths, whatever store the run uses: insert-first (FerretDB v1) and
 * read-free-places-first (index-backed stores). The unique index is the guard on both.
 */
describe('claimPlaces', () => {
  useCleanStorage();
  let detected: StoreKind;
  before(() => {
    detected = storeKind();
  });
  after(() => setStoreKind(detected));

  for (const kind of ['scan', 'indexed'] as const) {
    describe(`on ${kind === 'scan' ? 'a scan-backed' : 'an index-backed'} store`, () => {
      before(() => setStoreKind(kind));

      it('50 racers for the last place: exactly one wins, the others get null and keep nothing', async () => {
        const key = `race-one:${kind}`;
        await CapacityClaim.insertMany(Array.from({ length: 9 }, (_, slot) => ({ key, slot, holder: new Types.ObjectId() })));
        const holders = Array.from({ length: 50 }, () => new Types.ObjectId());
        const results = await Promise.all(holders.map((h) => claimPlaces(key, 10, 1, h)));
        const winners = results.filter((r) => r !== null);
        expect(winners).to.deep.equal([[9]]);
        expect(await CapacityClaim.countDocuments({ key })).to.equal(10);
      });

      it('50 racers for 10 free places: exactly 10 win, each place once', async () => {
        const key = `race-ten:${kind}`;
        const results = await Promise.all(Array.from({ length: 50 }, () => claimPlaces(key, 10, 1, new Types.ObjectId())));
        const places = results.filter((r) => r !== null).map((r) => r![0]);
        expect(places).to.have.length(10);
        expect(new Set(places).size).to.equal(10);
        expect(await CapacityClaim.countDocuments({ key })).to.equal(10);
      });

      it('takes a place whose hold has lapsed, and gives back a partial claim when too few are free', async () => {
        const key = `lapsed:${kind}`;
        await CapacityClaim.create({ key, slot: 0, holder: new Types.ObjectId(), expiresAt: new Date(Date.now() - 1_000) });
        await CapacityClaim.create({ key, slot: 1, holder: new Types.ObjectId() });
        const holder = new Types.ObjectId();
        expect(await claimPlaces(key, 2, 1, holder)).to.deep.equal([0]);
        const greedy = new Types.ObjectId();
        expect(await claimPlaces(`${key}:more`, 2, 3, greedy)).to.equal(null);
        expect(await CapacityClaim.countDocuments({ holder: greedy })).to.equal(0);
      });
    });
  }
});
