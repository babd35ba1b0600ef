import { sql } from '../../db/query.js';
import { CLAIM_TURN_KEY, CLAIMED_COLUMNS } from './claim.js';
import { notBlocked, pending, unleased } from './states.js';

/**
 * Lock mode (issue 15): a claimed row is held by the row lock of the transaction that claimed it,
 * until that transaction marks it and commits; nothing is written to claim it.
 */

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
        WHERE id = ANY($2::bigint[]) AND ${pending()} AND ${notBlocked()}
     )
     SELECT ${CLAIMED_COLUMNS}
       FROM outbox_event o
      WHERE o.id = ANY($1::bigint[]) AND ${pending('o')}
        AND ${unleased('o')}
      ORDER BY o.id
        FOR UPDATE SKIP LOCKED`,
    [ids, blockIds],
  );
}

/** Session-level variants of the claim's turn, for a claim whose transaction outlives the claim. */
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
