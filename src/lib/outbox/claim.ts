import type pg from 'pg';
import { rows } from '../db/query.js';
import { withTransaction } from '../db/transaction.js';
import { claimEvents, setClaimSettings } from './sql.js';

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

/** The relay's claim: claimEvents in its own short transaction, with setClaimSettings. */
export function claimBatch(pool: pg.Pool, relayId: string, limit: number, leaseMs: number) {
  return withTransaction(pool, async (client) => {
    await client.query(setClaimSettings());
    return rows<ClaimedEvent>(client, claimEvents(relayId, limit, leaseMs));
  });
}
