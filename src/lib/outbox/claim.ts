import type pg from 'pg';
import { one, rows } from '../db/query.js';
import { withTransaction } from '../db/transaction.js';
import { sleep } from '../sleep.js';
import { claimEventsReporting, setClaimSettings, tryClaimTurn } from './sql.js';

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

async function takeClaimTurn(client: pg.PoolClient): Promise<void> {
  const deadline = Date.now() + CLAIM_TURN_WAIT_MS;
  while (!(await one<{ ok: boolean }>(client, tryClaimTurn()))?.ok && Date.now() < deadline) await sleep(5);
}

export interface ClaimResult {
  events: ClaimedEvent[];
  /** Rows this claim flagged blocked (behind a FAILED row or a retry backoff). */
  blocked: number;
}

/** The relay's claim (claimEvents in sql.ts) in its own short transaction, with setClaimSettings. */
export function claimBatch(pool: pg.Pool, relayId: string, limit: number, leaseMs: number) {
  return withTransaction(pool, async (client): Promise<ClaimResult> => {
    await client.query(setClaimSettings());
    await takeClaimTurn(client);
    const found = await rows<ClaimedEvent & { blockedNow: number }>(
      client,
      claimEventsReporting(relayId, limit, leaseMs),
    );
    const events = found.filter((r) => r.id !== null).map(({ blockedNow: _, ...event }) => event);
    return { events, blocked: found[0]?.blockedNow ?? 0 };
  });
}
