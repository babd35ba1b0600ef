import type pg from 'pg';
import { LockedError, UnavailableError } from '../errors.js';
import { one, rows } from './query.js';
import {
  abandonJobRuns,
  JobRunStatus,
  finishJobRun,
  selectRecentJobRuns,
  startJobRun,
  tryLockJob,
  unlockJob,
} from './sql.js';
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
  status: JobRunStatus;
  rows_read: number;
  rows_written: number;
  started_at: Date;
  finished_at: Date | null;
  duration_ms: number | null;
  error: string | null;
  host: string | null;
}

/** Recent runs of the named jobs, newest first. */
export async function recentJobRuns(
  db: pg.Pool,
  jobNames: readonly string[],
  limit = 20,
): Promise<JobRunRow[]> {
  return rows<JobRunRow>(db, selectRecentJobRuns(jobNames, limit));
}

export interface JobRunContext {
  run: JobRunRow;
  rowsRead: number;
  rowsWritten: number;
}

/** A job as runExclusiveJob needs it: its name in job_run and its lock's key (lib/jobs/registry.ts). */
export interface ExclusiveJob {
  name: string;
  lockKey: string;
}

/**
 * Runs `fn` as `job` while holding its lock, recording the run (RUNNING, then SUCCEEDED or
 * FAILED with the error). A second run while one holds the lock throws LockedError and records nothing.
 * A run whose process was killed (kill -9, OOM) left its row RUNNING; the next run closes it as FAILED.
 * A run whose lock session died (a terminated backend, a restart) ends FAILED with UnavailableError.
 */
export async function runExclusiveJob<T>(
  pool: pg.Pool,
  job: ExclusiveJob,
  params: Record<string, unknown>,
  fn: (ctx: JobRunContext) => Promise<T>,
): Promise<{ result: T; run: JobRunRow }> {
  const { name: jobName, lockKey } = job;
  const { client: lockClient, lost, release } = await connectHeld(pool);
  try {
    const lock = await one<{ locked: boolean }>(lockClient, tryLockJob(lockKey));
    if (!lock?.locked) throw new LockedError(`another ${jobName} run holds the lock; try again later`);
    try {
      await pool.query(abandonJobRuns(jobName));
      const started = (await one<JobRunRow>(pool, startJobRun(jobName, params)))!;
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
          finishJobRun(started.id, JobRunStatus.SUCCEEDED, ctx.rowsRead, ctx.rowsWritten, null),
        ))!;
        return { result, run };
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        // PostgreSQL may be gone too: the job's own error matters more; the next run abandons the row.
        await pool
          .query(finishJobRun(started.id, JobRunStatus.FAILED, ctx.rowsRead, ctx.rowsWritten, message))
          .catch(() => undefined);
        throw err;
      }
    } finally {
      // Must not hide the job's own error; a lost connection released the lock anyway.
      await lockClient.query(unlockJob(lockKey)).catch(() => undefined);
    }
  } finally {
    release();
  }
}
