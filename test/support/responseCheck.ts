/**
 * Holds every response of every test to the OpenAPI document: the test app (createTestApp)
 * runs this first, so after the whole app has answered it finds the operation the router
 * matched and checks the status is documented for it and the JSON body fits the documented
 * schema. A mismatch is recorded and fails the test that made the request (root afterEach in
 * hooks.ts), so the document cannot drift from what the routes answer.
 *
 * With OPENAPI_CHECK_RECORD=<file> mismatches are appended to the file instead of failing,
 * to survey a whole run at once.
 */
import { appendFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Middleware } from 'koa';

// CommonJS default export read through NodeNext (as joi-to-swagger in openapi.ts).
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

type Json = Record<string, any>;

interface Operation {
  method: string;
  path: string;
  responses: Record<string, { content?: Record<string, { schema?: Json }> }>;
}

const violations: string[] = [];

/** The mismatches since the last call (and forgets them). */
export function takeResponseViolations(): string[] {
  return violations.splice(0, violations.length);
}

function record(message: string): void {
  const file = process.env.OPENAPI_CHECK_RECORD;
  if (file) appendFileSync(file, `${message}\n`);
  else violations.push(message);
}

/** A Koa middleware checking each response against `document()` (built on first use). */
export function responseCheck(document: () => object): Middleware {
  let operations: Map<string, Operation> | undefined;
  let components: Json = {};
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const validators = new Map<string, ValidateFunction>();

  const index = () => {
    if (operations) return operations;
    const doc = document() as Json;
    components = doc.components ?? {};
    operations = new Map();
    for (const [path, methods] of Object.entries(doc.paths as Json)) {
      for (const [method, op] of Object.entries(methods as Json)) {
        operations.set(op.operationId, { method: method.toUpperCase(), path, responses: op.responses });
      }
    }
    return operations;
  };

  const validatorFor = (operationId: string, status: number, schema: Json) => {
    const key = `${operationId} ${status}`;
    let validate = validators.get(key);
    if (!validate) {
      // `#/components/...` references resolve against the root, so the components go there.
      validate = ajv.compile({ allOf: [schema], components: { schemas: components.schemas ?? {} } });
      validators.set(key, validate);
    }
    return validate;
  };

  return async (ctx, next) => {
    await next();
    const name = (ctx as unknown as { _matchedRouteName?: string })._matchedRouteName;
    if (!name) return; // no operation matched (404 route_not_found, 405, preflight)
    const op = index().get(name);
    const method = ctx.method === 'HEAD' ? 'GET' : ctx.method;
    if (!op || op.method !== method) return;
    const where = `${ctx.method} ${ctx.path} (${name})`;
    const documented = op.responses[String(ctx.status)];
    if (!documented) {
      const code = (ctx.body as Json | undefined)?.error?.code;
      record(`${where}: status ${ctx.status}${code ? ` ${code}` : ''} is not documented (documented: ${Object.keys(op.responses).join(', ')})`);
      return;
    }
    const schema = documented.content?.['application/json']?.schema;
    if (!schema || !/json/.test(ctx.response.type || 'application/json')) return;
    const body = ctx.body;
    if (body === undefined || body === null || Buffer.isBuffer(body) || typeof (body as { pipe?: unknown }).pipe === 'function') return;
    const json = typeof body === 'string' ? JSON.parse(body) : JSON.parse(JSON.stringify(body));
    const validate = validatorFor(name, ctx.status, schema);
    if (!validate(json)) {
      const errors = (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
      record(`${where}: ${ctx.status} body does not fit the documented schema: ${errors.join('; ')}`);
    }
  };
}
