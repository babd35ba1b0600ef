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

/** An outbox row as the relay sends it (ClaimedEvent in claim.ts). */
const CLAIMED_COLUMNS = `o.id, o.event_id AS "eventId", o.aggregate_type AS "aggregateType",
            o.aggregate_id AS "aggregateId", o.aggregate_version AS "version",
            o.event_type AS "eventType", o.topic, o.partition_key AS "partitionKey",
            o.payload::text AS value, o.attempt_count AS "attemptCount"`;

/**
 * The fence of the statements that finish claimed rows: the lease's owner, or none (owner null) for
 * rows the caller holds locked in its own transaction (lock mode), which nobody else can have touched.
 */
const OWNED = `($1::text IS NULL OR locked_by = $1::text)`;

export function markPublished(relayId: string | null, ids: number[]) {
  // Publishing moves its aggregate forward: rows of it the claim flagged `blocked` (migration 008)
  // rejoin the claim's walk, which flags them again if they are still stuck. The NOTIFY (delivered at
  // commit) wakes relays whose last claim found only rows behind ours: on a hot backlog they take the
  // next rows at once instead of at their next poll. One statement; the row count is the rows published.
  return sql(
    'outbox.mark-published',
    `WITH done AS (
       UPDATE outbox_event
          SET status = 'PUBLISHED', published_at = now(), locked_by = NULL, locked_until = NULL,
              blocked = false
        WHERE id = ANY($2::bigint[]) AND ${OWNED} AND status = 'PENDING'
       RETURNING aggregate_type, aggregate_id
     ), unblocked AS (
       UPDATE outbox_event o SET blocked = false
         FROM (SELECT DISTINCT aggregate_type, aggregate_id FROM done) d
        WHERE o.aggregate_type = d.aggregate_type AND o.aggregate_id = d.aggregate_id AND o.blocked
     )
     SELECT 1 FROM done CROSS JOIN (SELECT pg_notify('outbox_event', '')) wake`,
    [relayId, ids],
  );
}

/**
 * Renews the lease of rows still ours, just before they are sent, so a batch that waited (claimed
 * ahead, behind a slow send) gets a full lease for its own send. Returns the ids whose lease covers
 * the send: a row whose lease another relay took over is not, and must not be sent by us.
 *
 * Only rows with less than `keepMs` of lease left are written. A batch claimed moments ago (the usual
 * case: claimed, then sent at once or after one send) still has its lease almost whole, so re-writing
 * it would only add a row version in every index of outbox_event per event (issue 15); for those rows
 * the check is a read. It is as safe as the write: another relay can take a row over only once its
 * lease has ended (claimEvents), and a send started now ends within the send budget, under keepMs.
 */
export function renewLease(relayId: string, ids: number[], leaseMs: number, keepMs: number) {
  return sql(
    'outbox.renew-lease',
    `WITH mine AS (
       SELECT id, locked_until >= now() + make_interval(secs => $4::double precision / 1000) AS whole
         FROM outbox_event
        WHERE id = ANY($2::bigint[]) AND locked_by = $1 AND status = 'PENDING'
     ), renewed AS (
       UPDATE outbox_event
          SET locked_until = now() + make_interval(secs => $3::double precision / 1000)
        WHERE id = ANY (ARRAY(SELECT id FROM mine WHERE NOT whole)) AND locked_by = $1 AND status = 'PENDING'
       RETURNING id
     )
     SELECT id FROM mine WHERE whole UNION ALL SELECT id FROM renewed`,
    [relayId, ids, leaseMs, keepMs],
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
            locked_by = NULL, locked_until = NULL
       FROM unnest($2::bigint[], $6::text[]) AS f(id, error)
      WHERE o.id = f.id AND ${OWNED} AND o.status = 'PENDING'
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

/**
 * A forced stop gives back every row this relay still leases, unsent, so another relay publishes them
 * at once instead of after the lease. Fenced on `locked_by`: rows another relay took over are untouched.
 */
export function releaseLeases(relayId: string) {
  return sql(
    'outbox.release-leases',
    `UPDATE outbox_event SET locked_by = NULL, locked_until = NULL
      WHERE locked_by = $1 AND status = 'PENDING'`,
    [relayId],
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

/** Rows one claim walks: a small multiple of the batch, so a claim costs O(batch), never O(backlog). */
export function claimWindow(limit: number): number {
  return Math.max(2 * limit, limit + 500);
}

/**
 * The claim's window: the first due, unleased, unblocked PENDING rows in id order, locked FOR UPDATE
 * SKIP LOCKED (`limit` is a placeholder such as '$4': the statements below pass claimWindow()).
 */
function claimWindowCte(limit: string): string {
  return `win AS (
       SELECT o.id, o.aggregate_type, o.aggregate_id
         FROM outbox_event o
        WHERE o.status = 'PENDING' AND NOT o.blocked
          AND o.next_attempt_at <= now()
          AND (o.locked_until IS NULL OR o.locked_until < now())
        ORDER BY o.id
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED
     )`;
}

/** Each window row's immediate predecessor `p`: the latest earlier unpublished row of its aggregate. */
const PREDECESSOR_PROBE = `LEFT JOIN LATERAL (
                SELECT e.id, e.status, e.blocked, e.next_attempt_at FROM outbox_event e
                 WHERE e.aggregate_type = w.aggregate_type AND e.aggregate_id = w.aggregate_id
                   AND e.id < w.id AND e.status <> 'PUBLISHED'
                 ORDER BY e.id DESC LIMIT 1) p ON true`;

/**
 * Claims up to `limit` due rows with a lease, in ONE statement whose cost is O(window), whatever the
 * backlog's shape (many rows on few aggregates, many aggregates, a FAILED aggregate, several relays).
 *
 * - `win`: the first claimWindow(limit) PENDING rows in id order that are due, not leased and not
 *   `blocked` (outbox_event_claim_window_idx, migration 008), locked FOR UPDATE SKIP LOCKED.
 * - `probed`: each row's IMMEDIATE predecessor, the latest earlier unpublished row of its aggregate
 *   (one backward probe of outbox_event_unpublished_aggregate_idx), instead of every earlier row.
 * - A row is claimable iff, among its aggregate's rows in the window in id order, every row up to it
 *   has as predecessor the previous window row (the first one: none). Any break means an earlier
 *   unpublished row is outside the window: leased by another relay, locked by a concurrent claim,
 *   waiting for its retry, FAILED or blocked. Each claim thus takes only rows whose every earlier
 *   unpublished row is in the same claim, so one aggregate's events are published in commit order;
 *   and a concurrent claim that skipped a predecessor can never take its successors out of order.
 *   LIMIT keeps a prefix of each aggregate's chain (claimable rows come in id order).
 * - `blocking`: a chain that starts behind a FAILED, blocked or not-yet-due row cannot move until
 *   that row does: its rows are flagged `blocked` and leave the walk, so a FAILED row with thousands
 *   of later rows does not fill every window. Rows behind a lease are not blocked (leases end).
 * Progress: the lowest-id row of the walk whose predecessor is published (or none) is claimable by
 * whichever claim locks it, so concurrent claims never all come back empty while such a row exists.
 *
 * Figures (EXPLAIN (ANALYZE, BUFFERS), README "Performance"): O(window) buffer reads per claim on a hot
 * backlog where the old per-row "any earlier row blocked?" walk read ~10 M buffers.
 */
const CLAIM_CTES = `WITH ${claimWindowCte('$4')}, probed AS (
       SELECT w.id, w.aggregate_type, w.aggregate_id,
              p.id IS DISTINCT FROM lag(w.id) OVER agg AS brk,
              coalesce(p.status = 'FAILED' OR p.blocked OR p.next_attempt_at > now(), false) AS stuck
         FROM win w ${PREDECESSOR_PROBE}
       WINDOW agg AS (PARTITION BY w.aggregate_type, w.aggregate_id ORDER BY w.id)
     ), chained AS (
       SELECT id, aggregate_type, aggregate_id, brk, stuck,
              NOT bool_or(brk) OVER agg AS claimable,
              count(*) FILTER (WHERE brk) OVER agg AS chain
         FROM probed
       WINDOW agg AS (PARTITION BY aggregate_type, aggregate_id ORDER BY id)
     ), decided AS (
       SELECT id, claimable,
              first_value(brk AND stuck) OVER (PARTITION BY aggregate_type, aggregate_id, chain ORDER BY id)
                AS block
         FROM chained
     ), picked AS (
       SELECT id FROM decided WHERE claimable ORDER BY id LIMIT $2
     ), blocking AS (
       UPDATE outbox_event SET blocked = true WHERE id = ANY (ARRAY(SELECT id FROM decided WHERE block))
       RETURNING 1
     ), leased AS (
       UPDATE outbox_event o
          SET locked_by = $1, locked_until = now() + make_interval(secs => $3::double precision / 1000)
        WHERE o.id = ANY (ARRAY(SELECT id FROM picked))
       RETURNING ${CLAIMED_COLUMNS}
     )
`;

/** The claim described above: the rows leased, in id order. */
export function claimEvents(relayId: string, limit: number, leaseMs: number) {
  return sql('outbox.claim-events', `${CLAIM_CTES} SELECT * FROM leased ORDER BY id`, [
    relayId,
    limit,
    leaseMs,
    claimWindow(limit),
  ]);
}

/**
 * The claim's window and probes (claimEvents' `win` and `probed`), for the relay to apply the chain
 * rule itself (chain.ts): the window's rows locked FOR UPDATE SKIP LOCKED, each with its immediate
 * predecessor and whether that one is stuck. Then markLeased (lease mode, same transaction) or, in
 * lock mode, a rollback to a savepoint taken before it and lockPicked.
 */
export function selectClaimWindow(limit: number) {
  return sql(
    'outbox.select-claim-window',
    `WITH ${claimWindowCte('$1')}
     SELECT w.id, w.aggregate_type AS "aggregateType", w.aggregate_id AS "aggregateId",
            p.id AS predecessor,
            coalesce(p.status = 'FAILED' OR p.blocked OR p.next_attempt_at > now(), false) AS stuck
       FROM win w ${PREDECESSOR_PROBE}`,
    [claimWindow(limit)],
  );
}

/** Lease mode's claim after selectClaimWindow, in its transaction: flags the stuck rows, leases the picked ones. */
export function markLeased(relayId: string, ids: number[], blockIds: number[], leaseMs: number) {
  return sql(
    'outbox.mark-leased',
    `WITH blocking AS (
       UPDATE outbox_event SET blocked = true WHERE id = ANY($3::bigint[])
     )
     UPDATE outbox_event o
        SET locked_by = $1, locked_until = now() + make_interval(secs => $4::double precision / 1000)
      WHERE o.id = ANY($2::bigint[])
     RETURNING ${CLAIMED_COLUMNS}`,
    [relayId, ids, blockIds, leaseMs],
  );
}

/**
 * Lock mode's claim, after selectClaimWindow: flags the rows it found stuck, and locks the picked rows
 * that are still PENDING and not leased (`FOR UPDATE SKIP LOCKED`: a row another relay took in
 * between is skipped, and the caller drops its aggregate's later rows). The rows stay locked until
 * the transaction that claimed them marks them and commits; a relay that dies (or whose connection
 * is cut) frees them at once, and a frozen one is cut off by `idle_in_transaction_session_timeout`
 * (setClaimSettings). Rows leased by a relay in lease mode are never taken, so both modes can
 * run side by side.
 */
export function lockPicked(ids: number[], blockIds: number[]) {
  return sql(
    'outbox.lock-picked',
    `WITH blocking AS (
       UPDATE outbox_event SET blocked = true
        WHERE id = ANY($2::bigint[]) AND status = 'PENDING' AND NOT blocked
     )
     SELECT ${CLAIMED_COLUMNS}
       FROM outbox_event o
      WHERE o.id = ANY($1::bigint[]) AND o.status = 'PENDING'
        AND (o.locked_until IS NULL OR o.locked_until < now())
      ORDER BY o.id
        FOR UPDATE SKIP LOCKED`,
    [ids, blockIds],
  );
}

/** Session-level variants of the claim's turn, for a claim whose transaction outlives the claim (lock mode). */
export function tryClaimTurnSession() {
  return sql('outbox.try-claim-turn-session', `SELECT pg_try_advisory_lock($1::bigint) AS ok`, [
    CLAIM_TURN_KEY,
  ]);
}

export function unlockClaimTurn() {
  return sql('outbox.unlock-claim-turn', `SELECT pg_advisory_unlock($1::bigint) AS ok`, [CLAIM_TURN_KEY]);
}

/** A cheap round trip on a locked batch's connection: proves its transaction (and its row locks) still live. */
export function selectAlive() {
  return sql('outbox.select-alive', `SELECT 1 AS ok`);
}

/**
 * The claim's transaction settings, local to it. Planner: pg's named statements switch to a generic
 * plan after five runs; for the claim that plan walks the primary key (no LIMIT value to cost with)
 * and, costed over 10% of the table, crosses jit_above_cost: compiling it took ~230 ms per claim
 * against ~12 ms of work. A custom plan per claim (about 1 ms of planning) without JIT avoids both.
 * And a bound on how long the transaction may sit idle holding rows locked: a relay frozen between
 * statements (SIGSTOP, a stalled VM) loses its connection after `idleMs` (the lease) and its rows are
 * free, whether mid-claim (the window's row locks) or, in lock mode, holding its batch. A healthy
 * relay is never idle that long: every send is bounded to 3/4 of it, and a lock-mode batch's
 * connection is checked just before its send.
 */
export function setClaimSettings(idleMs: number) {
  return sql(
    'outbox.set-claim-settings',
    `SELECT set_config('plan_cache_mode', 'force_custom_plan', true), set_config('jit', 'off', true),
            set_config('idle_in_transaction_session_timeout', $1::text, true)`,
    [`${idleMs}ms`],
  );
}

/** The claim's turn (claim.ts): a transaction-scoped advisory lock, only tried. */
const CLAIM_TURN_KEY = 0x6f7574626f78; // 'outbox'

export function tryClaimTurn() {
  return sql('outbox.try-claim-turn', `SELECT pg_try_advisory_xact_lock($1::bigint) AS ok`, [CLAIM_TURN_KEY]);
}

/**
 * The claim flags rows stuck behind a FAILED row, a blocked row or a retry backoff (`blocked`,
 * migration 008); publishing a row of the aggregate and `outbox retry` clear the flag. A claim that
 * read an old snapshot can still flag a row just after its aggregate was freed (a retry committing
 * while the claim ran): this sweep heals that. For each aggregate with blocked rows it looks at the
 * row in front of the earliest one; unless that row is FAILED or waiting for its backoff, nothing holds
 * the aggregate anymore and its rows rejoin the walk (the claim re-flags them if needed: unblocking is
 * always safe). Cost: the blocked rows (outbox_event_blocked_idx) plus one probe per aggregate.
 */
export function releaseStaleBlocks() {
  return sql(
    'outbox.release-stale-blocks',
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

export function selectClaimOutlook() {
  return sql(
    'outbox.select-claim-outlook',
    `SELECT count(*) FILTER (WHERE NOT blocked AND next_attempt_at <= now())::int AS waiting,
            count(*) FILTER (WHERE NOT blocked AND locked_until >= now())::int AS leased,
            count(*) FILTER (WHERE blocked)::int AS blocked,
            coalesce(greatest(extract(epoch FROM max(locked_until) - now()) * 1000, 0), 0)::float8
              AS "leaseLeftMs"
       FROM outbox_event WHERE status = 'PENDING'`,
  );
}

/** Whether any due row is not blocked (claimable now or once a lease ends): one probe of the claim's index. */
export function selectAnyWaiting() {
  return sql(
    'outbox.select-any-waiting',
    `SELECT EXISTS (SELECT 1 FROM outbox_event
                     WHERE status = 'PENDING' AND NOT blocked AND next_attempt_at <= now()) AS waiting`,
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
       SELECT event_id, handler FROM event_handled WHERE handled_at < $1
        ORDER BY handled_at LIMIT $2 FOR UPDATE SKIP LOCKED) old
      WHERE e.event_id = old.event_id AND e.handler = old.handler`,
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
     ), reset AS (
       UPDATE outbox_event o
          SET status = 'PENDING', attempt_count = 0, next_attempt_at = now(),
              locked_by = NULL, locked_until = NULL, last_error = NULL, blocked = false
         FROM target
        WHERE o.id = target.id
      RETURNING o.id, o.aggregate_type, o.aggregate_id, o.event_type AS "eventType",
                target.attempt_count AS attempts, target.last_error AS "lastError"
     ), unblocked AS (
       -- Later rows the claim flagged blocked behind these rows rejoin its walk (migration 008).
       UPDATE outbox_event b SET blocked = false
         FROM (SELECT DISTINCT aggregate_type, aggregate_id FROM reset) r
        WHERE b.aggregate_type = r.aggregate_type AND b.aggregate_id = r.aggregate_id AND b.blocked
     )
     SELECT id, "eventType", attempts, "lastError" FROM reset`,
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
            count(*) FILTER (WHERE next_attempt_at <= now())::bigint AS due_now,
            count(*) FILTER (WHERE blocked)::bigint AS blocked
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
