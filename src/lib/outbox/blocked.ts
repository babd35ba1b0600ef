import { sql } from '../db/query.js';

/**
 * The claim flags rows stuck behind a FAILED row, a blocked row or a retry backoff (`blocked`,
 * migration 008); publishing a row of the aggregate and `outbox retry` clear the flag. A claim that
 * read an old snapshot can still flag a row just after its aggregate was freed (a retry committing
 * while the claim ran): this sweep heals that. For each aggregate with blocked rows it looks at the
 * row in front of the earliest one; unless that row is FAILED or waiting for its backoff, nothing holds
 * the aggregate anymore and its rows rejoin the walk (the claim re-flags them if needed: unblocking is
 * always safe). Cost: the blocked rows (outbox_event_blocked_idx) plus one probe per aggregate.
 */
export function unblockStale() {
  return sql(
    'outbox.unblock-stale',
    `WITH heads AS (
       SELECT DISTINCT ON (aggregate_type, aggregate_id) id, aggregate_type, aggregate_id
         FROM outbox_event WHERE blocked
        ORDER BY aggregate_type, aggregate_id, id
     ), free AS (
       SELECT h.aggregate_type, h.aggregate_id FROM heads h
        WHERE NOT EXISTS (
                SELECT 1 FROM (
                  SELECT e.status, e.next_attempt_at FROM outbox_event e
                   WHERE e.aggregate_type = h.aggregate_type AND e.aggregate_id = h.aggregate_id
                     AND e.id < h.id AND e.status <> 'PUBLISHED'
                   ORDER BY e.id DESC LIMIT 1) p
                 WHERE p.status = 'FAILED' OR p.next_attempt_at > now())
     )
     UPDATE outbox_event o SET blocked = false
       FROM free f
      WHERE o.aggregate_type = f.aggregate_type AND o.aggregate_id = f.aggregate_id AND o.blocked`,
  );
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

export function claimOutlook() {
  return sql(
    'outbox.claim-outlook',
    `SELECT count(*) FILTER (WHERE NOT blocked AND next_attempt_at <= now())::int AS waiting,
            count(*) FILTER (WHERE NOT blocked AND locked_until >= now())::int AS leased,
            count(*) FILTER (WHERE blocked)::int AS blocked,
            coalesce(greatest(extract(epoch FROM max(locked_until) - now()) * 1000, 0), 0)::float8
              AS "leaseLeftMs"
       FROM outbox_event WHERE status = 'PENDING'`,
  );
}

/** Whether any due row is not blocked (claimable now or once a lease ends): one probe of the claim's index. */
export function anyWaiting() {
  return sql(
    'outbox.any-waiting',
    `SELECT EXISTS (SELECT 1 FROM outbox_event
                     WHERE status = 'PENDING' AND NOT blocked AND next_attempt_at <= now()) AS waiting`,
  );
}
