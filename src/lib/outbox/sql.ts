import type { AppConfig } from '../config/config.js';
import { sql } from '../db/query.js';
import { topicFor, type DomainEvent } from '../events/index.js';

/**
 * The outbox's statements (table outbox_event, plus event_handled's retention). Finishing claimed rows
 * goes one statement per batch, fenced on `locked_by`: a relay whose lease was taken over by another
 * relay touches nothing (the new owner decides).
 */

/** outbox_event.status (migration 003's CHECK): the values the statements below write and compare. */
export const OutboxStatus = { PENDING: 'PENDING', PUBLISHED: 'PUBLISHED', FAILED: 'FAILED' } as const;
export type OutboxStatus = (typeof OutboxStatus)[keyof typeof OutboxStatus];

export function markPublished(relayId: string, ids: number[]) {
  return sql(
    'outbox.mark-published',
    `UPDATE outbox_event
        SET status = 'PUBLISHED', published_at = now(), locked_by = NULL, locked_until = NULL
      WHERE id = ANY($2::bigint[]) AND locked_by = $1 AND status = 'PENDING'`,
    [relayId, ids],
  );
}

/**
 * Renews the lease of rows still ours, just before they are sent, so a batch that waited (claimed
 * ahead, behind a slow send) gets a full lease for its own send. Returns the ids renewed: a row whose
 * lease another relay took over is not, and must not be sent by us.
 */
export function renewLease(relayId: string, ids: number[], leaseMs: number) {
  return sql(
    'outbox.renew-lease',
    `UPDATE outbox_event
        SET locked_until = now() + make_interval(secs => $3::double precision / 1000)
      WHERE id = ANY($2::bigint[]) AND locked_by = $1 AND status = 'PENDING'
     RETURNING id`,
    [relayId, ids, leaseMs],
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
  relayId: string,
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
            locked_by = NULL, locked_until = NULL
       FROM unnest($2::bigint[], $6::text[]) AS f(id, error)
      WHERE o.id = f.id AND o.locked_by = $1 AND o.status = 'PENDING'
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

/** Gives rows back untouched (no attempt used): broker outage, shutdown, or held behind a failure. */
export function releaseEvents(relayId: string, ids: number[]) {
  return sql(
    'outbox.release-events',
    `UPDATE outbox_event SET locked_by = NULL, locked_until = NULL
      WHERE id = ANY($2::bigint[]) AND locked_by = $1 AND status = 'PENDING'`,
    [relayId, ids],
  );
}

/** Seconds since the oldest PENDING row was written (0 when none): the relay's lag. */
export function selectOldestPendingAge() {
  return sql(
    'outbox.select-oldest-pending-age',
    `SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS seconds
       FROM outbox_event WHERE status = 'PENDING'`,
  );
}

export function countPending() {
  return sql('outbox.count-pending', `SELECT count(*)::int AS n FROM outbox_event WHERE status = 'PENDING'`);
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
    'outbox.claim-events',
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
export function setClaimSettings() {
  return sql(
    'outbox.set-claim-settings',
    `SELECT set_config('plan_cache_mode', 'force_custom_plan', true), set_config('jit', 'off', true)`,
  );
}

/**
 * Retention (`outbox cleanup`): small batches, each one statement (its own short transaction), so no
 * long lock is held. Only PUBLISHED outbox rows are ever deleted: PENDING and FAILED are work not done.
 */
export function deletePublished(before: Date, limit: number) {
  return sql(
    'outbox.delete-published',
    `DELETE FROM outbox_event WHERE id IN (
       SELECT id FROM outbox_event
        WHERE status = 'PUBLISHED' AND published_at < $1
        ORDER BY id LIMIT $2
        FOR UPDATE SKIP LOCKED)`,
    [before, limit],
  );
}

export function countPublished(before: Date) {
  return sql(
    'outbox.count-published',
    `SELECT count(*)::bigint AS n FROM outbox_event WHERE status = 'PUBLISHED' AND published_at < $1`,
    [before],
  );
}

export function deleteHandled(before: Date, limit: number) {
  return sql(
    'outbox.delete-handled',
    `DELETE FROM event_handled e USING (
       SELECT event_id, consumer FROM event_handled WHERE handled_at < $1
        ORDER BY handled_at LIMIT $2 FOR UPDATE SKIP LOCKED) old
      WHERE e.event_id = old.event_id AND e.consumer = old.consumer`,
    [before, limit],
  );
}

export function countHandled(before: Date) {
  return sql(
    'outbox.count-handled',
    `SELECT count(*)::bigint AS n FROM event_handled WHERE handled_at < $1`,
    [before],
  );
}

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
        WHERE status = 'FAILED' AND ($1::bigint[] IS NULL OR id = ANY($1::bigint[]))
        ORDER BY id FOR UPDATE
     )
     UPDATE outbox_event o
        SET status = 'PENDING', attempt_count = 0, next_attempt_at = now(),
            locked_by = NULL, locked_until = NULL, last_error = NULL
       FROM target
      WHERE o.id = target.id
    RETURNING o.id, o.event_type AS "eventType", target.attempt_count AS attempts,
              target.last_error AS "lastError"`,
    [ids],
  );
}

// `outbox status`: the backlog and the rows the relay gave up on.

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
            count(*) FILTER (WHERE next_attempt_at <= now())::bigint AS due_now
       FROM outbox_event WHERE status = 'PENDING'`,
  );
}

export function selectRecentFailed(limit: number) {
  return sql(
    'outbox.select-recent-failed',
    `SELECT id, event_id AS "eventId", event_type AS "eventType",
            aggregate_type || ':' || aggregate_id AS aggregate, attempt_count AS attempts,
            last_error AS "lastError", created_at AS "createdAt"
       FROM outbox_event WHERE status = 'FAILED' ORDER BY id DESC LIMIT $1`,
    [limit],
  );
}

/**
 * Appends events to the outbox. Call it with the client of the transaction that made the change,
 * so the change and its events commit together or not at all. One statement for any number of events.
 */
export function insertEvents(events: DomainEvent[], topics: AppConfig['kafka']['topics']) {
  return sql(
    'outbox.insert-events',
    `INSERT INTO outbox_event
       (event_id, aggregate_type, aggregate_id, aggregate_version, event_type, topic, partition_key, payload)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::jsonb[])`,
    [
      events.map((e) => e.eventId),
      events.map((e) => e.aggregateType),
      events.map((e) => e.aggregateId),
      events.map((e) => e.version),
      events.map((e) => e.eventType),
      events.map((e) => topicFor(e, topics)),
      events.map((e) => e.aggregateId),
      events.map((e) => JSON.stringify(e)),
    ],
  );
}
