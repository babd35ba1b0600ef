import { sql } from '../../db/query.js';
import { blocked, failed, UNLEASE } from './states.js';

// `outbox retry`: FAILED rows back to PENDING as if new.

/** The requested rows, locked, with their status: the caller refuses ids that are not FAILED. */
export function lockEventsByIds(ids: number[]) {
  return sql(
    'outbox.lock-events-by-ids',
    `SELECT id, status FROM outbox_event WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE`,
    [ids],
  );
}

/** Resets FAILED rows: the listed ids, or every FAILED row when ids is null. */
export function resetFailed(ids: number[] | null) {
  return sql(
    'outbox.reset-failed',
    `WITH target AS (
       SELECT id, attempt_count, last_error FROM outbox_event
        WHERE ${failed()} AND ($1::bigint[] IS NULL OR id = ANY($1::bigint[]))
        ORDER BY id FOR UPDATE
     ), reset AS (
       UPDATE outbox_event o
          SET status = 'PENDING', attempt_count = 0, next_attempt_at = now(),
              ${UNLEASE}, last_error = NULL, blocked = false
         FROM target
        WHERE o.id = target.id
      RETURNING o.id, o.aggregate_type, o.aggregate_id, o.event_type AS "eventType",
                target.attempt_count AS attempts, target.last_error AS "lastError"
     ), unblocked AS (
       -- Later rows the claim flagged blocked behind these rows rejoin its walk (migration 008).
       UPDATE outbox_event b SET blocked = false
         FROM (SELECT DISTINCT aggregate_type, aggregate_id FROM reset) r
        WHERE b.aggregate_type = r.aggregate_type AND b.aggregate_id = r.aggregate_id AND ${blocked('b')}
     )
     SELECT id, "eventType", attempts, "lastError" FROM reset`,
    [ids],
  );
}
