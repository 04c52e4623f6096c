import { randomUUID } from 'node:crypto';
import type { Connection } from 'mongoose';
import type { Redis } from 'ioredis';
import { JobRun } from '../models/jobRun.js';
import type { Config } from '../src/config.js';
import type { Logger } from '../src/logger.js';
import type { TaskBoard } from '../src/commands/volunteerAnnouncements.js';
import type { Channels } from '../src/outbox/channels.js';
import { isDuplicateKey } from '../src/storage/mongo.js';
import type { WechatClient } from '../src/wechat/client.js';

export interface JobDeps {
  config: Config;
  logger: Logger;
  redis: Redis;
  mongo?: Connection;
  /** WeChat's API client (token refresh, subscribe messages); absent: those jobs do nothing. */
  wechat?: WechatClient;
  /** The channels this process can send through (the bot only where the bot runs); none: {}. */
  channels?: Channels;
  /** The volunteers' group board (only where the bot runs). */
  taskBoard?: TaskBoard;
  /** This process's name in locks, claims and run records. */
  instance: string;
  /** True once the process is shutting down: long runs stop between batches. */
  stopping?: () => boolean;
}

/** What a run reports: counts of what it did, for the log line and the staff job page. */
export type JobResult = Record<string, number>;

/** What a run knows about itself. Jobs read the time here, never from the clock. */
export interface JobContext {
  now: Date;
  /** The cron tick this run is for (to the second). */
  tick: Date;
  /** The lock's fencing token (0 for every-instance jobs). */
  fence: number;
  /** Whether this run still holds its lock: long jobs check between batches and stop if not. */
  holdsLock(): Promise<boolean>;
  /** True once the process is shutting down: long jobs stop between batches. */
  stopping(): boolean;
}

/**
 * A job is thin: the cron expression decides when, `run` calls a domain command on "what is
 * due at ctx.now" and returns what it did. Runs must be safe to repeat (a crashed run is simply
 * done again at the next tick).
 */
export interface JobDefinition {
  name: string;
  /** node-cron expression (seconds optional), read in Asia/Shanghai. */
  schedule: string;
  /**
   * `once` (default): each tick runs on exactly one instance (Redis lock with fencing + a
   * unique JobRun per tick). `everyInstance`: every instance runs each tick, for work that
   * splits itself safely (the outbox dispatcher); its runs are reported in Redis only.
   */
  mode?: 'once' | 'everyInstance';
  run(deps: JobDeps, ctx: JobContext): Promise<JobResult>;
}

export interface JobRunReport {
  job: string;
  tick: string;
  instance: string;
  status: 'ok' | 'failed' | 'skipped' | 'running';
  /** Why a tick was skipped here: another instance holds the lock or already ran it. */
  reason?: 'locked' | 'already_run';
  fence?: number;
  startedAt?: string;
  finishedAt?: string;
  ms?: number;
  counts?: JobResult;
  error?: string;
}

const lockKey = (job: string) => `job:lock:${job}`;
const fenceKey = (job: string) => `job:fence:${job}`;
/** Last run of every job (either mode), for the staff page: job → JSON JobRunReport. */
export const LAST_RUNS_KEY = 'job:last-run';

/** Takes the lock if free and, in the same script, issues the next fencing token. */
const ACQUIRE = `
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then
  local fence = redis.call('INCR', KEYS[2])
  redis.call('SET', KEYS[1], ARGV[1] .. ':' .. fence, 'PX', ARGV[2])
  return fence
end
return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** A tick to the second, as stored: instances agree on it whatever their timer jitter. */
export const tickKey = (tick: Date) => new Date(Math.floor(tick.getTime() / 1000) * 1000).toISOString();

const describe = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).slice(0, 500);

/**
 * Runs one tick of a job on this instance, if it is this instance's to run. For a `once` job:
 * take the job's lock (SET NX PX, with a fencing token from INCR), then insert the JobRun of
 * (job, tick) — a duplicate means another instance already ran this tick, even if the lock
 * was lost in between —, run, record the outcome, release the lock. Tests call it directly
 * with their own clock, on as many instances as they like.
 */
export async function runJobTick(deps: JobDeps, job: JobDefinition, tick: Date, now = new Date()): Promise<JobRunReport> {
  const tickId = tickKey(tick);
  const base = { job: job.name, tick: tickId, instance: deps.instance };
  const { redis } = deps;
  let fence = 0;
  let lockValue: string | undefined;
  let runId: unknown;
  if (job.mode !== 'everyInstance') {
    const token = randomUUID();
    fence = Number(await redis.eval(ACQUIRE, 2, lockKey(job.name), fenceKey(job.name), token, deps.config.jobs.lockTtlSeconds * 1000));
    if (fence === 0) return { ...base, status: 'skipped', reason: 'locked' };
    lockValue = `${token}:${fence}`;
  }
  const startedAt = new Date();
  try {
    if (lockValue) {
      try {
        const inserted = await JobRun.collection.insertOne({ ...base, fence, status: 'running', startedAt });
        runId = inserted.insertedId;
      } catch (err) {
        if (isDuplicateKey(err)) return { ...base, status: 'skipped', reason: 'already_run', fence };
        throw err;
      }
    }
    const ctx: JobContext = {
      now,
      tick: new Date(tickId),
      fence,
      holdsLock: async () => !lockValue || (await redis.get(lockKey(job.name))) === lockValue,
      stopping: () => deps.stopping?.() ?? false,
    };
    let report: JobRunReport;
    try {
      const counts = await job.run(deps, ctx);
      report = { ...base, status: 'ok', counts };
    } catch (err) {
      report = { ...base, status: 'failed', error: describe(err) };
    }
    const finishedAt = new Date();
    report = { ...report, fence, startedAt: startedAt.toISOString(), finishedAt: finishedAt.toISOString(), ms: finishedAt.getTime() - startedAt.getTime() };
    const log = deps.logger.child({ component: 'jobs' });
    if (report.status === 'ok') log.info({ job: job.name, tick: tickId, fence, ms: report.ms, ...report.counts }, 'job finished');
    else log.error({ job: job.name, tick: tickId, fence, ms: report.ms, error: report.error }, 'job failed');
    if (runId) {
      await JobRun.updateOne(
        { _id: runId },
        { $set: { status: report.status, finishedAt, ms: report.ms, counts: report.counts ?? {}, ...(report.error ? { error: report.error } : {}) } },
      ).catch((err) => log.warn({ job: job.name, error: describe(err) }, 'job run not recorded'));
    }
    await redis.hset(LAST_RUNS_KEY, job.name, JSON.stringify(report)).catch(() => undefined);
    return report;
  } finally {
    if (lockValue) await redis.eval(RELEASE, 1, lockKey(job.name), lockValue).catch(() => undefined);
  }
}

/** The last run of each job: from Redis (both modes), else the newest JobRun in MongoDB. */
export async function lastJobRuns(redis: Redis, jobs: JobDefinition[]): Promise<Map<string, JobRunReport>> {
  const fromRedis = jobs.length > 0 ? await redis.hmget(LAST_RUNS_KEY, ...jobs.map((j) => j.name)) : [];
  const runs = new Map<string, JobRunReport>();
  jobs.forEach((j, i) => {
    if (fromRedis[i]) runs.set(j.name, JSON.parse(fromRedis[i]!) as JobRunReport);
  });
  const missing = jobs.filter((j) => !runs.has(j.name) && j.mode !== 'everyInstance').map((j) => j.name);
  if (missing.length > 0) {
    // Only when Redis lost its copy: one query per job ($group's $first is missing on FerretDB v1).
    const latest = await Promise.all(missing.map((job) => JobRun.findOne({ job }).sort({ startedAt: -1 }).lean()));
    for (const run of latest) {
      if (!run) continue;
      const report: JobRunReport = {
        job: run.job, tick: run.tick, instance: run.instance, status: run.status, fence: run.fence,
        startedAt: run.startedAt.toISOString(), finishedAt: run.finishedAt?.toISOString(), ms: run.ms ?? undefined,
        counts: (run.counts as JobResult | undefined) ?? undefined, error: run.error ?? undefined,
      };
      runs.set(run.job, report);
      // The copy rebuilds itself: the next view reads Redis, not every run record (HSETNX keeps
      // a report a tick wrote meanwhile, which is newer).
      await redis.hsetnx(LAST_RUNS_KEY, run.job, JSON.stringify(report)).catch(() => undefined);
    }
  }
  return runs;
}
