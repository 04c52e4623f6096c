import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import mongoose, { Schema, Types, type Connection } from 'mongoose';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { ensureFerretDbBinary, startFerretDb, type RunningFerretDb } from '../src/storage/ferretdb.js';
import { ensureJsonbIndexes, fieldsByCollection } from '../src/storage/jsonbIndexes.js';
import { ensureIndexes } from '../src/storage/mongo.js';
import { startPrivatePostgres, type RunningPostgres } from '../src/storage/postgres.js';
import { useCleanStorage } from './support/storage.js';

/**
 * The jsonb indexes the service makes under FerretDB v1 on PostgreSQL (src/storage/jsonbIndexes.ts),
 * on a FerretDB and private PostgreSQL of this file's own, whatever store the rest of the run uses.
 */
describe('jsonb indexes for FerretDB on PostgreSQL', () => {
  useCleanStorage(); // the run's own store, as every file; this file's store is its own below
  let dir: string;
  let postgres: RunningPostgres;
  let ferret: RunningFerretDb;
  let conn: Connection;
  const orderSchema = new Schema({ bookedFor: Types.ObjectId, date: String, address: { building: String } });
  orderSchema.index({ bookedFor: 1, date: 1 });
  orderSchema.index({ 'address.building': 1 });

  before(async function () {
    this.timeout(120_000);
    dir = await mkdtemp(path.join(os.tmpdir(), 'csb-jsonb-'));
    postgres = await startPrivatePostgres({ dataDir: path.join(dir, 'postgres'), ephemeral: true });
    const binary = process.env.FERRETDB_BIN ?? (await ensureFerretDbBinary(loadConfig(process.env).cacheDir));
    ferret = await startFerretDb({ binary, port: 0, handler: 'postgresql', postgresqlUrl: postgres.url });
    conn = await mongoose.createConnection(ferret.uri, { dbName: 'csb_jsonb' }).asPromise();
    conn.model('Order', orderSchema);
    await ensureIndexes(conn);
  });

  after(async () => {
    await conn?.close();
    await ferret?.stop();
    await postgres?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const query = async <T extends pg.QueryResultRow>(sql: string, values: unknown[] = []) => {
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    try {
      return (await client.query<T>(sql, values)).rows;
    } finally {
      await client.end();
    }
  };

  describe('fieldsByCollection', () => {
    it('takes _id and every top-level field of every declared index, not dotted paths', () => {
      expect(fieldsByCollection(conn).get('orders')).to.deep.equal(['_id', 'bookedFor', 'date']);
    });
  });

  describe('ensureJsonbIndexes', () => {
    it('makes one GIN index per field on the collection\'s table, and nothing on a second run', async () => {
      expect(await ensureJsonbIndexes(conn, postgres.url)).to.equal(3);
      const indexes = await query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE schemaname = 'csb_jsonb' AND indexname LIKE 'csb_gin_%'`);
      const fields = indexes.map((i) => /USING gin \(+_jsonb -> '(\w+)'::text\)+/.exec(i.indexdef)?.[1]).sort();
      expect(fields).to.deep.equal(['_id', 'bookedFor', 'date']);
      expect(await ensureJsonbIndexes(conn, postgres.url)).to.equal(0);
    });

    it('lets PostgreSQL answer FerretDB\'s pushed-down equality from the index, with the same documents', async () => {
      await ensureJsonbIndexes(conn, postgres.url);
      const Order = conn.model('Order');
      const mine = new Types.ObjectId();
      await Order.insertMany(Array.from({ length: 300 }, (_, i) => ({ bookedFor: i % 100 === 0 ? mine : new Types.ObjectId(), date: `2026-12-${String((i % 28) + 1).padStart(2, '0')}` })));
      const found = await Order.find({ bookedFor: mine }).lean();
      expect(found).to.have.length(3);
      expect(found.every((o) => String((o as { bookedFor?: unknown }).bookedFor) === String(mine))).to.equal(true);

      // FerretDB's own form of the filter (shared/STORAGE.md): `_jsonb->'field' @> value`.
      const [{ table }] = await query<{ table: string }>(`SELECT _jsonb->>'table' AS table FROM csb_jsonb._ferretdb_database_metadata WHERE _jsonb->>'_id' = 'orders'`);
      const client = new pg.Client({ connectionString: postgres.url });
      await client.connect();
      try {
        // FerretDB prepares `_jsonb->$1 @> $2`: only custom plans can use the index, so the cluster forces them.
        expect((await client.query<{ plan_cache_mode: string }>('SHOW plan_cache_mode')).rows[0]!.plan_cache_mode).to.equal('force_custom_plan');
        await client.query('SET enable_seqscan = off');
        const plan = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN SELECT _jsonb FROM csb_jsonb."${table}" WHERE _jsonb->'bookedFor' @> $1`, [JSON.stringify(String(mine))]);
        expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).to.match(/Bitmap Index Scan on csb_gin_/);
      } finally {
        await client.end();
      }
    });
  });
});
