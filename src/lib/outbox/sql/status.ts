import { sql } from '../../db/query.js';
import { blocked, due, failed, leased, notBlocked, pending, published, unpublished } from './states.js';

// What the outbox holds: `outbox status`, the relay's lag and why a claim came back empty.

export function countByStatus() {
  return sql(
    'outbox.count-by-status',
    `SELECT status, count(*)::bigint AS n FROM outbox_event GROUP BY status`,
  );
}

export function selectPendingSummary() {
  return sql(
    'outbox.select-pending-summary',
    `SELECT (extract(epoch FROM now() - min(created_at)) * 1000)::bigint AS oldest_age_ms,
            count(*) FILTER (WHERE ${due()})::bigint AS due_now,
            count(*) FILTER (WHERE ${blocked()})::bigint AS blocked
       FROM outbox_event WHERE ${pending()}`,
  );
}

export function selectRecentFailed(limit: number) {
  return sql(
    'outbox.select-recent-failed',
    `SELECT id, event_id AS "eventId", event_type AS "eventType",
            aggregate_type || ':' || aggregate_id AS aggregate, attempt_count AS attempts,
            last_error AS "lastError", created_at AS "createdAt"
       FROM outbox_event WHERE ${failed()} ORDER BY id DESC LIMIT $1`,
    [limit],
  );
}

/** Seconds since the oldest PENDING row was written (0 when none): the relay's lag. */
export function selectOldestPendingAge() {
  return sql(
    'outbox.select-oldest-pending-age',
    `SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS seconds
       FROM outbox_event WHERE ${pending()}`,
  );
}

export function countPending() {
  return sql('outbox.count-pending', `SELECT count(*)::int AS n FROM outbox_event WHERE ${pending()}`);
}

/** Why a claim came back empty: due rows it could take later vs rows held behind a FAILED row/backoff. */
export interface ClaimOutlook {
  /** Due, not blocked: claimable now or once a lease (another relay's, or an in-flight claim) ends. */
  waiting: number;
  /** Of those, leased by some relay right now. */
  leased: number;
  /** Held behind a FAILED row or a retry backoff of their aggregate. */
  blocked: number;
  /** Until the last lease ends (0 when none is held). */
  leaseLeftMs: number;
}

export function selectClaimOutlook() {
  return sql(
    'outbox.select-claim-outlook',
    `SELECT count(*) FILTER (WHERE ${notBlocked()} AND ${due()})::int AS waiting,
            count(*) FILTER (WHERE ${notBlocked()} AND ${leased()})::int AS leased,
            count(*) FILTER (WHERE ${blocked()})::int AS blocked,
            coalesce(greatest(extract(epoch FROM max(locked_until) - now()) * 1000, 0), 0)::float8
              AS "leaseLeftMs"
       FROM outbox_event WHERE ${pending()}`,
  );
}

/** Whether any due row is not blocked (claimable now or once a lease ends): one probe of the claim's index. */
export function selectAnyWaiting() {
  return sql(
    'outbox.select-any-waiting',
    `SELECT EXISTS (SELECT 1 FROM outbox_event
                     WHERE ${pending()} AND ${notBlocked()} AND ${due()}) AS waiting`,
  );
}

/**
 * The outbox as `doctor` sees it: the backlog (PENDING, FAILED, the oldest PENDING's age), live
 * leases, and the last publish. Only unpublished rows are scanned (outbox_event_unpublished_aggregate_idx);
 * the last publish is one probe of outbox_event_published_idx.
 */
export function selectOutboxHealth() {
  return sql(
    'outbox.select-outbox-health',
    `SELECT count(*) FILTER (WHERE ${pending()})::int AS pending,
            count(*) FILTER (WHERE ${failed()})::int AS failed,
            coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE ${pending()})), 0)::float8
              AS oldest_pending_age,
            count(DISTINCT locked_by) FILTER (WHERE ${pending()} AND ${leased()})::int
              AS relays_leasing,
            (SELECT extract(epoch FROM now() - max(published_at))::float8
               FROM outbox_event WHERE ${published()}) AS last_publish_age
       FROM outbox_event WHERE ${unpublished()}`,
  );
}
