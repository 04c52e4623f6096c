import type { JobDefinition, JobRunReport } from '../../jobs/scheduler.js';

/** A job and its last run, for the staff page: counts, duration and an error text, no personal data. */
export function presentJob(job: JobDefinition, run: JobRunReport | undefined) {
  return {
    name: job.name,
    schedule: job.schedule,
    mode: job.mode ?? 'once',
    lastRun: run
      ? {
        tick: run.tick, instance: run.instance, status: run.status, fence: run.fence ?? null,
        startedAt: run.startedAt ?? null, finishedAt: run.finishedAt ?? null, ms: run.ms ?? null,
        counts: run.counts ?? null, error: run.error ?? null,
      }
      : null,
  };
}
