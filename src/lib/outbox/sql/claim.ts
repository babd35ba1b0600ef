import { sql } from '../../db/query.js';
import { blocked, claimable, holding, stuck, unpublished } from './states.js';

/**
 * The claim's statements shared by both modes (claim-lease.ts, claim-lock.ts): the window with each
 * row's predecessor, the transaction's settings, the turn, and the sweep of stale `blocked` flags.
 * The chain rule applied to the window is in chain.ts; the same claim in one statement, the reference
 * it is checked against, is test/support/outbox-reference.ts.
 */

/** An outbox row as the relay sends it (ClaimedEvent in claim.ts). */
export const CLAIMED_COLUMNS = `o.id, o.event_id AS "eventId", o.aggregate_type AS "aggregateType",
            o.aggregate_id AS "aggregateId", o.aggregate_version AS "version",
            o.event_type AS "eventType", o.topic, o.partition_key AS "partitionKey",
            o.payload::text AS value, o.attempt_count AS "attemptCount",
            o.schema_version AS "schemaVersion"`;

/** Rows one claim walks: a small multiple of the batch, so a claim costs O(batch), never O(backlog). */
export function claimWindow(limit: number): number {
  return Math.max(2 * limit, limit + 500);
}

/**
 * The claim's window: the first claimable rows (due, unleased, unblocked PENDING) in id order, locked
 * FOR UPDATE SKIP LOCKED (outbox_event_claim_window_idx, migration 008). `limit` is a placeholder such
 * as '$4': the statements pass claimWindow().
 */
export function claimWindowCte(limit: string, gate?: string): string {
  return `win AS (
       SELECT o.id, o.aggregate_type, o.aggregate_id
         FROM outbox_event o
        WHERE ${claimable('o')}${gate ? `\n          AND ${gate}` : ''}
        ORDER BY o.id
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED
     )`;
}

/**
 * Each window row's immediate predecessor `p`: the latest earlier unpublished row of its aggregate
 * (one backward probe of outbox_event_unpublished_aggregate_idx).
 */
export const PREDECESSOR_PROBE = `LEFT JOIN LATERAL (
                SELECT e.id, e.status, e.blocked, e.next_attempt_at FROM outbox_event e
                 WHERE e.aggregate_type = w.aggregate_type AND e.aggregate_id = w.aggregate_id
                   AND e.id < w.id AND ${unpublished('e')}
                 ORDER BY e.id DESC LIMIT 1) p ON true`;

/** Whether the predecessor `p` holds its successors (false when there is none). */
export const PREDECESSOR_STUCK = `coalesce(${stuck('p')}, false)`;

/**
 * The chain rule (chain.ts) in SQL, over `win` probed by PREDECESSOR_PROBE: `decided` holds each window
 * row with `claimable` (every earlier unpublished row of its aggregate is before it in the window) and
 * `block` (its chain starts behind a stuck predecessor). The same rule as decideClaim and as the
 * reference claim (test/support/outbox-reference.ts), which relay-chain.test.ts checks them against.
 */
export const CHAIN_RULE_CTES = `probed AS (
       SELECT w.id, w.aggregate_type, w.aggregate_id,
              p.id IS DISTINCT FROM lag(w.id) OVER agg AS brk,
              ${PREDECESSOR_STUCK} AS stuck
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
     )`;

/**
 * The window and its probes, for lock mode to apply the chain rule in the relay (chain.ts): the
 * window's rows locked FOR UPDATE SKIP LOCKED, each with its immediate predecessor and whether that
 * one is stuck; then a rollback to a savepoint taken before it, and lockPicked. (Lease mode's claim,
 * claimLeased, is the same window and the same rule in one statement.)
 */
export function selectClaimWindow(limit: number) {
  return sql(
    'outbox.select-claim-window',
    `WITH ${claimWindowCte('$1')}
     SELECT w.id, w.aggregate_type AS "aggregateType", w.aggregate_id AS "aggregateId",
            p.id AS predecessor,
            ${PREDECESSOR_STUCK} AS stuck
       FROM win w ${PREDECESSOR_PROBE}`,
    [claimWindow(limit)],
  );
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

/** The claim's turn (claim.ts): an advisory lock, only tried. */
export const CLAIM_TURN_KEY = 0x6f7574626f78; // 'outbox'

/** The turn, transaction-scoped (the claim's transaction ends with the claim). */
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
         FROM outbox_event WHERE ${blocked()}
        ORDER BY aggregate_type, aggregate_id, id
     ), free AS (
       SELECT h.aggregate_type, h.aggregate_id FROM heads h
        WHERE NOT EXISTS (
                SELECT 1 FROM (
                  SELECT e.status, e.next_attempt_at FROM outbox_event e
                   WHERE e.aggregate_type = h.aggregate_type AND e.aggregate_id = h.aggregate_id
                     AND e.id < h.id AND ${unpublished('e')}
                   ORDER BY e.id DESC LIMIT 1) p
                 WHERE ${holding('p')})
     )
     UPDATE outbox_event o SET blocked = false
       FROM free f
      WHERE o.aggregate_type = f.aggregate_type AND o.aggregate_id = f.aggregate_id AND ${blocked('o')}`,
  );
}
