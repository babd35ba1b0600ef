import type pg from 'pg';
import { rows, sql } from '../db/query.js';
import { withTransaction } from '../db/transaction.js';

/** An outbox row as the relay holds it while publishing. */
export interface ClaimedEvent {
  id: number;
  eventId: string;
  aggregateType: string;
  aggregateId: string;
  version: number;
  eventType: string;
  topic: string;
  partitionKey: string;
  /** The envelope as JSON text: published byte for byte as the message value. */
  value: string;
  attemptCount: number;
}

/**
 * Claims up to `limit` due rows with a lease, in ONE statement (graphile-worker style).
 *
 * Ordering: a row is claimed only if every earlier unpublished row of its aggregate is claimed with
 * it. Two filters do that:
 * - `candidates` skips rows that sit behind an earlier row that cannot be claimed now (FAILED, in
 *   retry backoff, or leased by another relay). Filtering before LIMIT keeps a blocked aggregate
 *   from filling every batch and starving the others.
 * - `claimable` drops rows whose earlier row is claimable but did not make it into this claim
 *   (SKIP LOCKED by a concurrent claim, or cut by LIMIT).
 * A FAILED row therefore blocks the later rows of ITS aggregate (never the others) until an operator
 * retries it: publishing them would put the aggregate's history out of order.
 *
 * Cost (EXPLAIN on a 100k outbox): the walk is outbox_event_pending_id_idx (PENDING rows in id order,
 * migration 007), so published history is never re-read. `OFFSET 0` keeps both NOT EXISTS checks
 * per-row subplans that probe outbox_event_unpublished_aggregate_idx and stop at the first hit:
 * without it the planner may turn them into anti-joins over a full scan of the table (30-40 ms a
 * claim), because it expects few matches and scales that one scan down by the LIMIT.
 */
export function claimEvents(relayId: string, limit: number, leaseMs: number) {
  return sql(
    'outbox.claim',
    `WITH candidates AS (
       SELECT o.id, o.aggregate_type, o.aggregate_id
         FROM outbox_event o
        WHERE o.status = 'PENDING'
          AND o.next_attempt_at <= now()
          AND (o.locked_until IS NULL OR o.locked_until < now())
          AND NOT EXISTS (
                SELECT 1 FROM outbox_event e
                 WHERE e.aggregate_type = o.aggregate_type AND e.aggregate_id = o.aggregate_id
                   AND e.id < o.id AND e.status <> 'PUBLISHED'
                   AND (e.status = 'FAILED' OR e.next_attempt_at > now() OR e.locked_until >= now())
                 OFFSET 0)
        ORDER BY o.id
        LIMIT $2
        FOR UPDATE SKIP LOCKED
     ), claimable AS (
       SELECT c.id FROM candidates c
        WHERE NOT EXISTS (
                SELECT 1 FROM outbox_event e
                 WHERE e.aggregate_type = c.aggregate_type AND e.aggregate_id = c.aggregate_id
                   AND e.id < c.id AND e.status <> 'PUBLISHED'
                   AND e.id NOT IN (SELECT id FROM candidates)
                 OFFSET 0)
     )
     UPDATE outbox_event o
        SET locked_by = $1, locked_until = now() + make_interval(secs => $3::double precision / 1000)
       FROM claimable
      WHERE o.id = claimable.id
     RETURNING o.id, o.event_id AS "eventId", o.aggregate_type AS "aggregateType",
               o.aggregate_id AS "aggregateId", o.aggregate_version AS "version",
               o.event_type AS "eventType", o.topic, o.partition_key AS "partitionKey",
               o.payload::text AS value, o.attempt_count AS "attemptCount"`,
    [relayId, limit, leaseMs],
  );
}

/**
 * Planner settings for the claim, local to its transaction. pg's named statements switch to a generic
 * plan after five runs; for the claim that plan walks the primary key (no LIMIT value to cost with)
 * and, costed over 10% of the table, crosses jit_above_cost: compiling it took ~230 ms per claim
 * against ~12 ms of work. A custom plan per claim (about 1 ms of planning) without JIT avoids both.
 */
function claimSettings() {
  return sql(
    'outbox.claim-settings',
    `SELECT set_config('plan_cache_mode', 'force_custom_plan', true), set_config('jit', 'off', true)`,
  );
}

/** The relay's claim: claimEvents in its own short transaction, with claimSettings. */
export function claimBatch(pool: pg.Pool, relayId: string, limit: number, leaseMs: number) {
  return withTransaction(pool, async (client) => {
    await client.query(claimSettings());
    return rows<ClaimedEvent>(client, claimEvents(relayId, limit, leaseMs));
  });
}
