import { timingSafeEqual } from 'node:crypto';
import Joi from 'joi';
import type { AppContext } from '../../app.js';
import { NotFoundError } from '../../errors.js';
import { checkMongo, checkRedis } from '../../storage/health.js';
import { ApiRouter } from '../apiRouter.js';
import { HealthResponse, ReadinessResponse } from './schema.js';

/** Liveness and readiness probes for the orchestrator and the operator. */
export function healthRoutes(deps: AppContext): ApiRouter {
  const api = new ApiRouter();

  api.route({
    method: 'get',
    path: '/healthz',
    operationId: 'health.live',
    summary: '进程存活检查',
    description: 'Answers 200 while the process is up, whatever the state of its dependencies.',
    tags: ['运维'],
    responses: { 200: { description: 'The process is up', schema: HealthResponse } },
    handler: (ctx) => {
      ctx.body = { status: 'ok' };
    },
  });

  api.route({
    method: 'get',
    path: '/readyz',
    operationId: 'health.ready',
    summary: '服务就绪检查（MongoDB 与 Redis）',
    description: 'Pings MongoDB and Redis (1 s each); 503 while either does not answer.',
    tags: ['运维'],
    responses: {
      200: { description: 'MongoDB and Redis answer', schema: ReadinessResponse },
      503: { description: 'MongoDB or Redis does not answer', schema: ReadinessResponse },
    },
    handler: async (ctx) => {
      const [mongodb, redis] = await Promise.all([checkMongo(deps.mongo), checkRedis(deps.redis)]);
      const ready = mongodb === 'up' && redis === 'up';
      ctx.status = ready ? 200 : 503;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { status: ready ? 'ready' : 'unavailable', checks: { mongodb, redis } };
    },
  });

  api.route({
    method: 'get',
    path: '/metrics',
    operationId: 'health.metrics',
    summary: '运行指标（Prometheus 文本格式，需令牌）',
    description: 'Needs `Authorization: Bearer <METRICS_TOKEN>`; answers 404 when METRICS_TOKEN is unset or the token is wrong.',
    tags: ['运维'],
    responses: { 200: { description: 'Prometheus text exposition', schema: Joi.string(), contentType: 'text/plain' } },
    handler: async (ctx) => {
      const expected = deps.config.metricsToken;
      const given = Buffer.from(ctx.get('Authorization').replace(/^Bearer /, ''));
      // 404, not 401: the endpoint does not exist for whoever lacks the token.
      if (!expected || given.length !== expected.length || !timingSafeEqual(given, Buffer.from(expected))) throw NotFoundError('接口地址不存在');
      ctx.type = deps.metrics.registry.contentType;
      ctx.body = await deps.metrics.registry.metrics();
    },
  });

  return api;
}
