import Joi from 'joi';
import joiToSwagger from 'joi-to-swagger';

// The package is CommonJS (`module.exports = parse`) but its typings declare a default
// export, which NodeNext reads as a namespace: the imported value is the function itself.
const j2s = joiToSwagger as unknown as typeof joiToSwagger.default;
import type { RegisteredRoute } from '../apiRouter.js';

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

/** `/rooms/:roomId` → `/rooms/{roomId}` */
const toOpenApiPath = (koaPath: string) => koaPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/**
 * Builds the OpenAPI 3.0 document from the routes' own joi schemas, so what is documented
 * is exactly what is validated.
 */
export function buildOpenApiDocument(routes: RegisteredRoute[], info: { version: string }): Json {
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
    for (const [status, spec] of Object.entries(route.responses)) {
      responses[status] = {
        description: spec.description,
        ...(spec.schema ? { content: { [spec.contentType ?? 'application/json']: { schema: convert(spec.schema) } } } : {}),
      };
    }
    for (const [status, description] of Object.entries(STANDARD_ERRORS)) {
      responses[status] ??= { description, content: { 'application/json': { schema: errorRef } } };
    }
    const path = toOpenApiPath(route.fullPath);
    paths[path] ??= {};
    paths[path][route.method] = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      tags: route.tags,
      ...(parameters.length ? { parameters } : {}),
      ...(route.schema?.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: convert(route.schema.body) } } } }
        : {}),
      responses,
    };
  }

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
    components,
  };
}
