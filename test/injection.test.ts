/**
 * Operator injection, table-driven over the OpenAPI document: for every operation that takes a
 * JSON body or query parameters, each injection payload goes into one field at a time of a
 * request that is otherwise valid, and must get 400 `validation_error` naming that field and
 * change nothing in MongoDB or Redis. The table is built from GET /openapi.json when the suite
 * starts, so a new route is covered without touching this file.
 */
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import type Joi from 'joi';
import Mocha from 'mocha';
import mongoose from 'mongoose';
import type { RegisteredRoute } from '../src/routes/apiRouter.js';
import { rebuildRevocations } from '../src/auth/revocations.js';
import { requestValidationOptions } from '../src/validation/messages.js';
import { makeResident } from './factories/index.js';
import { createTestApp } from './support/app.js';
import { bearerFor } from './support/auth.js';
import { testEnvironment } from './support/env.js';
import { useCleanStorage } from './support/storage.js';

/* ------------------------------------------------------------------ the document */

/** The parts of an OpenAPI 3.0 schema object this test reads. */
interface SchemaObject {
  $ref?: string;
  type?: string;
  title?: string;
  format?: string;
  pattern?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  properties?: Record<string, SchemaObject>;
  required?: string[];
  items?: SchemaObject;
  anyOf?: SchemaObject[];
  oneOf?: SchemaObject[];
  allOf?: SchemaObject[];
}
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema: SchemaObject;
}
interface OperationObject {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: SchemaObject }> };
}
interface OpenApiDocument {
  paths: Record<string, Record<string, OperationObject>>;
  components?: { schemas?: Record<string, SchemaObject> };
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
type Method = (typeof METHODS)[number];

/** An operation of the document that takes a JSON body or query parameters. */
interface Operation {
  method: Method;
  /** OpenAPI path, e.g. /api/v1/rooms/{roomId}. */
  path: string;
  operationId: string;
  pathParams: Parameter[];
  queryParams: Parameter[];
  body?: SchemaObject;
}

function operationsWithInput(doc: OpenApiDocument): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    if (path === '/docs' || path.startsWith('/docs/')) continue; // the Swagger UI page and its assets
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const params = op.parameters ?? [];
      const queryParams = params.filter((p) => p.in === 'query');
      const body = op.requestBody?.content?.['application/json']?.schema;
      if (queryParams.length === 0 && !body) continue;
      ops.push({ method, path, operationId: op.operationId, pathParams: params.filter((p) => p.in === 'path'), queryParams, body });
    }
  }
  return ops;
}

/* ------------------------------------------------------------------ "otherwise valid" values */

const OBJECT_ID = '65a1b2c3d4e5f6a7b8c9d0e1';

/** A Shanghai calendar day `days` from now, YYYY-MM-DD. */
function shanghaiDayFromNow(days: number): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' })
    .format(new Date(Date.now() + days * 86_400_000));
}
const DAY = shanghaiDayFromNow(3);
/** 10:00 Shanghai three days ahead, plus `hours` (so a second date-time field, an end, comes after a start). */
const dateTime = (hours: number) => `${DAY}T${String(10 + hours).padStart(2, '0')}:00:00+08:00`;

/**
 * Strings tried, in order, against a string schema's pattern and length: plain text first,
 * then the shapes this API's patterns ask for (an ObjectId, a mobile number, a 6-digit code,
 * a time of day, a day, an action name).
 */
const STRING_CANDIDATES = ['x', OBJECT_ID, '13800138000', '123456', '10:00', DAY, 'abc', dateTime(0)];

class ValueBuilder {
  constructor(private readonly doc: OpenApiDocument) {}

  resolve(schema: SchemaObject): SchemaObject {
    let s = schema;
    for (let i = 0; s.$ref && i < 10; i++) {
      const name = s.$ref.replace('#/components/schemas/', '');
      const target = this.doc.components?.schemas?.[name];
      if (!target) throw new Error(`unresolvable $ref ${s.$ref}`);
      s = target;
    }
    if (s.allOf?.length) s = Object.assign({}, ...s.allOf.map((part) => this.resolve(part)), { allOf: undefined }) as SchemaObject;
    return s;
  }

  /** A valid value for `schema`; `name` and `dateTimeIndex` only help date-like strings. */
  value(schema: SchemaObject, name = '', dateTimeIndex = 0): unknown {
    const s = this.resolve(schema);
    if (s.enum?.length) return s.enum[0];
    const alternative = s.anyOf?.[0] ?? s.oneOf?.[0];
    if (alternative) return this.value(alternative, name, dateTimeIndex);
    switch (s.type) {
      case 'integer':
      case 'number':
        return Math.min(Math.max(s.minimum ?? 1, 1), s.maximum ?? Number.MAX_SAFE_INTEGER);
      case 'boolean':
        return true;
      case 'array':
        return Array.from({ length: s.minItems ?? 0 }, () => this.value(s.items ?? {}, name));
      case 'object':
        return this.object(s);
      default:
        return this.string(s, name, dateTimeIndex);
    }
  }

  /** The object's required properties, recursively. */
  object(schema: SchemaObject): Record<string, unknown> {
    const s = this.resolve(schema);
    const out: Record<string, unknown> = {};
    for (const key of s.required ?? []) out[key] = this.propertyValue(s, key);
    return out;
  }

  /** A value for one property of an object schema (date-times in property order: 10:00, 11:00…). */
  propertyValue(objectSchema: SchemaObject, key: string): unknown {
    const props = this.resolve(objectSchema).properties ?? {};
    const dateTimes = Object.keys(props).filter((k) => this.resolve(props[k]!).format === 'date-time');
    return this.value(props[key] ?? {}, key, Math.max(0, dateTimes.indexOf(key)));
  }

  private string(s: SchemaObject, name: string, dateTimeIndex: number): string {
    if (s.format === 'date-time' || s.format === 'date') return s.format === 'date' ? DAY : dateTime(dateTimeIndex);
    // A day that the document shows only by its title or name (joi custom rules do not reach it).
    const dayLike = /日期$/.test(s.title ?? '') || /(^|[a-z])(date|Date|day|Day)$|^until$/.test(name);
    const candidates = dayLike ? [DAY, ...STRING_CANDIDATES] : STRING_CANDIDATES;
    const pattern = s.pattern ? new RegExp(s.pattern, 'u') : undefined;
    const fits = (v: string) =>
      (!pattern || pattern.test(v)) && v.length >= (s.minLength ?? 0) && v.length <= (s.maxLength ?? Number.MAX_SAFE_INTEGER);
    return candidates.find(fits) ?? 'x'.repeat(Math.max(1, s.minLength ?? 1));
  }
}

/**
 * Completes an object the joi schema would refuse only for rules the OpenAPI document cannot
 * express: `.xor()` / `.or()` (object.missing), `.with()` / `.and()` and `.min(n)` keys.
 */
function completeForJoi(
  joiSchema: Joi.ObjectSchema | undefined,
  value: Record<string, unknown>,
  make: (key: string) => unknown,
  keysInOrder: string[],
): Record<string, unknown> {
  if (!joiSchema) return value;
  for (let round = 0; round < 5; round++) {
    const { error } = joiSchema.validate(value, requestValidationOptions);
    const detail = error?.details.find((d) => d.path.length === 0);
    if (!detail) break;
    const ctx = detail.context as { peers?: string[]; peer?: string; missing?: string[]; limit?: number } | undefined;
    let add: string | undefined;
    if (detail.type === 'object.missing') add = ctx?.peers?.[0];
    else if (detail.type === 'object.with') add = ctx?.peer;
    else if (detail.type === 'object.and') add = ctx?.missing?.[0];
    else if (detail.type === 'object.min') add = keysInOrder.find((k) => !(k in value));
    if (!add) break;
    value[add] = make(add);
  }
  return value;
}

/* ------------------------------------------------------------------ the table */

const PAYLOADS: Array<{ label: string; value: object }> = [
  { label: '{"$ne":null}', value: { $ne: null } },
  { label: '{"$gt":""}', value: { $gt: '' } },
];
/** The same operators as a qs-style query string would carry them. */
const BRACKET_FORMS: Array<{ suffix: string; value: string }> = [
  { suffix: '[$ne]', value: '1' },
  { suffix: '[$gt]', value: '' },
];

interface Row {
  title: string;
  operationId: string;
  method: Method;
  url: string;
  /** Raw query string (already encoded, the injected key left raw), or ''. */
  query: string;
  body?: Record<string, unknown>;
  /** The `details[].field` the 400 must name. */
  field: string;
  /** The same request without the injection, checked against the route's own joi schemas. */
  baseline: { params: Record<string, string>; query: Record<string, string>; body?: Record<string, unknown> };
}

/** Paths of every body field to inject into: top-level properties and those of nested objects. */
function fieldPaths(builder: ValueBuilder, schema: SchemaObject, prefix: string[] = [], depth = 0): string[][] {
  const s = builder.resolve(schema);
  const out: string[][] = [];
  for (const [key, prop] of Object.entries(s.properties ?? {})) {
    out.push([...prefix, key]);
    const p = builder.resolve(prop);
    if (p.type === 'object' && p.properties && depth < 3) out.push(...fieldPaths(builder, p, [...prefix, key], depth + 1));
  }
  return out;
}

function withInjected(builder: ValueBuilder, schema: SchemaObject, base: Record<string, unknown>, path: string[], payload: object) {
  const body = structuredClone(base);
  let target = body;
  let targetSchema = builder.resolve(schema);
  for (const key of path.slice(0, -1)) {
    const childSchema = builder.resolve(targetSchema.properties?.[key] ?? {});
    if (typeof target[key] !== 'object' || target[key] === null) target[key] = builder.object(childSchema);
    target = target[key] as Record<string, unknown>;
    targetSchema = childSchema;
  }
  target[path.at(-1)!] = payload;
  return body;
}

const encodePairs = (pairs: Array<[string, string]>) =>
  pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');

function buildRows(doc: OpenApiDocument, routes: RegisteredRoute[]): { operations: Operation[]; rows: Row[] } {
  const builder = new ValueBuilder(doc);
  const operations = operationsWithInput(doc);
  const rows: Row[] = [];
  for (const op of operations) {
    const route = routes.find((r) => r.operationId === op.operationId);
    const params = Object.fromEntries(op.pathParams.map((p) => [p.name, String(builder.value(p.schema, p.name))]));
    const url = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? OBJECT_ID));
    const where = `${op.method.toUpperCase()} ${op.path}`;

    // Query: the required parameters, as strings (an array-valued one is left out).
    const queryParam = (name: string) => op.queryParams.find((p) => p.name === name);
    const asQueryValue = (v: unknown) => (Array.isArray(v) ? v.map(String) : String(v));
    const queryDateTimes = op.queryParams.filter((p) => builder.resolve(p.schema).format === 'date-time').map((p) => p.name);
    const queryValue = (p: Parameter) => asQueryValue(builder.value(p.schema, p.name, Math.max(0, queryDateTimes.indexOf(p.name))));
    const baseQuery: Record<string, string> = {};
    for (const p of op.queryParams.filter((q) => q.required)) {
      const v = queryValue(p);
      if (!Array.isArray(v)) baseQuery[p.name] = v;
    }
    completeForJoi(route?.schema?.query, baseQuery, (name) => {
      const p = queryParam(name);
      const v = p ? queryValue(p) : 'x';
      return Array.isArray(v) ? v[0] ?? 'x' : v;
    }, op.queryParams.map((p) => p.name));

    // Body: the required properties, recursively, completed for joi-only rules.
    const baseBody = op.body
      ? completeForJoi(route?.schema?.body, builder.object(op.body), (key) => builder.propertyValue(op.body!, key),
          Object.keys(builder.resolve(op.body).properties ?? {}))
      : undefined;

    const baseline = { params, query: baseQuery, body: baseBody };
    const basePairs = Object.entries(baseQuery) as Array<[string, string]>;
    const queryString = (pairs: Array<[string, string]>, raw = '') => [encodePairs(pairs), raw].filter(Boolean).join('&');

    for (const p of op.queryParams) {
      for (const form of BRACKET_FORMS) {
        const key = `${p.name}${form.suffix}`;
        rows.push({
          title: `${where} (${op.operationId}): query ${key}=${form.value}`,
          operationId: op.operationId, method: op.method, url,
          query: queryString(basePairs.filter(([k]) => k !== p.name), `${key}=${encodeURIComponent(form.value)}`),
          body: baseBody, field: `query.${key}`, baseline,
        });
      }
    }
    if (op.body && baseBody) {
      for (const path of fieldPaths(builder, op.body)) {
        for (const payload of PAYLOADS) {
          rows.push({
            title: `${where} (${op.operationId}): body.${path.join('.')} = ${payload.label}`,
            operationId: op.operationId, method: op.method, url, query: queryString(basePairs),
            body: withInjected(builder, op.body, baseBody, path, payload.value), field: `body.${path.join('.')}`, baseline,
          });
        }
      }
    }
  }
  return { operations, rows };
}

/* ------------------------------------------------------------------ "nothing changed" */

interface StorageSnapshot {
  /** Per collection: document count and a digest of the documents. */
  collections: Record<string, { count: number; digest: string }>;
  /** Redis keys of the test run, except the rate limiter's counters and the read cache. */
  redisKeys: string[];
}

async function snapshotStorage(): Promise<StorageSnapshot> {
  const db = mongoose.connection.db;
  if (!db) throw new Error('mongoose is not connected');
  const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).filter((n) => !n.startsWith('system.')).sort();
  const entries = await Promise.all(
    names.map(async (name) => {
      const collection = db.collection(name);
      const [count, docs] = await Promise.all([collection.countDocuments(), collection.find({}).sort({ _id: 1 }).toArray()]);
      return [name, { count, digest: createHash('sha256').update(JSON.stringify(docs)).digest('hex').slice(0, 16) }] as const;
    }),
  );

  const { redis } = testEnvironment();
  const prefix = redis.options.keyPrefix ?? '';
  if (!prefix) throw new Error('the test Redis client has no key prefix');
  const keys: string[] = [];
  let cursor = '0';
  for (let round = 0; round < 10_000; round++) {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
    if (cursor === '0') break;
  }
  // Rate counters, the read cache (src/cache/readCache.ts) and the Redis copy of revoked sessions
  // (src/auth/revocations.ts: rebuilt from MongoDB by whichever request first finds it untrusted,
  // so a refused request may write it) are bookkeeping, not state.
  const bookkeeping = [`${prefix}rate:`, `${prefix}cache:`, `${prefix}gen:`, `${prefix}auth:revoked-famil`];
  const redisKeys = [...new Set(keys)].filter((k) => !bookkeeping.some((p) => k.startsWith(p))).sort();
  return { collections: Object.fromEntries(entries), redisKeys };
}

/* ------------------------------------------------------------------ the tests */

/** Operations that exist today: the table must at least cover them. */
const KNOWN_OPERATIONS = [
  'auth.wechatLogin', 'auth.staffLogin', 'auth.refresh', 'me.update', 'me.delete', 'residents.list', 'residents.update',
  'residents.linkProxy', 'proxyLinks.request', 'auditEntries.list', 'roomBookings.create', 'roomBookings.mine',
];

describe('operator injection', () => {
  useCleanStorage();
  let table: { operations: Operation[]; rows: Row[] } = { operations: [], rows: [] };
  let routes: RegisteredRoute[] = [];
  const added: Mocha.Test[] = [];

  before(async function () {
    const app = createTestApp();
    routes = app.routes;
    const admin = await makeResident({ roles: ['resident', 'admin'] });
    const authorization = await bearerFor(admin);
    // The first signed-in request rebuilds the Redis copy of revoked sessions in the background
    // (src/auth/revocations.ts); settle it here so no test sees that rebuild as its own change.
    await app.request.get('/api/v1/me').set('Authorization', authorization).expect(200);
    await rebuildRevocations(testEnvironment().redis, app.deps.config.auth.accessTokenTtlSeconds);
    const res = await app.request.get('/openapi.json').expect(200);
    table = buildRows(res.body as OpenApiDocument, routes);

    // One test per row, added to this suite now that the document is known (mocha runs the
    // tests of a suite after its `before` hooks, from the list as it is then).
    const suite = this.test!.parent!;
    for (const row of table.rows) {
      const test = new Mocha.Test(row.title, async () => {
        const route = routes.find((r) => r.operationId === row.operationId);
        expect(route, `route ${row.operationId} is registered`).to.exist;
        for (const part of ['params', 'query', 'body'] as const) {
          const schema = route!.schema?.[part];
          const value = row.baseline[part];
          if (!schema || value === undefined) continue;
          const { error } = schema.validate(value, requestValidationOptions);
          expect(error?.details.map((d) => `${part}.${d.path.join('.')}: ${d.type}`) ?? [],
            `the generated request is not otherwise valid (${part} ${JSON.stringify(value)}): teach ValueBuilder this schema`).to.deep.equal([]);
        }

        const before = await snapshotStorage();
        const url = row.query ? `${row.url}?${row.query}` : row.url;
        let req = app.request[row.method](url).set('Authorization', authorization);
        if (row.body !== undefined) req = req.send(row.body);
        const res = await req;

        expect(res.status, `status (body: ${JSON.stringify(res.body)})`).to.equal(400);
        expect(res.body.error?.code).to.equal('validation_error');
        const fields = ((res.body.error?.details ?? []) as Array<{ field: string }>).map((d) => d.field);
        // Exactly the field; or, where an object is expected (an address), the operator key inside it.
        const named = fields.filter((f) => f === row.field || (row.field.startsWith('body.') && f.startsWith(`${row.field}.`)));
        expect(named, `details name the injected field ${row.field}: ${JSON.stringify(fields)}`).to.not.be.empty;
        expect(await snapshotStorage(), 'nothing changed in MongoDB or Redis').to.deep.equal(before);
      });
      test.file = suite.file;
      suite.addTest(test);
      added.push(test);
    }
  });

  it('builds a row for every operation with a body or query, at least those known today', () => {
    expect(table.rows.length, 'rows').to.be.at.least(10);
    const covered = new Set(table.rows.map((r) => r.operationId));
    expect([...covered]).to.include.members(KNOWN_OPERATIONS);
    expect([...covered].sort()).to.deep.equal(table.operations.map((o) => o.operationId).sort());
    // Every JSON body payload and every bracket form, for each operation.
    for (const op of table.operations) {
      const rows = table.rows.filter((r) => r.operationId === op.operationId);
      const bodyFields = new Set(rows.filter((r) => r.field.startsWith('body.')).map((r) => r.field));
      const queryKeys = rows.filter((r) => r.field.startsWith('query.'));
      if (op.body) expect(rows.filter((r) => r.field.startsWith('body.')).length, op.operationId).to.equal(bodyFields.size * PAYLOADS.length);
      expect(queryKeys.length, op.operationId).to.equal(op.queryParams.length * BRACKET_FORMS.length);
    }
    expect(added.length).to.equal(table.rows.length);
  });
});
