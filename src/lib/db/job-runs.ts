import { hostname } from 'node:os';
import type pg from 'pg';
import { LockedError, UnavailableError } from '../errors.js';
import { sql, one, rows } from './query.js';
import { connectHeld } from './pool.js';

/**
 * The job-run history (table job_run) and the one-run-at-a-time lock of batch jobs.
 * The lock is a session advisory lock held on a dedicated connection for the whole run: if the
 * process dies, PostgreSQL drops the connection and with it the lock.
 */
export interface JobRunRow {
  id: number;
  job_name: string;
  params: Record<string, unknown>;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  rows_read: number;
  rows_written: number;
  started_at: Date;
  finished_at: Date | null;
  duration_ms: number | null;
  error: string | null;
  host: string | null;
}

export const jobRunQueries = {
  start: (jobName: string, params: Record<string, unknown>) =>
    sql('job_run.start', `INSERT INTO job_run (job_name, params, host) VALUES ($1, $2, $3) RETURNING *`, [
      jobName,
      JSON.stringify(params),
      hostname(),
    ]),
  finish: (
    id: number,
    status: 'SUCCEEDED' | 'FAILED',
    rowsRead: number,
    rowsWritten: number,
    error: string | null,
  ) =>
    sql(
      'job_run.finish',
      `UPDATE job_run
          SET status = $2, rows_read = $3, rows_written = $4, error = $5, finished_at = now(),
              duration_ms = (extract(epoch FROM now() - started_at) * 1000)::bigint
        WHERE id = $1
      RETURNING *`,
      [id, status, rowsRead, rowsWritten, error],
    ),
  // One query for one job or several (job_run_job_started_idx serves each name of the ANY).
  recent: (jobNames: readonly string[], limit: number) =>
    sql(
      'job_run.recent',
      `SELECT * FROM job_run WHERE job_name = ANY($1::text[]) ORDER BY started_at DESC, id DESC LIMIT $2`,
      [jobNames, limit],
    ),
  // Called while holding the job's lock: any RUNNING row of that job belongs to a process that died.
  abandon: (jobName: string) =>
    sql(
      'job_run.abandon',
      `UPDATE job_run
          SET status = 'FAILED', finished_at = now(), error = 'abandoned: the process running it died',
              duration_ms = (extract(epoch FROM now() - started_at) * 1000)::bigint
        WHERE job_name = $1 AND status = 'RUNNING'`,
      [jobName],
    ),
  tryLock: (key: string) =>
    sql('job_run.try_lock', 'SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [key]),
  unlock: (key: string) => sql('job_run.unlock', 'SELECT pg_advisory_unlock(hashtext($1))', [key]),
};

/** Recent runs of the named jobs, newest first. */
export async function recentJobRuns(
  db: pg.Pool,
  jobNames: readonly string[],
  limit = 20,
): Promise<JobRunRow[]> {
  return rows<JobRunRow>(db, jobRunQueries.recent(jobNames, limit));
}

export interface JobRunContext {
  run: JobRunRow;
  rowsRead: number;
  rowsWritten: number;
}

/**
 * Runs `fn` as job `jobName` while holding its lock, recording the run (RUNNING, then SUCCEEDED or
 * FAILED with the error). A second run while one holds the lock throws LockedError and records nothing.
 * A run whose process was killed (kill -9, OOM) left its row RUNNING; the next run closes it as FAILED.
 * A run whose lock session died (a terminated backend, a restart) ends FAILED with UnavailableError.
 */
export async function runExclusiveJob<T>(
  pool: pg.Pool,
  jobName: string,
  params: Record<string, unknown>,
  fn: (ctx: JobRunContext) => Promise<T>,
): Promise<{ result: T; run: JobRunRow }> {
  const { client: lockClient, lost, release } = await connectHeld(pool);
  try {
    const lock = await one<{ locked: boolean }>(lockClient, jobRunQueries.tryLock(jobName));
    if (!lock?.locked) throw new LockedError(`another ${jobName} run holds the lock; try again later`);
    try {
      await pool.query(jobRunQueries.abandon(jobName));
      const started = (await one<JobRunRow>(pool, jobRunQueries.start(jobName, params)))!;
      const ctx: JobRunContext = { run: started, rowsRead: 0, rowsWritten: 0 };
      try {
        const result = await fn(ctx);
        // The lock died with its session mid-run: another run may have written too. Say so (FAILED,
        // exit 4) rather than SUCCEEDED; the job is deterministic, so a re-run settles the result.
        const lockLost = lost();
        if (lockLost)
          throw new UnavailableError(
            'PostgreSQL',
            `the ${jobName} lock's session was lost during the run (${lockLost.message}); run it again`,
            lockLost,
          );
        const run = (await one<JobRunRow>(
          pool,
          jobRunQueries.finish(started.id, 'SUCCEEDED', ctx.rowsRead, ctx.rowsWritten, null),
        ))!;
        return { result, run };
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        // PostgreSQL may be gone too: the job's own error matters more; the next run abandons the row.
        await pool
          .query(jobRunQueries.finish(started.id, 'FAILED', ctx.rowsRead, ctx.rowsWritten, message))
          .catch(() => undefined);
        throw err;
      }
    } finally {
      // Must not hide the job's own error; a lost connection released the lock anyway.
      await lockClient.query(jobRunQueries.unlock(jobName)).catch(() => undefined);
    }
  } finally {
    release();
  }
}
