import type pg from 'pg';
import { one, rows } from '../db/query.js';
import { withTransaction } from '../db/transaction.js';
import { sleep } from '../sleep.js';
import { cutAtGaps, decideClaim, type AggregateRow, type WindowRow } from './chain.js';
import {
  markLeased,
  lockPicked,
  selectClaimWindow,
  setClaimSettings,
  tryClaimTurn,
  tryClaimTurnSession,
  unlockClaimTurn,
} from './sql.js';

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
 * Claims take turns (a transaction-scoped advisory lock) when they can. Two claims walking the same
 * window at once interleave their row locks (SKIP LOCKED) and cut each other's chains: on a hot
 * backlog each got a few rows instead of one getting a full batch. A claim that waited for the
 * other's commit sees its leases and walks past them. Only tried, briefly: a relay frozen mid-claim
 * (SIGSTOP) must not stop the others, so after CLAIM_TURN_WAIT_MS a claim runs concurrently,
 * which is correct, only less efficient.
 */
const CLAIM_TURN_WAIT_MS = 250;

/** Whether the turn was taken (false: the wait ran out and the claim runs concurrently). */
async function takeClaimTurn(client: pg.PoolClient, attempt = tryClaimTurn): Promise<boolean> {
  const deadline = Date.now() + CLAIM_TURN_WAIT_MS;
  for (;;) {
    if ((await one<{ ok: boolean }>(client, attempt()))?.ok) return true;
    if (Date.now() >= deadline) return false;
    await sleep(5);
  }
}

export interface ClaimResult {
  events: ClaimedEvent[];
  /** Rows this claim flagged blocked (behind a FAILED row or a retry backoff). */
  blocked: number;
}

/**
 * The relay's claim in lease mode, in its own short transaction: the window and its probes
 * (selectClaimWindow, rows locked), the chain rule applied here (decideClaim: the same rule as
 * claimEvents in sql.ts), then the picked rows leased and the stuck ones flagged (markLeased).
 */
export function claimBatch(pool: pg.Pool, relayId: string, limit: number, leaseMs: number) {
  return withTransaction(pool, async (client): Promise<ClaimResult> => {
    await client.query(setClaimSettings(leaseMs));
    await takeClaimTurn(client);
    const { picked, block } = decideClaim(await rows<WindowRow>(client, selectClaimWindow(limit)), limit);
    if (picked.length === 0 && block.length === 0) return { events: [], blocked: 0 };
    const events = await rows<ClaimedEvent>(
      client,
      markLeased(
        relayId,
        picked.map((r) => r.id),
        block,
        leaseMs,
      ),
    );
    return { events: events.sort((a, b) => a.id - b.id), blocked: block.length };
  });
}

/**
 * A batch claimed in lock mode: its rows are locked by the open transaction on `client` until the
 * caller commits (after marking them) or rolls back. No client when nothing was claimed.
 */
export interface LockedClaim extends ClaimResult {
  client?: pg.PoolClient;
}

/**
 * Lock mode's claim (issue 15: one row write per event, the mark). On a connection of its own, kept
 * for the batch: BEGIN; the window (selectClaimWindow) inside a savepoint rolled back at once, so only
 * the picked rows stay locked (lockPicked); rows another claim took in between end their aggregate's
 * part of the batch (cutAtGaps). The turn is session-level here, released right after the
 * claim: the transaction itself lasts until the batch is marked. `idleMs` bounds a frozen relay.
 * On any error the connection is destroyed, and its transaction, locks and turn go with it.
 */
export async function claimLockedBatch(pool: pg.Pool, limit: number, idleMs: number): Promise<LockedClaim> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(setClaimSettings(idleMs));
    const turn = await takeClaimTurn(client, tryClaimTurnSession);
    await client.query('SAVEPOINT claim_walk');
    const { picked, block } = decideClaim(await rows<WindowRow>(client, selectClaimWindow(limit)), limit);
    await client.query('ROLLBACK TO SAVEPOINT claim_walk');
    const locked =
      picked.length + block.length === 0
        ? []
        : await rows<ClaimedEvent>(
            client,
            lockPicked(
              picked.map((r) => r.id),
              block,
            ),
          );
    if (turn) await client.query(unlockClaimTurn());
    const events = keptInOrder(picked, locked);
    if (events.length === 0) {
      await client.query('COMMIT');
      client.release();
      return { events, blocked: block.length };
    }
    return { events, blocked: block.length, client };
  } catch (err) {
    client.release(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
}

/** The locked rows of a pick, in id order, each aggregate cut at its first picked row not locked (cutAtGaps). */
export function keptInOrder(picked: AggregateRow[], locked: ClaimedEvent[]): ClaimedEvent[] {
  const byId = new Map(locked.map((e) => [e.id, e]));
  return cutAtGaps(picked, (row) => byId.has(row.id)).kept.map((row) => byId.get(row.id)!);
}
