import Joi from 'joi';
import joiToSwagger from 'joi-to-swagger';

// The package is CommonJS (`module.exports = parse`) but its typings declare a default
// export, which NodeNext reads as a namespace: the imported value is the function itself.
const j2s = joiToSwagger as unknown as typeof joiToSwagger.default;
import type { Middleware } from 'koa';
import { middlewareDoc, type MiddlewareDoc } from '../../middlewares/documented.js';
import { BookingInterruptedError } from '../../errors.js';
import type { RegisteredRoute } from '../apiRouter.js';

/** A middleware the app runs before routing, on the paths `applies` accepts (src/app.ts). */
export interface AppGuard {
  applies: (path: string) => boolean;
  middleware: Middleware;
}

type Json = Record<string, unknown>;

const ErrorBody = Joi.object({
  error: Joi.object({
    code: Joi.string().required().description('Stable machine-readable code, e.g. validation_error'),
    message: Joi.string().required().description('What went wrong and what to do, in Chinese'),
    details: Joi.array().items(Joi.object({ field: Joi.string(), message: Joi.string() })),
  }).required(),
}).meta({ className: 'Error' });

const STANDARD_ERRORS: Record<number, string> = {
  400: 'Invalid input (validation_error, invalid_json); nothing was changed',
  404: 'Not found',
  413: 'Body too large',
  415: 'Body is not JSON',
  500: 'Unexpected error',
};

/** What an operation flagged `claims` adds to its 503, from the error itself so it cannot drift. */
const INTERRUPTED = (() => {
  const err = BookingInterruptedError();
  return `${err.code}: failed half-way, every place it claimed was given back and nothing was kept; `
    + `safe to retry (Retry-After: ${err.headers?.['Retry-After']}) — 「${err.message}」`;
})();

const BEARER = 'bearerAuth';

type JoiInternals = Joi.Schema & {
  clone(): JoiInternals;
  _flags: { presence?: string };
  $_terms: { keys?: Array<{ key: string; schema: Joi.Schema }> | null; items?: Joi.Schema[]; matches?: Array<{ schema?: Joi.Schema; then?: Joi.Schema; otherwise?: Joi.Schema }> };
};

/**
 * A copy of a response schema in which every key is required unless it says `.optional()`
 * (or `.forbidden()`): presenters answer every field they whitelist (null when unknown), so
 * the document says so, and the response check in the tests holds them to it.
 */
export function requireKeys(schema: Joi.Schema): Joi.Schema {
  const copy = (schema as JoiInternals).clone();
  const terms = copy.$_terms;
  if (terms.keys) {
    terms.keys = terms.keys.map((child) => {
      const inner = requireKeys(child.schema) as JoiInternals;
      return { ...child, schema: inner._flags.presence ? inner : inner.required() };
    });
  }
  if (terms.items) terms.items = terms.items.map(requireKeys);
  if (terms.matches) {
    terms.matches = terms.matches.map((m) => ({
      ...m,
      ...(m.schema ? { schema: requireKeys(m.schema) } : {}),
      ...(m.then ? { then: requireKeys(m.then) } : {}),
      ...(m.otherwise ? { otherwise: requireKeys(m.otherwise) } : {}),
    }));
  }
  return copy;
}

/**
 * OpenAPI 3.0 reads `nullable` as "null is allowed", but an `enum` still has to list null
 * itself for a validator to accept it; joi's `.valid(...).allow(null)` comes out without it.
 */
function nullInEnums(node: unknown): void {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) return node.forEach(nullInEnums);
  const schema = node as Json;
  if (schema.nullable === true && Array.isArray(schema.enum) && !schema.enum.includes(null)) schema.enum = [...schema.enum, null];
  Object.values(schema).forEach(nullInEnums);
}

/** What the middlewares before an operation's handler add to it: sign-in and error statuses. */
function chainDoc(chain: Middleware[]): Required<MiddlewareDoc> {
  const doc: Required<MiddlewareDoc> = { bearer: false, errors: {} };
  for (const middleware of chain) {
    const found = middlewareDoc(middleware);
    if (!found) continue;
    doc.bearer ||= Boolean(found.bearer);
    for (const [status, description] of Object.entries(found.errors ?? {})) {
      const known = doc.errors[Number(status)];
      doc.errors[Number(status)] = known && known !== description ? `${known}; ${description}` : description;
    }
  }
  return doc;
}

/** `/rooms/:roomId` → `/rooms/{roomId}` */
const toOpenApiPath = (koaPath: string) => koaPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/**
 * Builds the OpenAPI 3.0 document from the routes' own joi schemas, so what is documented
 * is exactly what is validated.
 */
export function buildOpenApiDocument(routes: RegisteredRoute[], info: { version: string }, guards: AppGuard[] = []): Json {
  let components: Json = {};
  const convert = (schema: Joi.Schema): Json => {
    const out = j2s(schema, components);
    components = { ...components, ...out.components, schemas: { ...(components.schemas as Json), ...out.components?.schemas } };
    return out.swagger;
  };
  const errorRef = convert(ErrorBody);

  const paths: Record<string, Record<string, Json>> = {};
  for (const route of routes) {
    const parameters: Json[] = [];
    for (const where of ['params', 'query'] as const) {
      const schema = route.schema?.[where];
      if (!schema) continue;
      const described = schema.describe() as { keys?: Record<string, { flags?: { presence?: string } }> };
      for (const key of Object.keys(described.keys ?? {})) {
        parameters.push({
          name: key,
          in: where === 'params' ? 'path' : 'query',
          required: where === 'params' || described.keys?.[key]?.flags?.presence === 'required',
          schema: convert(schema.extract(key)),
        });
      }
    }
    const responses: Record<string, Json> = {};
    const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: errorRef } } });
    for (const [status, spec] of Object.entries(route.responses)) {
      // An error status the route names without a body schema has the shared error body.
      if (!spec.schema && Number(status) >= 400) {
        responses[status] = errorResponse(spec.description);
        continue;
      }
      responses[status] = {
        description: spec.description,
        ...(spec.headers
          ? { headers: Object.fromEntries(Object.entries(spec.headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }])) }
          : {}),
        ...(spec.schema
          ? { content: { [spec.contentType ?? 'application/json']: { schema: convert(requireKeys(spec.schema)) } } }
          : {}),
      };
    }
    const chain = [...guards.filter((g) => g.applies(route.fullPath)).map((g) => g.middleware), ...(route.before ?? [])];
    const fromChain = chainDoc(chain);
    for (const [status, description] of Object.entries({ ...STANDARD_ERRORS, ...fromChain.errors })) {
      responses[status] ??= errorResponse(description);
    }
    if (route.claims) {
      const known = responses['503']?.description as string | undefined;
      responses['503'] = errorResponse(known ? `${known}; ${INTERRUPTED}` : INTERRUPTED);
    }
    const path = toOpenApiPath(route.fullPath);
    paths[path] ??= {};
    paths[path][route.method] = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      tags: route.tags,
      ...(route.deprecated ? { deprecated: true } : {}),
      security: fromChain.bearer ? [{ [BEARER]: [] }] : [],
      ...(parameters.length ? { parameters } : {}),
      ...(route.schema?.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: convert(route.schema.body) } } } }
        : {}),
      responses,
    };
  }

  nullInEnums(paths);
  nullInEnums(components);
  return {
    openapi: '3.0.3',
    info: {
      title: '社区服务预约 API',
      version: info.version,
      description:
        'Community service booking: elderly meals, childcare slots, community-centre rooms and volunteer tasks. ' +
        'Errors are `{ error: { code, message } }` with a stable code and a Chinese message.',
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      ...components,
      securitySchemes: {
        [BEARER]: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'The accessToken from POST /api/v1/auth/wechat or /api/v1/auth/staff (Authorization: Bearer <token>)',
        },
      },
    },
  };
}
