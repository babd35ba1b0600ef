import { sql } from '../../lib/db/query.js';

/**
 * Per job: when it last succeeded, and the status and duration of its latest run. job_run holds one
 * row per run of a cron job (thousands over years), so a grouped scan per scrape stays small.
 */
export function selectJobOutcomes() {
  return sql(
    'metrics-exporter.select-job-outcomes',
    `SELECT job_name,
            extract(epoch FROM max(finished_at) FILTER (WHERE status = 'SUCCEEDED'))::float8 AS last_success,
            (array_agg(status ORDER BY started_at DESC, id DESC))[1] AS last_status,
            ((array_agg(duration_ms ORDER BY started_at DESC, id DESC)
                FILTER (WHERE finished_at IS NOT NULL))[1] / 1000.0)::float8 AS last_duration
       FROM job_run GROUP BY job_name`,
  );
}

/**
 * The relay's backlog seen from PostgreSQL, so it is known even when no relay runs. Only rows not
 * PUBLISHED are read (the partial index outbox_event_unpublished_aggregate_idx): never O(table).
 */
export function selectOutboxBacklog() {
  return sql(
    'metrics-exporter.select-outbox-backlog',
    `SELECT count(*) FILTER (WHERE status = 'PENDING')::float8 AS pending,
            count(*) FILTER (WHERE status = 'FAILED')::float8 AS failed,
            coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE status = 'PENDING')), 0)::float8
              AS oldest_pending_age
       FROM outbox_event WHERE status <> 'PUBLISHED'`,
  );
}

/**
 * Age of the oldest payment not settled by the gateway yet (REQUESTED or PENDING), from its creation:
 * how long its customer has waited, which a resend by `payments recover` does not reset. Refunds
 * (REFUND_REQUESTED) are left out: their payment's creation says nothing about the refund's wait.
 * Its predicate implies that of payments_unsettled_idx: PostgreSQL may read only the unsettled rows.
 */
export function selectOldestUnsettledPayment() {
  return sql(
    'metrics-exporter.select-oldest-unsettled-payment',
    `SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest_age
       FROM payments WHERE status IN ('REQUESTED', 'PENDING')`,
  );
}
