import { createHash } from 'node:crypto';
import type { Connection } from 'mongoose';
import pg from 'pg';
import type { Logger } from '../logger.js';

/**
 * Indexes that let PostgreSQL answer FerretDB v1's own equality reads.
 *
 * FerretDB v1 on PostgreSQL keeps each collection as a table of one `_jsonb` column and pushes an
 * equality filter down as `_jsonb->'field' @> value` (shared/STORAGE.md). The btree indexes it
 * makes for the models' indexes cannot serve `@>`, so every read — by `_id` too — is a sequential
 * scan whose cost grows with the collection's history. A GIN index on the expression
 * `(_jsonb->'field')` serves `@>`: PostgreSQL then reads only the matching rows (measured at a
 * year's volume: a person's orders 184 → 73 ms, an order by `_id` 130 → 32 ms).
 *
 * Made for `_id` and every top-level field of every index a model declares, in the PostgreSQL
 * that FerretDB runs on, when the service knows it (its private cluster, or FERRETDB_POSTGRESQL_URL).
 * MongoDB and FerretDB v2 have real indexes and never see these. Idempotent: run at every start.
 */
export async function ensureJsonbIndexes(conn: Connection, postgresqlUrl: string, log?: Logger): Promise<number> {
  const wanted = fieldsByCollection(conn);
  const schema = conn.db?.databaseName;
  if (!schema) throw new Error('mongoose is not connected');
  const client = new pg.Client({ connectionString: postgresqlUrl });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (exists.rowCount === 0) {
      log?.warn({ schema }, 'FerretDB keeps this database under another PostgreSQL schema name; no jsonb indexes made');
      return 0;
    }
    // As the private cluster is started (storage/postgres.ts); on a server of the operator's, this
    // database's own setting, for FerretDB's connections from now on (best effort: it may not be ours).
    await client.query(`ALTER DATABASE ${ident(await currentDatabase(client))} SET plan_cache_mode = force_custom_plan`).catch((err: Error) => {
      log?.warn({ err: err.message }, 'could not set plan_cache_mode on the database FerretDB uses');
    });
    const tables = await client.query<{ collection: string; table: string }>(
      `SELECT _jsonb->>'_id' AS collection, _jsonb->>'table' AS table FROM ${ident(schema)}._ferretdb_database_metadata`,
    );
    // The ones an earlier start made, in one read: a start makes only what is missing.
    const made = new Set((await client.query<{ name: string }>(
      "SELECT indexname AS name FROM pg_indexes WHERE schemaname = $1 AND indexname LIKE 'csb_gin_%'", [schema],
    )).rows.map((r) => r.name));
    let created = 0;
    for (const { collection, table } of tables.rows) {
      for (const field of wanted.get(collection) ?? []) {
        const name = `csb_gin_${createHash('sha256').update(`${table}\0${field}`).digest('hex').slice(0, 16)}`;
        if (made.has(name)) continue;
        await client.query(`CREATE INDEX IF NOT EXISTS ${ident(name)} ON ${ident(schema)}.${ident(table)} USING gin ((_jsonb -> ${literal(field)}))`);
        created += 1;
      }
    }
    log?.info({ created, collections: tables.rowCount }, 'jsonb indexes ensured for FerretDB on PostgreSQL');
    return created;
  } finally {
    await client.end();
  }
}

/** `_id` and the top-level fields of every declared index, per collection name. */
export function fieldsByCollection(conn: Connection): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const model of Object.values(conn.models)) {
    const fields = new Set<string>(['_id']);
    for (const [keys] of model.schema.indexes()) {
      // A dotted path is not one `_jsonb->'…'` step, and FerretDB does not push it down.
      for (const field of Object.keys(keys)) if (!field.includes('.')) fields.add(field);
    }
    out.set(model.collection.collectionName, [...fields].sort());
  }
  return out;
}

async function currentDatabase(client: pg.Client): Promise<string> {
  return (await client.query<{ name: string }>('SELECT current_database() AS name')).rows[0]!.name;
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;
