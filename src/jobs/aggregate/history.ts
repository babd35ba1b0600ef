import type pg from 'pg';
import type { JobRunRow } from '../../lib/db/job-runs.js';
import { rows, sql } from '../../lib/db/query.js';

/** The batch jobs' names in job_run; each is also its advisory lock key. */
export const AGGREGATE_JOBS = ['aggregate-weekly', 'aggregate-monthly'] as const;
export type AggregateJob = (typeof AGGREGATE_JOBS)[number];

// One query for one job or several (job_run_job_started_idx serves each name of the ANY).
const recentRuns = (jobs: readonly string[], limit: number) =>
  sql(
    'aggregate.recent-runs',
    `SELECT * FROM job_run WHERE job_name = ANY($1::text[]) ORDER BY started_at DESC, id DESC LIMIT $2`,
    [jobs, limit],
  );

/** Recent runs of the aggregate jobs (one of them, or both merged), newest first. */
export function recentAggregateRuns(
  pool: pg.Pool,
  job: AggregateJob | undefined,
  limit: number,
): Promise<JobRunRow[]> {
  return rows<JobRunRow>(pool, recentRuns(job ? [job] : AGGREGATE_JOBS, limit));
}
