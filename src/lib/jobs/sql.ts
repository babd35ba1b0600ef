import { sql } from '../db/query.js';

/**
 * Per batch job (job_run): when it last succeeded (epoch, and seconds ago on PostgreSQL's clock), and
 * the status and duration of its latest run. One row per run of a cron job (thousands over years), so
 * a grouped scan stays small. Read by the exporter at each scrape and by `doctor`.
 */
export function selectJobOutcomes() {
  return sql(
    'jobs.select-job-outcomes',
    `SELECT job_name,
            extract(epoch FROM max(finished_at) FILTER (WHERE status = 'SUCCEEDED'))::float8 AS last_success,
            extract(epoch FROM now() - max(finished_at) FILTER (WHERE status = 'SUCCEEDED'))::float8
              AS since_success,
            (array_agg(status ORDER BY started_at DESC, id DESC))[1] AS last_status,
            ((array_agg(duration_ms ORDER BY started_at DESC, id DESC)
                FILTER (WHERE finished_at IS NOT NULL))[1] / 1000.0)::float8 AS last_duration
       FROM job_run GROUP BY job_name`,
  );
}
