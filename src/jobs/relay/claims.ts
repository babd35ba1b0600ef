import type pg from 'pg';
import { exec, rows } from '../../lib/db/query.js';
import { ForcedStop } from '../../lib/loop.js';
import { claimBatch, claimLockedBatch, type ClaimedEvent } from '../../lib/outbox/claim.js';
import { releaseEvents, renewLease, selectAlive } from '../../lib/outbox/sql.js';
import { keepRenewed, LeaseRenewalError, type BatchOutcome, type RenewLease } from './batch.js';
import { recordOutcome, type CycleDeps } from './cycle.js';

/**
 * A claimed batch, whatever the claim mode: what keeps its rows ours until they are sent, how the
 * outcome is recorded and how the rows go back unsent.
 */
export interface Batch {
  events: ClaimedEvent[];
  /** Rows the claim flagged blocked (behind a FAILED row or a retry backoff). */
  blocked: number;
  /** Just before the send: the rows still ours, in id order, and the rows to hand back. */
  renew: RenewLease;
  /** Marks what became of each row (and, in lock mode, commits: the rows' locks go). */
  record(outcome: BatchOutcome): Promise<void>;
  /** Gives the rows back unsent, no attempt used (a batch claimed ahead); returns how many. */
  giveBack(): Promise<number>;
  /** The send failed with an error before any mark: lease mode leaves the leases to expire, lock mode rolls back. */
  abandon(): Promise<void>;
  /**
   * Forced stop, whatever its send in flight does: lock mode closes the transaction's connection
   * (PostgreSQL rolls back, the rows are free at once); lease mode does nothing here: the relay
   * releases all its leases in one statement (releaseLeases).
   */
  drop(): Promise<void>;
}

/**
 * Lease below which a batch's lease is re-written before its send (renewLease). The send budget
 * is 3/4 of the lease (send-budget.ts); a batch with 7/8 left keeps the same margin a fresh renewal
 * gives, so only batches that waited (e.g. behind a slow send) are written again.
 */
export function leaseKeptMs(leaseMs: number): number {
  return Math.ceil((leaseMs * 7) / 8);
}

/** Claims one batch in the relay's mode. */
export function claimFor(deps: CycleDeps): () => Promise<Batch> {
  return deps.options.mode === 'lock' ? () => claimLocked(deps) : () => claimLeased(deps);
}

/**
 * Lease mode: the rows carry `locked_by`/`locked_until` (one write at the claim, one at the mark).
 * The renewal is fenced on the lease (locked_by = us, still PENDING) and writes only rows whose lease
 * is no longer almost whole; a PostgreSQL failure is not the rows' fault.
 */
async function claimLeased(deps: CycleDeps): Promise<Batch> {
  const { db, options, stats } = deps;
  const { events, blocked } = await claimBatch(db, options.relayId, options.batchSize, options.leaseMs);
  const owner = { db, owner: options.relayId };
  return {
    events,
    blocked,
    renew: async (batch) => {
      const ids = batch.map((e) => e.id);
      const renewed = await rows<{ id: number }>(
        db,
        renewLease(options.relayId, ids, options.leaseMs, leaseKeptMs(options.leaseMs)),
      ).catch((err: unknown) => {
        throw new LeaseRenewalError(err);
      });
      return keepRenewed(
        batch,
        renewed.map((r) => r.id),
      );
    },
    record: (outcome) => recordOutcome(deps, events, outcome, owner),
    giveBack: async () => {
      const n = await exec(
        db,
        releaseEvents(
          options.relayId,
          events.map((e) => e.id),
        ),
      );
      stats.released += n;
      return n;
    },
    abandon: async () => undefined,
    drop: async () => undefined,
  };
}

/**
 * Lock mode (issue 15): the rows stay locked by the claim's open transaction while they are sent, and
 * the mark is that transaction's one write per event. What the lease's renewal checked (the rows are
 * still ours) is the connection being alive: a killed or timed-out session has rolled back and freed
 * its rows, so the batch must not be sent.
 */
async function claimLocked(deps: CycleDeps): Promise<Batch> {
  const { db, options, stats } = deps;
  const { events, blocked, client } = await claimLockedBatch(db, options.batchSize, options.leaseMs);
  if (!client) return { ...EMPTY, blocked };
  const end = endTransaction(client);
  return {
    events,
    blocked,
    renew: async (batch) => {
      await client.query(selectAliveStatement).catch((err: unknown) => {
        throw new LeaseRenewalError(err);
      });
      return { send: [...batch].sort((a, b) => a.id - b.id), held: [] };
    },
    record: async (outcome) => {
      try {
        await recordOutcome(deps, events, outcome, { db: client, owner: null });
      } catch (err) {
        await end('ROLLBACK', err);
        throw err;
      }
      await end('COMMIT');
    },
    giveBack: async () => {
      await end('ROLLBACK');
      stats.released += events.length;
      return events.length;
    },
    abandon: () => end('ROLLBACK'),
    // The connection may be busy (a mark in flight): destroyed, not rolled back through it.
    drop: () => end('ROLLBACK', new ForcedStop()),
  };
}

const selectAliveStatement = selectAlive();

const EMPTY: Batch = {
  events: [],
  blocked: 0,
  renew: async () => ({ send: [], held: [] }),
  record: async () => undefined,
  giveBack: async () => 0,
  abandon: async () => undefined,
  drop: async () => undefined,
};

/**
 * Ends a locked batch's transaction once and gives its connection back; a connection that failed
 * (or a COMMIT that did not answer) is destroyed, never reused with a transaction open.
 */
function endTransaction(client: pg.PoolClient) {
  let ended = false;
  return async (command: 'COMMIT' | 'ROLLBACK', failure?: unknown): Promise<void> => {
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
  };
}
