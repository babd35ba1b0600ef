import { sql } from '../../db/query.js';
import { CHAIN_RULE_CTES, CLAIM_TURN_KEY, CLAIMED_COLUMNS, claimWindow, claimWindowCte } from './claim.js';
import { leasedFor, leasedTo, msFromNow, UNLEASE } from './states.js';

/**
 * Lease mode: a claimed row carries `locked_by` (the relay) and `locked_until` (the lease's end) until
 * it is marked or given back; another relay may take it over only once the lease has ended.
 */

/**
 * Lease mode's claim, in ONE autocommit statement (one round trip, one commit): the claim's turn (the
 * transaction-scoped advisory lock, only tried when `$3`; the row says whether it was taken), the
 * window locked FOR UPDATE SKIP LOCKED with each row's predecessor, the chain rule (CHAIN_RULE_CTES),
 * the stuck chains flagged `blocked`, the picked rows leased. Always returns at least one row: `turn`
 * and `blocked` (how many rows it flagged), then the leased rows' columns (all NULL when none).
 *
 * The window's and the batch's sizes are written into the text, not parameters: with them known, the
 * plan PostgreSQL caches for the named statement after five runs is the right one (an index walk of
 * the window, ~4,000 cost units, far below jit_above_cost), so no claim is planned again or JIT-compiled
 * (with a LIMIT parameter the cached plan costed 10% of the table; setClaimSettings is for the
 * multi-statement claims). Being one statement, nothing sits idle in a transaction holding rows: a
 * relay frozen mid-claim holds them only while its backend writes the answer.
 * Its snapshot may predate a claim that committed while the turn was tried: rows that claim leased are
 * re-checked when locked (EvalPlanQual: no longer claimable, skipped), and predecessors it marked look
 * unpublished (a break: fewer rows claimed, never one out of order).
 */
export function claimLeased(relayId: string, limit: number, leaseMs: number, tryTurn: boolean) {
  if (!Number.isInteger(limit) || limit < 1)
    throw new Error(`claim limit must be a positive integer, got ${limit}`);
  return sql(
    `outbox.claim-leased-${limit}`,
    `WITH turn AS MATERIALIZED (
       SELECT CASE WHEN $3::boolean THEN pg_try_advisory_xact_lock(${CLAIM_TURN_KEY}) ELSE true END AS ok
     ), ${claimWindowCte(String(claimWindow(limit)), '(SELECT ok FROM turn)')},
     ${CHAIN_RULE_CTES}, picked AS (
       SELECT id FROM decided WHERE claimable ORDER BY id LIMIT ${limit}
     ), blocking AS (
       UPDATE outbox_event SET blocked = true WHERE id = ANY (ARRAY(SELECT id FROM decided WHERE block))
       RETURNING 1
     ), leased AS (
       UPDATE outbox_event o
          SET locked_by = $1, locked_until = ${msFromNow('$2')}
        WHERE o.id = ANY (ARRAY(SELECT id FROM picked))
       RETURNING ${CLAIMED_COLUMNS}
     )
     SELECT t.ok AS turn, (SELECT count(*) FROM blocking)::int AS blocked, l.*
       FROM turn t LEFT JOIN leased l ON true
      ORDER BY l.id`,
    [relayId, leaseMs, tryTurn],
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
 * lease has ended (the claim's `unleased`), and a send started now ends within the send budget, under keepMs.
 */
export function renewLease(relayId: string, ids: number[], leaseMs: number, keepMs: number) {
  return sql(
    'outbox.renew-lease',
    `WITH mine AS (
       SELECT id, ${leasedFor('$4')} AS whole
         FROM outbox_event
        WHERE id = ANY($2::bigint[]) AND ${leasedTo('$1')}
     ), renewed AS (
       UPDATE outbox_event
          SET locked_until = ${msFromNow('$3')}
        WHERE id = ANY (ARRAY(SELECT id FROM mine WHERE NOT whole)) AND ${leasedTo('$1')}
       RETURNING id
     )
     SELECT id FROM mine WHERE whole UNION ALL SELECT id FROM renewed`,
    [relayId, ids, leaseMs, keepMs],
  );
}

/** Gives rows back untouched (no attempt used): broker outage, shutdown, or held behind a failure. */
export function releaseEvents(relayId: string, ids: number[]) {
  return sql(
    'outbox.release-events',
    `UPDATE outbox_event SET ${UNLEASE}
      WHERE id = ANY($2::bigint[]) AND ${leasedTo('$1')}`,
    [relayId, ids],
  );
}

/**
 * Gives back every row one relay holds leased, at once (a forced stop: its batches go back due
 * instead of waiting out their lease). Reads the unpublished rows (outbox_event_unpublished_aggregate_idx,
 * no index on locked_by): O(backlog), once per forced stop.
 */
export function releaseLeases(relayId: string) {
  return sql('outbox.release-leases', `UPDATE outbox_event SET ${UNLEASE} WHERE ${leasedTo('$1')}`, [
    relayId,
  ]);
}
