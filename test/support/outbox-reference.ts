import { sql } from '../../src/lib/db/query.js';
import {
  CLAIMED_COLUMNS,
  claimWindow,
  claimWindowCte,
  PREDECESSOR_PROBE,
  PREDECESSOR_STUCK,
} from '../../src/lib/outbox/sql/claim.js';
import { msFromNow } from '../../src/lib/outbox/sql/states.js';

/**
 * The reference claim: the lease-mode claim as it was first written, in ONE statement, kept apart from
 * the relay's (lease mode: claimLeased, its own copy of the chain rule in CHAIN_RULE_CTES; lock mode:
 * the same window and probes with the rule in TypeScript, chain.ts), so a change to either is checked
 * against a copy it did not touch. Tests use it to
 * check the relay's claim against it (relay-chain.test.ts) and to claim rows as another relay would;
 * the bench uses it to read the relay's messages. It ships nowhere: src never calls it.
 *
 * Its cost is O(window), whatever the backlog's shape (many rows on few aggregates, many aggregates, a
 * FAILED aggregate, several relays):
 * - `win`: the first claimWindow(limit) claimable rows in id order (due, not leased, not `blocked`:
 *   outbox_event_claim_window_idx, migration 008), locked FOR UPDATE SKIP LOCKED.
 * - `probed`: each row's IMMEDIATE predecessor, the latest earlier unpublished row of its aggregate
 *   (one backward probe of outbox_event_unpublished_aggregate_idx), instead of every earlier row.
 * - A row is claimable iff, among its aggregate's rows in the window in id order, every row up to it
 *   has as predecessor the previous window row (the first one: none). Any break means an earlier
 *   unpublished row is outside the window: leased by another relay, locked by a concurrent claim,
 *   waiting for its retry, FAILED or blocked. Each claim thus takes only rows whose every earlier
 *   unpublished row is in the same claim, so one aggregate's events are published in commit order;
 *   and a concurrent claim that skipped a predecessor can never take its successors out of order.
 *   LIMIT keeps a prefix of each aggregate's chain (claimable rows come in id order).
 * - `blocking`: a chain that starts behind a stuck (FAILED, blocked or backing-off) row cannot move
 *   until that row does: its rows are flagged `blocked` and leave the walk, so a FAILED row with
 *   thousands of later rows does not fill every window. Rows behind a lease are not blocked (leases end).
 * Progress: the lowest-id row of the walk whose predecessor is published (or none) is claimable by
 * whichever claim locks it, so concurrent claims never all come back empty while such a row exists.
 *
 * Figures (EXPLAIN (ANALYZE, BUFFERS), docs/performance.md): O(window) buffer reads per claim on a hot
 * backlog where the old per-row "any earlier row blocked?" walk read ~10 M buffers.
 */
export function claimEvents(relayId: string, limit: number, leaseMs: number) {
  return sql(
    'outbox-reference.claim-events',
    `WITH ${claimWindowCte('$4')}, probed AS (
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
     ), picked AS (
       SELECT id FROM decided WHERE claimable ORDER BY id LIMIT $2
     ), blocking AS (
       UPDATE outbox_event SET blocked = true WHERE id = ANY (ARRAY(SELECT id FROM decided WHERE block))
       RETURNING 1
     ), leased AS (
       UPDATE outbox_event o
          SET locked_by = $1, locked_until = ${msFromNow('$3')}
        WHERE o.id = ANY (ARRAY(SELECT id FROM picked))
       RETURNING ${CLAIMED_COLUMNS}
     )
 SELECT * FROM leased ORDER BY id`,
    [relayId, limit, leaseMs, claimWindow(limit)],
  );
}
