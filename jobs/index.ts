import cron, { type ScheduledTask } from 'node-cron';
import type { Connection } from 'mongoose';
import type { Redis } from 'ioredis';
import { TIME_ZONE, type Config } from '../src/config.js';
import type { Logger } from '../src/logger.js';
import { releaseNoShows } from '../src/commands/roomBookings.js';
import { materialiseRecurringOrders } from '../src/commands/mealRecurring.js';
import { processDueMealCutoffs } from '../src/commands/mealSheets.js';

export interface JobDeps {
  config: Config;
  logger: Logger;
  mongo: Connection;
  redis: Redis;
}

/** What a run reports: counts of what it did, for the log line and the staff job page. */
export type JobResult = Record<string, number>;

/**
 * A job is thin: the cron expression decides when, `run` calls a domain command on a
 * bounded batch and returns what it did. Runs must be safe to repeat.
 */
export interface JobDefinition {
  name: string;
  /** node-cron expression (seconds optional), read in Asia/Shanghai. */
  schedule: string;
  run(deps: JobDeps): Promise<JobResult>;
}

/** The jobs this deployment runs. Each service issue adds its own. */
export const JOBS: JobDefinition[] = [
  {
    // Rooms not checked in NO_SHOW_RELEASE_MINUTES after the start go back to the pool.
    name: 'rooms.releaseNoShows',
    schedule: '* * * * *',
    run: ({ config, redis, logger }) => releaseNoShows({ rules: config.booking, redis, log: logger }, new Date(), 500),
  },
  {
    // Meals past their cut-off: kitchen sheet and delivery runs (idempotent per menu and grid).
    name: 'meals.processCutoffs',
    schedule: '* * * * *',
    run: ({ redis }) => processDueMealCutoffs(new Date(), 50, redis),
  },
  {
    // Standing orders become orders MEAL_RECURRING_DAYS_AHEAD days ahead of each cut-off.
    name: 'meals.materialiseRecurring',
    schedule: '*/10 * * * *',
    run: ({ config }) => materialiseRecurringOrders(config.meals, new Date(), 500),
  },
];

export interface RunningJobs {
  scheduled: string[];
  stop(): Promise<void>;
}

/** Schedules every job; `stop` stops the clocks and waits for runs in progress. */
export function startJobs(deps: JobDeps, jobs: JobDefinition[] = JOBS): RunningJobs {
  const log = deps.logger.child({ component: 'jobs' });
  const inFlight = new Set<Promise<void>>();
  const tasks: ScheduledTask[] = [];

  const runOnce = (job: JobDefinition) => {
    const started = Date.now();
    const run = job
      .run(deps)
      .then((result) => log.info({ job: job.name, ms: Date.now() - started, ...result }, 'job finished'))
      .catch((err) => log.error({ job: job.name, ms: Date.now() - started, err }, 'job failed'))
      .finally(() => inFlight.delete(run));
    inFlight.add(run);
    return run;
  };

  for (const job of jobs) {
    tasks.push(cron.schedule(job.schedule, () => runOnce(job), { name: job.name, timezone: TIME_ZONE, noOverlap: true }));
  }
  log.info({ jobs: jobs.map((j) => j.name) }, `${jobs.length} job(s) scheduled`);

  return {
    scheduled: jobs.map((j) => j.name),
    async stop() {
      await Promise.all(tasks.map((t) => t.stop()));
      await Promise.all(inFlight);
    },
  };
}
