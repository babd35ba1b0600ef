import type pg from 'pg';
import { exec, rows, type Queryable } from '../db/query.js';
import { withTransaction } from '../db/transaction.js';
import {
  applyClaimSettings,
  takeClaimTurn,
  walkWindow,
  type ClaimedEvent,
  type ClaimResult,
} from './claim.js';
import { markLeased, releaseEvents, releaseLeases, renewLease } from './sql/claim-lease.js';

/**
 * Lease mode: a claimed row carries `locked_by`/`locked_until` (one write at the claim, one at the
 * mark). Everything done to it until its mark is fenced on the lease (`leasedTo`): a relay whose
 * lease was taken over changes nothing.
 */

/**
 * The claim, in its own short transaction: the window and its probes (rows locked), the chain rule
 * (chain.ts), then the picked rows leased and the stuck ones flagged (markLeased).
 */
export function claimBatch(pool: pg.Pool, relayId: string, limit: number, leaseMs: number) {
  return withTransaction(pool, async (client): Promise<ClaimResult> => {
    await applyClaimSettings(client, leaseMs);
    await takeClaimTurn(client);
    const { picked, block } = await walkWindow(client, limit);
    if (picked.length === 0 && block.length === 0) return { events: [], blocked: 0 };
    const ids = picked.map((r) => r.id);
    const events = await rows<ClaimedEvent>(client, markLeased(relayId, ids, block, leaseMs));
    return { events: events.sort((a, b) => a.id - b.id), blocked: block.length };
  });
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
