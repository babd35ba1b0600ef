import type pg from 'pg';
import { one, rows, sql } from '../db/query.js';
import { sleep } from '../sleep.js';
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

/** Rows one claim walks: a small multiple of the batch, so a claim costs O(batch), never O(backlog). */
export function claimWindow(limit: number): number {
  return Math.max(2 * limit, limit + 500);
}

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
const CLAIM_CTES = `WITH win AS (
       SELECT o.id, o.aggregate_type, o.aggregate_id
         FROM outbox_event o
        WHERE o.status = 'PENDING' AND NOT o.blocked
          AND o.next_attempt_at <= now()
          AND (o.locked_until IS NULL OR o.locked_until < now())
        ORDER BY o.id
        LIMIT $4
        FOR UPDATE SKIP LOCKED
     ), probed AS (
       SELECT w.id, w.aggregate_type, w.aggregate_id,
              p.id IS DISTINCT FROM lag(w.id) OVER agg AS brk,
              coalesce(p.status = 'FAILED' OR p.blocked OR p.next_attempt_at > now(), false) AS stuck
         FROM win w
         LEFT JOIN LATERAL (
                SELECT e.id, e.status, e.blocked, e.next_attempt_at FROM outbox_event e
                 WHERE e.aggregate_type = w.aggregate_type AND e.aggregate_id = w.aggregate_id
                   AND e.id < w.id AND e.status <> 'PUBLISHED'
                 ORDER BY e.id DESC LIMIT 1) p ON true
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
       RETURNING o.id, o.event_id AS "eventId", o.aggregate_type AS "aggregateType",
                 o.aggregate_id AS "aggregateId", o.aggregate_version AS "version",
                 o.event_type AS "eventType", o.topic, o.partition_key AS "partitionKey",
                 o.payload::text AS value, o.attempt_count AS "attemptCount"
     )
`;

/** The claim described above: the rows leased, in id order. */
export function claimEvents(relayId: string, limit: number, leaseMs: number) {
  return sql('outbox.claim', `${CLAIM_CTES} SELECT * FROM leased ORDER BY id`, [
    relayId,
    limit,
    leaseMs,
    claimWindow(limit),
  ]);
}

/**
 * claimEvents, also counting the rows it flagged blocked: always at least one row, the events' fields
 * null when none was claimed. A claim that only flagged rows made progress (the next window reaches
 * further), so the relay claims again at once instead of sleeping.
 */
function claimReporting(relayId: string, limit: number, leaseMs: number) {
  return sql(
    'outbox.claim-reporting',
    `${CLAIM_CTES}
     SELECT l.*, b.n AS "blockedNow"
       FROM (SELECT count(*)::int AS n FROM blocking) b LEFT JOIN leased l ON true
      ORDER BY l.id`,
    [relayId, limit, leaseMs, claimWindow(limit)],
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

/**
 * Claims take turns (a transaction-scoped advisory lock) when they can. Two claims walking the same
 * window at once interleave their row locks (SKIP LOCKED) and cut each other's chains: on a hot
 * backlog each got a few rows instead of one getting a full batch. A claim that waited for the
 * other's commit sees its leases and walks past them. Only tried, briefly: a relay frozen mid-claim
 * (SIGSTOP) must not stop the others, so after CLAIM_TURN_WAIT_MS a claim runs concurrently,
 * which is correct, only less efficient.
 */
const CLAIM_TURN_KEY = 0x6f7574626f78; // 'outbox'
const CLAIM_TURN_WAIT_MS = 250;

function tryClaimTurn() {
  return sql('outbox.claim-turn', `SELECT pg_try_advisory_xact_lock($1::bigint) AS ok`, [CLAIM_TURN_KEY]);
}

async function takeClaimTurn(client: pg.PoolClient): Promise<void> {
  const deadline = Date.now() + CLAIM_TURN_WAIT_MS;
  while (!(await one<{ ok: boolean }>(client, tryClaimTurn()))?.ok && Date.now() < deadline) await sleep(5);
}

export interface ClaimResult {
  events: ClaimedEvent[];
  /** Rows this claim flagged blocked (behind a FAILED row or a retry backoff). */
  blocked: number;
}

/** The relay's claim: claimEvents in its own short transaction, with claimSettings. */
export function claimBatch(pool: pg.Pool, relayId: string, limit: number, leaseMs: number) {
  return withTransaction(pool, async (client): Promise<ClaimResult> => {
    await client.query(claimSettings());
    await takeClaimTurn(client);
    const found = await rows<ClaimedEvent & { blockedNow: number }>(
      client,
      claimReporting(relayId, limit, leaseMs),
    );
    const events = found.filter((r) => r.id !== null).map(({ blockedNow: _, ...event }) => event);
    return { events, blocked: found[0]?.blockedNow ?? 0 };
  });
}
