import { sql } from '../../lib/db/query.js';

// What `doctor` reads from PostgreSQL: each a small aggregate over an index (the unpublished outbox
// rows, the unsettled payments, job_run grouped by job), never a scan of a growing table.

export function selectServer() {
  return sql(
    'doctor.select-server',
    `SELECT current_setting('server_version') AS version,
            current_setting('wal_level') AS wal_level,
            extract(epoch FROM clock_timestamp())::float8 AS now_epoch`,
  );
}

/** The oldest payment the gateway has not settled yet (REQUESTED or PENDING), and how many there are. */
export function selectUnsettledPayments(olderThanSeconds: number) {
  return sql(
    'doctor.select-unsettled-payments',
    `SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest_age,
            count(*) FILTER (WHERE created_at < now() - make_interval(secs => $1))::int AS overdue
       FROM payments WHERE status IN ('REQUESTED', 'PENDING')`,
    [olderThanSeconds],
  );
}

/** Per job: seconds since its last success, and the status of its latest run. */
export function selectJobLastRuns() {
  return sql(
    'doctor.select-job-last-runs',
    `SELECT job_name,
            extract(epoch FROM now() - max(finished_at) FILTER (WHERE status = 'SUCCEEDED'))::float8
              AS since_success,
            (array_agg(status ORDER BY started_at DESC, id DESC))[1] AS last_status
       FROM job_run GROUP BY job_name`,
  );
}
