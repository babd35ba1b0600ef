import type pg from 'pg';
import { exec, rows, type Queryable } from '../db/query.js';
import { sleep } from '../sleep.js';
import { CLAIM_TURN_RETRY_MS, CLAIM_TURN_WAIT_MS, type ClaimedEvent, type ClaimResult } from './claim.js';
import { claimLeased, releaseEvents, releaseLeases, renewLease } from './sql/claim-lease.js';

/**
 * Lease mode: a claimed row carries `locked_by`/`locked_until` (one write at the claim, one at the
 * mark). Everything done to it until its mark is fenced on the lease (`leasedTo`): a relay whose
 * lease was taken over changes nothing.
 */

type ClaimRow = { turn: boolean; blocked: number } & (ClaimedEvent | { [K in keyof ClaimedEvent]: null });

/**
 * The claim, one statement (claimLeased): the window and its probes (rows locked), the chain rule,
 * the stuck rows flagged and the picked ones leased, in one round trip and one commit. While another
 * relay's claim holds the turn it tries again every few ms, for CLAIM_TURN_WAIT_MS at most, then
 * claims without the turn (claim.ts says why).
 */
export async function claimBatch(
  pool: pg.Pool,
  relayId: string,
  limit: number,
  leaseMs: number,
): Promise<ClaimResult> {
  const deadline = Date.now() + CLAIM_TURN_WAIT_MS;
  for (;;) {
    const tryTurn = Date.now() < deadline;
    const result = await rows<ClaimRow>(pool, claimLeased(relayId, limit, leaseMs, tryTurn));
    const head = result[0]!;
    if (!head.turn) {
      await sleep(CLAIM_TURN_RETRY_MS);
      continue;
    }
    const events: ClaimedEvent[] = [];
    for (const { turn: _turn, blocked: _blocked, ...event } of result)
      if (event.id !== null) events.push(event as ClaimedEvent);
    return { events: events.sort((a, b) => a.id - b.id), blocked: head.blocked };
  }
}

/**
 * Renews the lease of rows about to be sent where less than `keepMs` of it is left (renewLease);
 * returns the ids still ours, whose lease covers the send.
 */
export async function renewLeases(
  db: Queryable,
  relayId: string,
  ids: number[],
  leaseMs: number,
  keepMs: number,
): Promise<number[]> {
  return (await rows<{ id: number }>(db, renewLease(relayId, ids, leaseMs, keepMs))).map((r) => r.id);
}

/** Gives these rows back unsent, no attempt used (still ours only); returns how many. */
export function releaseLeased(db: Queryable, relayId: string, ids: number[]): Promise<number> {
  return exec(db, releaseEvents(relayId, ids));
}

/**
 * Gives back every row `relayId` holds leased, due again at once: for a relay stopped before its
 * batches were marked, so no one waits out their lease. Returns how many.
 */
export function releaseAllLeases(db: Queryable, relayId: string): Promise<number> {
  return exec(db, releaseLeases(relayId));
}
