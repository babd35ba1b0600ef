import pg from 'pg';
import type { AppConfig } from '../config/config.js';
import type { DomainEvent } from '../events/index.js';
import type { Queryable } from '../db/query.js';
import { afterCommit } from '../db/transaction.js';
import { insertEvents } from './sql/insert.js';
import { wakeRelays } from './waker.js';

/**
 * Appends events to the outbox. Call it with the client of the transaction that made the change,
 * so the change and its events commit together or not at all. One statement for any number of events.
 * Relays are woken once that transaction has committed (withTransaction's afterCommit; straight
 * away for a pool, whose statement commits by itself), never from inside it: see waker.ts.
 */
export async function writeOutbox(
  db: Queryable,
  events: DomainEvent[],
  topics: AppConfig['kafka']['topics'],
): Promise<void> {
  if (events.length === 0) return;
  await db.query(insertEvents(events, topics));
  if (!afterCommit(db, 'outbox.wake', wakeRelays) && db instanceof pg.Pool) wakeRelays(db);
}
