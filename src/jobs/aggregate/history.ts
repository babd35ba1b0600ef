import type pg from 'pg';
import { recentJobRuns, type JobRunRow } from '../../lib/db/job-runs.js';

/** The batch jobs' names in job_run; each is also its advisory lock key. */
export const AGGREGATE_JOBS = ['aggregate-weekly', 'aggregate-monthly'] as const;
export type AggregateJob = (typeof AGGREGATE_JOBS)[number];

/** Recent runs of the aggregate jobs (one of them, or both merged), newest first. */
export function recentAggregateRuns(
  pool: pg.Pool,
  job: AggregateJob | undefined,
  limit: number,
): Promise<JobRunRow[]> {
  return recentJobRuns(pool, job ? [job] : AGGREGATE_JOBS, limit);
}
