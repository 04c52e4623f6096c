import { createRequire } from 'node:module';
import { bodyParser } from '@koa/bodyparser';
import cors from '@koa/cors';
import Router from '@koa/router';
import Koa from 'koa';
import helmet from 'koa-helmet';
import type { Connection } from 'mongoose';
import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import type { WechatClient } from './wechat/index.js';
import { createMetrics, type Metrics } from './metrics.js';
import { limit } from './middlewares/rateLimit.js';
import { createRateLimits, type RateLimits } from './rateLimit/limiter.js';
import { consoleStatic } from './consoleStatic.js';
import { errorHandler } from './middlewares/errorHandler.js';
import { jsonOnly, noDeleteBody } from './middlewares/jsonOnly.js';
import { requestContext } from './middlewares/requestContext.js';
import type { ApiRouter, RegisteredRoute } from './routes/apiRouter.js';
import { apiRoutes } from './routes/api/index.js';
import { docsRoutes } from './routes/docs/index.js';
import { buildOpenApiDocument, type AppGuard } from './routes/docs/openapi.js';
import { healthRoutes } from './routes/health/index.js';

/** What the HTTP app needs from the process; tests pass their own. */
export interface AppDeps {
  config: Config;
  logger: Logger;
  mongo: Connection;
  redis: Redis;
  /** Signing key of access tokens (see resolveJwtSecret). */
  jwtSecret: string;
  wechat: WechatClient;
  /** True once the process is shutting down: answers then close their connection. */
  draining?: () => boolean;
  /** This instance's counters; created by createApp when not given. */
  metrics?: Metrics;
}

/** What the routers get: the deps with the instance's metrics and rate limits. */
export interface AppContext extends AppDeps {
  metrics: Metrics;
  rateLimits: RateLimits;
}

// Probes and the docs' static files are not counted: an orchestrator polling /readyz must
// never be limited out of seeing the service.
const UNLIMITED = /^\/(healthz|readyz|metrics|docs\/assets\/|console\/assets\/)/;

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/**
 * Builds the Koa app without listening, so tests and several instances in one process can
 * share it. Order matters: request id and logging first, then the error handler (so its
 * responses are logged with their status), then the guards on the way in.
 */
export function createApp(appDeps: AppDeps): { app: Koa; routes: RegisteredRoute[]; metrics: Metrics; document: () => object } {
  const metrics = appDeps.metrics ?? createMetrics();
  const deps: AppContext = {
    ...appDeps,
    metrics,
    rateLimits: createRateLimits(appDeps.redis, appDeps.config.rateLimits, metrics, appDeps.logger),
  };
  const { config } = deps;
  const app = new Koa({ proxy: config.http.trustProxy });
  app.silent = true; // errors are answered and logged by errorHandler, not printed by Koa

  const routers: ApiRouter[] = [healthRoutes(deps), apiRoutes(deps)];
  const routes = routers.flatMap((r) => r.routes);
  // Requests without a token count per client address; signed-in ones per person (authenticate).
  const anonymousLimit = limit(deps.rateLimits, 'anonymous', (ctx) => `ip:${ctx.ip}`);
  // The guards in front of the routers, so the document lists what they can answer too.
  const guards: AppGuard[] = [{ applies: (path) => !UNLIMITED.test(path), middleware: anonymousLimit }];
  let built: object | undefined;
  const document = () => (built ??= buildOpenApiDocument([...routes, ...docs.routes], { version }, guards));
  const docs = docsRoutes(document);

  app.use(requestContext(deps.logger));
  app.use(async (ctx, next) => {
    await next();
    // Checked on the way out: a request that began before SIGTERM still ends its connection,
    // so keep-alive clients of a draining process reconnect to another instance.
    if (deps.draining?.()) ctx.set('Connection', 'close');
  });
  app.use(errorHandler());
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: { defaultSrc: ["'self'"], imgSrc: ["'self'", 'data:'], styleSrc: ["'self'", "'unsafe-inline'"] },
      },
    }),
  );
  app.use(
    cors({
      origin: (ctx) => {
        const origin = ctx.get('Origin');
        return config.http.corsOrigins.includes(origin) ? origin : '';
      },
      allowHeaders: ['Content-Type', 'Authorization', 'Idempotency-Key', 'X-Request-Id'],
      exposeHeaders: ['X-Request-Id', 'Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'],
      maxAge: 600,
    }),
  );
  app.use((ctx, next) => (UNLIMITED.test(ctx.path) || ctx.get('Authorization') ? next() : anonymousLimit(ctx, next)));
  app.use(consoleStatic()); // the staff console (工作人员后台): /console/, and / redirects there
  app.use(jsonOnly());
  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: config.http.bodyLimit, jsonStrict: true, parsedMethods: ['POST', 'PUT', 'PATCH', 'DELETE'] }));
  app.use(noDeleteBody());

  const root = new Router();
  for (const router of [...routers, docs]) root.use(router.router.routes());
  app.use(root.routes());
  app.use(root.allowedMethods()); // 405 with Allow; errorHandler turns it into the standard body

  return { app, routes: [...routes, ...docs.routes], metrics, document };
}
