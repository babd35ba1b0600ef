import { ForcedStop } from '../../lib/loop.js';
import type { ClaimedEvent } from '../../lib/outbox/claim.js';
import { claimBatch, releaseLeased, renewLeases } from '../../lib/outbox/claim-lease.js';
import { claimLockedBatch } from '../../lib/outbox/claim-lock.js';
import { wakeRelays } from '../../lib/outbox/waker.js';
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
 * Lease below which a batch's lease is re-written before its send (renewLeases). The send budget
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
      const renewed = await renewLeases(
        db,
        options.relayId,
        ids,
        options.leaseMs,
        leaseKeptMs(options.leaseMs),
      ).catch((err: unknown) => {
        throw new LeaseRenewalError(err);
      });
      return keepRenewed(batch, renewed);
    },
    record: async (outcome) => {
      await recordOutcome(deps, events, outcome, owner);
      publishedSome(deps, outcome);
    },
    giveBack: async () => {
      const n = await releaseLeased(
        db,
        options.relayId,
        events.map((e) => e.id),
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
 * the mark is that transaction's one write per event (claim-lock.ts). The lease's renewal becomes a
 * check that the transaction still lives: a killed or timed-out session has rolled back and freed
 * its rows, so the batch must not be sent.
 */
async function claimLocked(deps: CycleDeps): Promise<Batch> {
  const { db, options, stats } = deps;
  const { events, blocked, held } = await claimLockedBatch(db, options.batchSize, options.leaseMs);
  if (!held) return { ...EMPTY, blocked };
  return {
    events,
    blocked,
    renew: async (batch) => {
      await held.checkAlive().catch((err: unknown) => {
        throw new LeaseRenewalError(err);
      });
      return { send: [...batch].sort((a, b) => a.id - b.id), held: [] };
    },
    record: async (outcome) => {
      try {
        await recordOutcome(deps, events, outcome, { db: held.db, owner: null });
      } catch (err) {
        await held.end('ROLLBACK', err);
        throw err;
      }
      await held.end('COMMIT');
      publishedSome(deps, outcome);
    },
    giveBack: async () => {
      await held.end('ROLLBACK');
      stats.released += events.length;
      return events.length;
    },
    abandon: () => held.end('ROLLBACK'),
    // The connection may be busy (a mark in flight): destroyed, not rolled back through it.
    drop: () => held.end('ROLLBACK', new ForcedStop()),
  };
}

/**
 * Publishing moved aggregates forward: relays whose last claim found only rows behind ours take the
 * next ones at once (a hot backlog) instead of at their next poll. Sent once the mark has committed,
 * coalesced, outside the mark's statement (waker.ts says why).
 */
function publishedSome(deps: CycleDeps, outcome: BatchOutcome): void {
  if (outcome.published.length > 0) wakeRelays(deps.db);
}

const EMPTY: Batch = {
  events: [],
  blocked: 0,
  renew: async () => ({ send: [], held: [] }),
  record: async () => undefined,
  giveBack: async () => 0,
  abandon: async () => undefined,
  drop: async () => undefined,
};
