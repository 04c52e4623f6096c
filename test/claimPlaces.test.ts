import { expect } from 'chai';
import { Types, trusted } from 'mongoose';
import { CapacityClaim } from '../models/index.js';
import { claimPlaceAndAll, claimPlaces } from '../src/booking/claims.js';
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

      describe('claimPlaceAndAll (a quota place and a room\'s units in one insert)', () => {
        const held = (holder: Types.ObjectId) => CapacityClaim.find({ holder }, { key: 1, slot: 1, _id: 0 }).sort({ key: 1, slot: 1 }).lean();

        it('takes one place and every slot, or answers which slots are taken and keeps nothing', async () => {
          const [quota, units] = [`q1:${kind}`, `u1:${kind}`];
          const first = new Types.ObjectId();
          const got = await claimPlaceAndAll(quota, 2, units, [1, 2, 3], first);
          expect(got.ok).to.equal(true);
          expect((await held(first)).map((c) => `${c.key}/${c.slot}`)).to.have.members([`${quota}/${(got as { place: number }).place}`, `${units}/1`, `${units}/2`, `${units}/3`]);
          const second = new Types.ObjectId();
          expect(await claimPlaceAndAll(quota, 2, units, [3, 4], second)).to.deep.equal({ ok: false, taken: [3] });
          expect(await held(second)).to.deep.equal([]);
        });

        it('finds another place when a racer holds the one tried, and says the quota is full before a taken slot', async () => {
          const [quota, units] = [`q2:${kind}`, `u2:${kind}`];
          await CapacityClaim.create({ key: quota, slot: 0, holder: new Types.ObjectId() });
          const a = new Types.ObjectId();
          const got = await claimPlaceAndAll(quota, 2, units, [10], a);
          expect(got).to.deep.equal({ ok: true, place: 1 });
          const b = new Types.ObjectId();
          expect(await claimPlaceAndAll(quota, 2, units, [10, 11], b)).to.deep.equal({ ok: false, placesFull: true });
          expect(await claimPlaceAndAll(quota, 2, units, [11], b)).to.deep.equal({ ok: false, placesFull: true });
          expect(await held(b)).to.deep.equal([]);
        });

        it('takes over a slot whose hold has lapsed; 30 racers for the same slots: exactly one wins', async () => {
          const [quota, units] = [`q3:${kind}`, `u3:${kind}`];
          await CapacityClaim.create({ key: units, slot: 5, holder: new Types.ObjectId(), expiresAt: new Date(Date.now() - 1_000) });
          expect((await claimPlaceAndAll(quota, 3, units, [5, 6], new Types.ObjectId())).ok).to.equal(true);
          const racers = Array.from({ length: 30 }, () => new Types.ObjectId());
          const results = await Promise.all(racers.map((h, i) => claimPlaceAndAll(`${quota}:${i}`, 1, units, [7, 8], h)));
          expect(results.filter((r) => r.ok)).to.have.length(1);
          expect(await CapacityClaim.countDocuments({ key: units })).to.equal(4);
          expect(await CapacityClaim.countDocuments({ holder: trusted({ $in: racers }) })).to.equal(3); // the winner's place and two slots
        });
      });
    });
  }
});
