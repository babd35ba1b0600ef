import { hostname } from 'node:os';
import { sql } from './query.js';

/** The statements of lib/db: the job-run history (table job_run) and the migration bookkeeping. */

/** job_run.status (migration 006's CHECK). */
export const JobRunStatus = { RUNNING: 'RUNNING', SUCCEEDED: 'SUCCEEDED', FAILED: 'FAILED' } as const;
export type JobRunStatus = (typeof JobRunStatus)[keyof typeof JobRunStatus];

export function startJobRun(jobName: string, params: Record<string, unknown>) {
  return sql(
    'db.start-job-run',
    `INSERT INTO job_run (job_name, params, host) VALUES ($1, $2, $3) RETURNING *`,
    [jobName, JSON.stringify(params), hostname()],
  );
}

export function finishJobRun(
  id: number,
  status: Exclude<JobRunStatus, 'RUNNING'>,
  rowsRead: number,
  rowsWritten: number,
  error: string | null,
) {
  return sql(
    'db.finish-job-run',
    `UPDATE job_run
        SET status = $2, rows_read = $3, rows_written = $4, error = $5, finished_at = now(),
            duration_ms = (extract(epoch FROM now() - started_at) * 1000)::bigint
      WHERE id = $1
    RETURNING *`,
    [id, status, rowsRead, rowsWritten, error],
  );
}

// One query for one job or several (job_run_job_started_idx serves each name of the ANY).
export function selectRecentJobRuns(jobNames: readonly string[], limit: number) {
  return sql(
    'db.select-recent-job-runs',
    `SELECT * FROM job_run WHERE job_name = ANY($1::text[]) ORDER BY started_at DESC, id DESC LIMIT $2`,
    [jobNames, limit],
  );
}

// Called while holding the job's lock: any RUNNING row of that job belongs to a process that died.
export function abandonJobRuns(jobName: string) {
  return sql(
    'db.abandon-job-runs',
    `UPDATE job_run
        SET status = 'FAILED', finished_at = now(), error = 'abandoned: the process running it died',
            duration_ms = (extract(epoch FROM now() - started_at) * 1000)::bigint
      WHERE job_name = $1 AND status = 'RUNNING'`,
    [jobName],
  );
}

export function tryLockJob(key: string) {
  return sql('db.try-lock-job', 'SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [key]);
}

export function unlockJob(key: string) {
  return sql('db.unlock-job', 'SELECT pg_advisory_unlock(hashtext($1))', [key]);
}

// One fixed advisory-lock key for "schema migration": two `db migrate` at once take turns.
const MIGRATION_LOCK_KEY = 72_130_001;

export function createMigrationsTable() {
  return sql(
    'db.create-migrations-table',
    `CREATE TABLE IF NOT EXISTS schema_migrations (
       version    integer PRIMARY KEY,
       name       text NOT NULL,
       checksum   text NOT NULL,
       applied_at timestamptz NOT NULL DEFAULT now()
     )`,
  );
}

export function selectMigrationsTableExists() {
  return sql(
    'db.select-migrations-table-exists',
    `SELECT to_regclass('schema_migrations') IS NOT NULL AS exists`,
  );
}

export function selectAppliedMigrations() {
  return sql(
    'db.select-applied-migrations',
    'SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version',
  );
}

export function recordMigration(m: { version: number; name: string; checksum: string }) {
  return sql(
    'db.record-migration',
    'INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)',
    [m.version, m.name, m.checksum],
  );
}

export function lockMigrations() {
  return sql('db.lock-migrations', 'SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
}

export function unlockMigrations() {
  return sql('db.unlock-migrations', 'SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
}
