import { expect } from 'chai';
import mongoose, { Schema } from 'mongoose';
import { Person } from '../models/index.js';
import { IndexCreationError, ensureIndexes } from '../src/storage/mongo.js';
import { makeResident } from './factories/index.js';
import { deleteKeysWithPrefix } from '../src/storage/redis.js';
import { testEnvironment } from './support/env.js';
import { useCleanStorage } from './support/storage.js';

describe('storage helpers', () => {
  useCleanStorage();

  describe('ensureIndexes', () => {
    it('creates unique indexes that then hold', async () => {
      const conn = mongoose.connection.useDb(`${testEnvironment().dbName}_idx_ok`);
      const Badge = conn.model('Badge', new Schema({ code: { type: String, unique: true } }));
      try {
        await ensureIndexes(conn);
        await Badge.create({ code: 'A' });
        const error = await Badge.create({ code: 'A' }).catch((err: unknown) => err);
        expect((error as { code?: number }).code).to.equal(11000);
      } finally {
        await conn.dropDatabase();
      }
    });

    it('reports a failure by model name instead of swallowing it', async () => {
      const conn = mongoose.connection.useDb(`${testEnvironment().dbName}_idx_bad`);
      try {
        await conn.collection('tickets').insertMany([{ number: 7 }, { number: 7 }]);
        conn.model('Ticket', new Schema({ number: { type: Number, unique: true } }));
        const error = await ensureIndexes(conn).catch((err: unknown) => err);
        expect(error).to.be.instanceOf(IndexCreationError);
        expect((error as IndexCreationError).failures.map((f) => f.model)).to.deep.equal(['Ticket']);
        expect((error as Error).message).to.match(/^Could not create indexes:\n  - Ticket: \S/);
      } finally {
        await conn.dropDatabase();
      }
    });
  });

  describe('sanitizeFilter', () => {
    it('turns an operator object from outside into an equality, and lets trusted() operators work', async () => {
      await makeResident();
      const injected = JSON.parse('{"$ne": null}') as unknown as string;
      const error = await Person.find({ phone: injected }).catch((err: unknown) => err);
      expect((error as Error).name).to.equal('CastError');
      expect(await Person.countDocuments({ phone: mongoose.trusted({ $ne: null }) })).to.equal(1);
    });
  });

  describe('Redis key prefix', () => {
    it('keeps deployments apart: deleting one prefix leaves the other intact', async () => {
      const { redis } = testEnvironment();
      const other = redis.duplicate({ keyPrefix: `${testEnvironment().keyPrefix}other-deployment:` });
      try {
        await redis.set('greeting', 'mine');
        await other.set('greeting', 'theirs');
        expect(await redis.get('greeting')).to.equal('mine');
        expect(await other.get('greeting')).to.equal('theirs');
        expect(await deleteKeysWithPrefix(other)).to.equal(1);
        expect(await redis.get('greeting')).to.equal('mine');
      } finally {
        other.disconnect();
      }
    });
  });
});
