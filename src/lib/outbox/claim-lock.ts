import type pg from 'pg';
import { rows } from '../db/query.js';
import { keptInOrder } from './chain.js';
import {
  applyClaimSettings,
  takeClaimTurn,
  walkWindow,
  type ClaimedEvent,
  type ClaimResult,
} from './claim.js';
import { lockPicked, selectAlive, tryClaimTurnSession, unlockClaimTurn } from './sql/claim-lock.js';

/**
 * The open transaction that holds a lock-mode batch's rows: they are marked in it (owner null), and
 * ending it frees them. What a lease's renewal checks (the rows are still ours) is its connection
 * being alive: a killed or timed-out session has rolled back and freed its rows.
 */
export interface HeldRows {
  /** The transaction's connection: where the batch's marks go. */
  db: pg.PoolClient;
  /** Throws unless the transaction, and so its row locks, still live. */
  checkAlive(): Promise<void>;
  /**
   * Ends the transaction once and gives the connection back; with `failure`, or when the command
   * fails, the connection is destroyed (never reused with a transaction open). A failed COMMIT throws.
   */
  end(command: 'COMMIT' | 'ROLLBACK', failure?: unknown): Promise<void>;
}

/** A batch claimed in lock mode: its rows are held by `held` until it ends. Nothing held when nothing was claimed. */
export interface LockedClaim extends ClaimResult {
  held?: HeldRows;
}

/**
 * Lock mode's claim (issue 15: one row write per event, the mark). On a connection of its own, kept
 * for the batch: BEGIN; the window inside a savepoint rolled back at once, so only the picked rows
 * stay locked (lockPicked); rows another claim took in between end their aggregate's part of the
 * batch (keptInOrder). The turn is session-level here, released right after the claim: the
 * transaction itself lasts until the batch is marked. `idleMs` bounds a frozen relay. On any error
 * the connection is destroyed, and its transaction, locks and turn go with it.
 */
export async function claimLockedBatch(pool: pg.Pool, limit: number, idleMs: number): Promise<LockedClaim> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await applyClaimSettings(client, idleMs);
    const turn = await takeClaimTurn(client, tryClaimTurnSession);
    await client.query('SAVEPOINT claim_walk');
    const { picked, block } = await walkWindow(client, limit);
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
    return { events, blocked: block.length, held: holding(client) };
  } catch (err) {
    client.release(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
}

const selectAliveStatement = selectAlive();

function holding(client: pg.PoolClient): HeldRows {
  let ended = false;
  return {
    db: client,
    checkAlive: async () => {
      await client.query(selectAliveStatement);
    },
    end: async (command, failure) => {
      if (ended) return;
      ended = true;
      if (failure !== undefined) {
        client.release(failure instanceof Error ? failure : new Error(String(failure)));
        return;
      }
      try {
        await client.query(command);
        client.release();
      } catch (err) {
        client.release(err instanceof Error ? err : new Error(String(err)));
        if (command === 'COMMIT') throw err;
      }
    },
  };
}
