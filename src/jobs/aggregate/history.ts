import type pg from 'pg';
import { recentJobRuns, type JobRunRow } from '../../lib/db/job-runs.js';
import { batchJob } from '../../lib/jobs/registry.js';
import type { PeriodKind } from '../../lib/time/periods.js';

/** The aggregate jobs of the registry: one per period kind, each its own name in job_run and lock. */
export const AGGREGATE_JOB = {
  weekly: batchJob('aggregate-weekly'),
  monthly: batchJob('aggregate-monthly'),
} as const satisfies Record<PeriodKind, unknown>;
export const AGGREGATE_JOBS = [AGGREGATE_JOB.weekly.name, AGGREGATE_JOB.monthly.name] as const;
export type AggregateJob = (typeof AGGREGATE_JOBS)[number];

/** Recent runs of the aggregate jobs (one of them, or both merged), newest first. */
export function recentAggregateRuns(
  pool: pg.Pool,
  job: AggregateJob | undefined,
  limit: number,
): Promise<JobRunRow[]> {
  return recentJobRuns(pool, job ? [job] : AGGREGATE_JOBS, limit);
}
