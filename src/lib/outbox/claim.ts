import type pg from 'pg';
import { one, rows } from '../db/query.js';
import { sleep } from '../sleep.js';
import { decideClaim, type ClaimDecision, type WindowRow } from './chain.js';
import { selectClaimWindow, setClaimSettings, tryClaimTurn } from './sql/claim.js';

/**
 * What both claim modes share (claim-lease.ts, claim-lock.ts): the claimed row, the claim's turn and
 * its walk of the window. A claim takes only rows whose every earlier unpublished row of their
 * aggregate is in the same claim (chain.ts), so one aggregate's events go out in commit order.
 */

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
  /** The envelope's schema version (migration 017): the relay's `ce_dataschema` header names it. */
  schemaVersion: number;
}

export interface ClaimResult {
  events: ClaimedEvent[];
  /** Rows this claim flagged blocked (behind a FAILED row or a retry backoff). */
  blocked: number;
}

/**
 * Claims take turns (an advisory lock) when they can. Two claims walking the same window at once
 * interleave their row locks (SKIP LOCKED) and cut each other's chains: on a hot backlog each got a
 * few rows instead of one getting a full batch. A claim that waited for the other's commit sees its
 * leases and walks past them. Only tried, briefly: a relay frozen mid-claim (SIGSTOP) must not stop
 * the others, so after CLAIM_TURN_WAIT_MS a claim runs concurrently, which is correct, only less
 * efficient.
 */
export const CLAIM_TURN_WAIT_MS = 250;
/** How long a claim that found the turn taken waits before trying again. */
export const CLAIM_TURN_RETRY_MS = 5;

/** Whether the turn was taken (false: the wait ran out and the claim runs concurrently). */
export async function takeClaimTurn(client: pg.PoolClient, attempt = tryClaimTurn): Promise<boolean> {
  const deadline = Date.now() + CLAIM_TURN_WAIT_MS;
  for (;;) {
    if ((await one<{ ok: boolean }>(client, attempt()))?.ok) return true;
    if (Date.now() >= deadline) return false;
    await sleep(CLAIM_TURN_RETRY_MS);
  }
}

/** The claim transaction's settings (setClaimSettings): custom plans, no JIT, `idleMs` idle at most. */
export async function applyClaimSettings(client: pg.PoolClient, idleMs: number): Promise<void> {
  await client.query(setClaimSettings(idleMs));
}

/** The window's rows locked with their predecessors (selectClaimWindow), and the chain rule's decision on them. */
export async function walkWindow(client: pg.PoolClient, limit: number): Promise<ClaimDecision> {
  return decideClaim(await rows<WindowRow>(client, selectClaimWindow(limit)), limit);
}
