import { sql } from '../../db/query.js';
import { blocked, ownedBy, pending, UNLEASE } from './states.js';

/**
 * Finishing claimed rows, one statement per batch, fenced on `locked_by` (ownedBy): a relay whose
 * lease was taken over by another relay touches nothing (the new owner decides).
 */

export function markPublished(relayId: string | null, ids: number[]) {
  // Publishing moves its aggregate forward: rows of it the claim flagged `blocked` (migration 008)
  // rejoin the claim's walk, which flags them again if they are still stuck. The relay wakes the other
  // relays once this has committed (wakeRelays), not here: a NOTIFY in the statement would serialize
  // every relay's marks and every API commit on PostgreSQL's notify lock. One statement; the row
  // count is the rows published.
  return sql(
    'outbox.mark-published',
    `WITH done AS (
       UPDATE outbox_event
          SET status = 'PUBLISHED', published_at = now(), ${UNLEASE},
              blocked = false
        WHERE id = ANY($2::bigint[]) AND ${ownedBy('$1')} AND ${pending()}
       RETURNING aggregate_type, aggregate_id
     ), unblocked AS (
       UPDATE outbox_event o SET blocked = false
         FROM (SELECT DISTINCT aggregate_type, aggregate_id FROM done) d
        WHERE o.aggregate_type = d.aggregate_type AND o.aggregate_id = d.aggregate_id AND ${blocked('o')}
     )
     SELECT 1 FROM done`,
    [relayId, ids],
  );
}

export interface RetryPolicy {
  maxAttempts: number;
  /** Delay before the first retry; doubles with each attempt up to maxBackoffMs. */
  baseBackoffMs: number;
  maxBackoffMs: number;
}

/**
 * One failed attempt per row: attempt_count + 1, the error kept, the next attempt pushed back
 * exponentially with jitter (50-100% of the delay, computed in SQL so concurrent relays spread out),
 * and FAILED once max attempts are used. Returns each row's new status.
 */
export function markAttemptFailed(
  relayId: string | null,
  failures: Array<{ id: number; error: string }>,
  policy: RetryPolicy,
) {
  return sql(
    'outbox.mark-attempt-failed',
    `UPDATE outbox_event o
        SET attempt_count = o.attempt_count + 1,
            last_error = f.error,
            status = CASE WHEN o.attempt_count + 1 >= $3 THEN 'FAILED' ELSE 'PENDING' END,
            next_attempt_at = now() + make_interval(secs =>
              least($5::double precision, $4::double precision * 2 ^ o.attempt_count)
              * (0.5 + random() / 2) / 1000),
            ${UNLEASE}
       FROM unnest($2::bigint[], $6::text[]) AS f(id, error)
      WHERE o.id = f.id AND ${ownedBy('$1')} AND ${pending('o')}
     RETURNING o.id, o.status, o.attempt_count AS "attemptCount"`,
    [
      relayId,
      failures.map((f) => f.id),
      policy.maxAttempts,
      policy.baseBackoffMs,
      policy.maxBackoffMs,
      failures.map((f) => f.error),
    ],
  );
}
