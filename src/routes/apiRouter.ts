import Router from '@koa/router';
import type Joi from 'joi';
import type { Context, Middleware, Next } from 'koa';
import { validate, type RequestSchema } from '../middlewares/validate.js';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface ResponseSpec {
  description: string;
  schema?: Joi.Schema;
  contentType?: string;
  /** Response headers worth documenting (name → description), e.g. a 202's Location. */
  headers?: Record<string, string>;
}

/** One operation: what the OpenAPI document says about it and how it is handled. */
export interface RouteDefinition {
  method: HttpMethod;
  /** Koa-style path relative to the router's prefix, e.g. `/rooms/:roomId`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  schema?: RequestSchema;
  responses: Record<number, ResponseSpec>;
  /**
   * The handler runs a command through withClaims (src/booking/claims.ts): the document then
   * names `503 booking_interrupted` for it (src/routes/docs/openapi.ts writes the text).
   */
  claims?: boolean;
  /** Kept for existing clients; the document marks it deprecated and the description names the successor. */
  deprecated?: boolean;
  /** Runs before validation: authentication first, so a stranger learns nothing from 400s. */
  before?: Middleware[];
  handler: (ctx: Context, next: Next) => Promise<void> | void;
}

export interface RegisteredRoute extends RouteDefinition {
  fullPath: string;
}

/**
 * A @koa/router that records each route's definition, so the OpenAPI document is generated
 * from the very schemas that validate requests and can never drift from them.
 * The chain for every route is: before (auth) → validate(schema) → handler.
 */
export class ApiRouter {
  readonly router: Router;
  readonly routes: RegisteredRoute[] = [];

  constructor(readonly prefix = '') {
    this.router = new Router(prefix ? { prefix } : {});
  }

  route(def: RouteDefinition): this {
    this.routes.push({ ...def, fullPath: `${this.prefix}${def.path}` });
    this.router[def.method](def.operationId, def.path, ...(def.before ?? []), validate(def.schema ?? {}), def.handler);
    return this;
  }
}
