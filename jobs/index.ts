import { randomUUID } from 'node:crypto';
import os from 'node:os';
import cron, { type ScheduledTask } from 'node-cron';
import { JobRun } from '../models/jobRun.js';
import { trusted } from 'mongoose';
import { TIME_ZONE } from '../src/config.js';
import { releaseNoShows } from '../src/commands/roomBookings.js';
import { enqueueRoomReminders } from '../src/commands/roomReminders.js';
import { releaseChildcareNoShows } from '../src/commands/childcareBookings.js';
import { expireWaitlistOffers, offerFreedPlacesEverywhere } from '../src/commands/childcarePlaces.js';
import { enqueueChildcareReminders } from '../src/commands/childcareReminders.js';
import { autoCheckOut } from '../src/commands/volunteerAssignments.js';
import { enqueueVolunteerReminders } from '../src/commands/volunteerReminders.js';
import { createMonthlyVisitTasks } from '../src/commands/volunteerTasks.js';
import { announceVolunteerTasks } from '../src/commands/volunteerAnnouncements.js';
import { currentMonth } from '../src/commands/wellness.js';
import { drainDueNotifications, type DispatchDeps } from '../src/outbox/dispatch.js';
import { reconcileOutbox } from '../src/outbox/reconcile.js';
import { pruneNotifications } from '../src/outbox/retention.js';
import { refreshSharedAccessToken } from '../src/wechat/accessToken.js';
import { runJobTick, type JobDefinition, type JobDeps } from './scheduler.js';
import { materialiseRecurringOrders } from '../src/commands/mealRecurring.js';
import { processDueMealCutoffs } from '../src/commands/mealSheets.js';
import { enqueueMealReminders } from '../src/commands/mealReminders.js';
import { generateMonthlyReports } from '../src/commands/monthlyReports.js';
import { warmDailyFigures } from '../src/commands/dailyFigures.js';
import { escalateMissingDeliveryOutcomes, escalateOpenWellnessAlerts } from '../src/commands/wellnessEscalation.js';
import { escalateUnacknowledgedUrgentAlerts } from '../src/commands/urgentHelp.js';
import { purgeIdempotencyRecords } from '../src/commands/idempotency.js';
import { releaseOrphanClaims } from '../src/commands/orphanClaims.js';
import { pruneExpiredExports, resumeStaleExports } from '../src/commands/personalDataExport.js';

export { runJobTick, lastJobRuns, tickKey, type JobContext, type JobDefinition, type JobDeps, type JobResult, type JobRunReport } from './scheduler.js';

/** A claim with no result this long is taken as a dispatcher that crashed mid-send. */
const CLAIM_GRACE_SECONDS = 600;

/** The dispatcher of this process: its channels, the configured retry rules. */
export function dispatchDeps(deps: JobDeps): DispatchDeps {
  const { outbox } = deps.config;
  return {
    redis: deps.redis,
    channels: deps.channels ?? {},
    instance: deps.instance,
    rules: { maxAttempts: outbox.maxAttempts, retryBaseSeconds: outbox.retryBaseSeconds, retryMaxSeconds: outbox.retryMaxSeconds },
    log: deps.logger,
  };
}

/** The reconcile step of the outbox (at start and on schedule). */
export function reconcile(deps: JobDeps, now: Date) {
  return reconcileOutbox(deps.redis, now, { windowDays: deps.config.outbox.reconcileWindowDays, claimGraceSeconds: CLAIM_GRACE_SECONDS });
}

/**
 * The jobs this deployment runs. Adding one is a few lines: a name, a cron expression, and a
 * `run` that calls a command with `ctx.now` (see README, "Jobs, reminders and the outbox").
 * Reminders of other services follow rooms.enqueueReminders: a command that finds what
 * starts soon and calls enqueueReminders (src/outbox/reminders.ts).
 */
export const JOBS: JobDefinition[] = [
  {
    // Rooms not checked in NO_SHOW_RELEASE_MINUTES after the start go back to the pool.
    name: 'rooms.releaseNoShows',
    schedule: '* * * * *',
    run: ({ config, redis, logger }, { now }) => releaseNoShows({ rules: config.booking, redis, log: logger }, now, 500),
  },
  {
    // The evening before (REMINDER_EVENING_TIME) and one hour before each confirmed booking.
    name: 'rooms.enqueueReminders',
    schedule: '*/5 * * * *',
    run: ({ config }, { now }) =>
      enqueueRoomReminders({ eveningTime: config.reminders.eveningTime, templateId: config.wechat.reminderTemplateId }, now),
  },
  {
    name: 'childcare.enqueueReminders',
    schedule: '*/5 * * * *',
    run: ({ config }, { now }) => enqueueChildcareReminders({ eveningTime: config.reminders.eveningTime }, now),
  },
  {
    // Not dropped off CHILDCARE_NO_SHOW_RELEASE_MINUTES after the start: a no-show; the place frees.
    name: 'childcare.releaseNoShows',
    schedule: '* * * * *',
    run: ({ config, redis, logger }, { now }) => releaseChildcareNoShows({ rules: config.childcare, redis, log: logger }, now, 500),
  },
  {
    // Offers nobody accepted in time go to the next in line; freed places reach the line.
    name: 'childcare.waitlist',
    schedule: '* * * * *',
    run: async ({ config, redis, logger }, { now }) => {
      const deps = { rules: config.childcare, redis, log: logger };
      const expiry = await expireWaitlistOffers(deps, now, 200);
      const freed = await offerFreedPlacesEverywhere(deps, now, 100);
      return { expired: expiry.expired, offered: expiry.offered + freed.offered };
    },
  },
  {
    name: 'volunteers.enqueueReminders',
    schedule: '*/5 * * * *',
    run: (_deps, { now }) => enqueueVolunteerReminders(now),
  },
  {
    // Still checked in VOLUNTEER_AUTO_CHECK_OUT_HOURS after the end: checked out at the planned end, flagged.
    name: 'volunteers.autoCheckOut',
    schedule: '*/10 * * * *',
    run: ({ config }, { now }) => autoCheckOut(now, 500, config.volunteers),
  },
  {
    // One visit task per elder tagged 特困 / 独居 each month; the first days of the month, so a
    // big community is covered in batches (the task of an elder is made once).
    name: 'volunteers.monthlyVisits',
    schedule: '0 6 1-5 * *',
    run: (_deps, { now }) => createMonthlyVisitTasks(currentMonth(now), now, 500),
  },
  {
    // New tasks, and 24 h before the start tasks still short of people, posted to the
    // volunteers' group (by a process that runs the bot), claimable by replying the number.
    // On every instance: only those with the bot can post, and the per-task claims post once.
    name: 'volunteers.announceTasks',
    schedule: '*/15 * * * *',
    mode: 'everyInstance',
    run: async ({ taskBoard }, { now }) => (taskBoard ? announceVolunteerTasks(taskBoard, now) : { skipped: 1 }),
  },
  {
    // Every instance sends what is due; Redis hands out disjoint batches, claims decide.
    name: 'outbox.dispatch',
    schedule: '*/10 * * * * *',
    mode: 'everyInstance',
    run: (deps, { now, stopping }) => drainDueNotifications(dispatchDeps(deps), now, deps.config.outbox.batchSize, 8_000, stopping),
  },
  {
    // Rebuilds the Redis due-index (and contact and grant lists) from MongoDB.
    name: 'outbox.reconcile',
    schedule: '*/10 * * * *',
    run: (deps, { now }) => reconcile(deps, now),
  },
  {
    // One refresh of WeChat's access token for every instance, ahead of its expiry.
    name: 'wechat.refreshAccessToken',
    schedule: '*/5 * * * *',
    run: async ({ redis, wechat }, { now }) => (wechat ? refreshSharedAccessToken({ redis, wechat }, now) : { refreshed: 0 }),
  },
  {
    name: 'jobs.pruneRuns',
    schedule: '30 3 * * *',
    run: async ({ config }, { now }) => {
      const before = new Date(now.getTime() - config.jobs.runRetentionDays * 86_400_000);
      const { deletedCount } = await JobRun.deleteMany({ startedAt: trusted({ $lt: before }) });
      return { deleted: deletedCount };
    },
  },
  {
    // Finished notifications leave the collections the outbox reads (docs/jobs-and-notifications.md).
    name: 'outbox.pruneNotifications',
    schedule: '40 3 * * *',
    run: async ({ config }, { now }) => pruneNotifications(config.outbox.retentionDays, now),
  },
  {
    // Meals past their cut-off: kitchen sheet and delivery runs (idempotent per menu and grid).
    name: 'meals.processCutoffs',
    schedule: '* * * * *',
    run: ({ redis }, { now }) => processDueMealCutoffs(now, 50, redis),
  },
  {
    // Standing orders become orders MEAL_RECURRING_DAYS_AHEAD days ahead of each cut-off.
    name: 'meals.materialiseRecurring',
    schedule: '*/10 * * * *',
    run: ({ config, redis, logger }, { now }) => materialiseRecurringOrders(config.meals, now, 500, { redis, log: logger }),
  },
  {
    // The evening before and one hour before the serving time of each confirmed order.
    name: 'meals.enqueueReminders',
    schedule: '*/5 * * * *',
    run: ({ config }, { now }) => enqueueMealReminders({ eveningTime: config.reminders.eveningTime }, now),
  },
  {
    // 送餐上门 without an outcome an hour after the meal window; alerts open for two hours.
    name: 'meals.escalateWellness',
    schedule: '*/5 * * * *',
    run: async (_deps, { now }) => {
      const deliveries = await escalateMissingDeliveryOutcomes(now, 200);
      const alerts = await escalateOpenWellnessAlerts(now, 200);
      return { deliveries: deliveries.orders, alerts: alerts.alerts, notified: deliveries.notified + alerts.notified };
    },
  },
  {
    // 紧急求助 nobody acknowledged within URGENT_ESCALATE_AFTER_MINUTES: the admins are told.
    name: 'urgent.escalate',
    schedule: '* * * * *',
    run: ({ config }, { now }) => escalateUnacknowledgedUrgentAlerts(config.urgent, now, 200),
  },
  {
    // The previous month's statistics of every community, 50 communities a run, hourly on the
    // first three days of the month until all are done (unique per community and month).
    name: 'reports.monthlyStatistics',
    schedule: '15 * 1-3 * *',
    run: (_deps, { now }) => generateMonthlyReports(now, 50),
  },
  {
    // The dashboard's days kept warm: days of the last 31 marked since their figures were
    // computed (or never computed) are recomputed, 60 a run, so a first view reads stored days.
    name: 'reports.warmDailyFigures',
    schedule: '* * * * *',
    run: async ({ logger }, { now }) => {
      const result = await warmDailyFigures(now, 60);
      if (result.recomputed) logger.info(result, 'recomputed the staff reports\' marked days');
      return result;
    },
  },
  {
    // Idempotency-Key records (MongoDB) older than 24 h, 5,000 a run: no TTL index on FerretDB v1.
    name: 'idempotency.purge',
    schedule: '17 * * * *',
    run: (_deps, { now }) => purgeIdempotencyRecords(now, 5_000),
  },
  {
    // Claims whose holder record was never written (a crash between claim and write, a failed
    // compensation), 10 minutes on: released, 1,000 looked at a run (src/commands/orphanClaims.ts).
    name: 'claims.reconcile',
    schedule: '*/10 * * * *',
    run: ({ redis, logger }, { now }) => releaseOrphanClaims({ limit: 1000, graceMinutes: 10, redis, log: logger }, now),
  },
  {
    // Data exports left preparing by an instance that stopped (lease over): prepared here, 5 a run.
    name: 'personalDataExports.resume',
    schedule: '* * * * *',
    run: ({ logger }, { now }) => resumeStaleExports(now, 5, logger),
  },
  {
    // Export files past their 7 days deleted (the record stays as expired for 30 days), 500 a run.
    name: 'personalDataExports.prune',
    schedule: '50 3 * * *',
    run: (_deps, { now }) => pruneExpiredExports(now, 500),
  },
];

/** A name for this process in locks and claims: host, pid and a random part. */
export function instanceName(): string {
  return `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

export interface RunningJobs {
  scheduled: string[];
  instance: string;
  stop(): Promise<void>;
}

/**
 * Schedules every job (node-cron, Asia/Shanghai) after reconciling the outbox once, so what
 * fell due while the service was down goes out at once. `stop` stops the clocks and waits for
 * runs in progress.
 */
export function startJobs(deps: Omit<JobDeps, 'instance'> & { instance?: string }, jobs: JobDefinition[] = JOBS): RunningJobs {
  let stopped = false;
  const full: JobDeps = { ...deps, instance: deps.instance ?? instanceName(), stopping: () => stopped };
  const log = full.logger.child({ component: 'jobs', instance: full.instance });
  const inFlight = new Set<Promise<unknown>>();
  const tasks: ScheduledTask[] = [];
  const track = <T>(p: Promise<T>) => {
    const run = p.catch((err) => log.error({ error: err instanceof Error ? err.message : String(err) }, 'job tick failed')).finally(() => inFlight.delete(run));
    inFlight.add(run);
    return run;
  };

  track(reconcile(full, new Date()).then((counts) => log.info(counts, 'outbox reconciled at start')));
  for (const job of jobs) {
    tasks.push(cron.schedule(job.schedule, (ctx) => (stopped ? undefined : track(runJobTick(full, job, ctx.date, new Date()))), {
      name: job.name, timezone: TIME_ZONE, noOverlap: true,
    }));
  }
  log.info({ jobs: jobs.map((j) => j.name) }, `${jobs.length} job(s) scheduled`);

  return {
    scheduled: jobs.map((j) => j.name),
    instance: full.instance,
    async stop() {
      stopped = true;
      await Promise.all(tasks.map((t) => t.stop()));
      await Promise.all(inFlight);
    },
  };
}
