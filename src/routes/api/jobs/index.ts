import Joi from 'joi';
import { JOBS, lastJobRuns } from '../../../../jobs/index.js';
import { JobRun } from '../../../../models/jobRun.js';
import { authorize } from '../../../policies/index.js';
import { presentJob } from '../../../presenters/jobRun.js';
import type { ApiRouter } from '../../apiRouter.js';
import type { RouteDeps } from '../deps.js';

const JobResponse = Joi.object({
  name: Joi.string(),
  schedule: Joi.string().description('node-cron expression, Asia/Shanghai'),
  mode: Joi.string().valid('once', 'everyInstance'),
  lastRun: Joi.object({
    tick: Joi.string(),
    instance: Joi.string(),
    status: Joi.string().valid('ok', 'failed', 'running'),
    fence: Joi.number().allow(null),
    startedAt: Joi.string().allow(null),
    finishedAt: Joi.string().allow(null),
    ms: Joi.number().allow(null),
    counts: Joi.object().unknown(true).allow(null),
    error: Joi.string().allow(null),
  }).allow(null),
}).meta({ className: 'Job' });

/** The scheduled jobs and how each last ran: staff and admins. */
export function registerJobRoutes(api: ApiRouter, deps: RouteDeps): void {
  api.route({
    method: 'get', path: '/jobs', operationId: 'jobs.list', summary: '定时任务及最近一次运行情况（工作人员）', tags: ['定时任务'],
    before: [deps.authenticate],
    responses: {
      200: { description: 'Every job with its last run (duration, counts, error)', schema: Joi.object({ items: Joi.array().items(JobResponse) }) },
      403: { description: 'forbidden: staff and admins only' },
    },
    handler: async (ctx) => {
      authorize(ctx.state.user, 'list', JobRun);
      const runs = await lastJobRuns(deps.redis, JOBS);
      ctx.body = { items: JOBS.map((job) => presentJob(job, runs.get(job.name))) };
    },
  });
}
