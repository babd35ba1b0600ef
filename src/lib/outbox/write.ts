import type { AppConfig } from '../config/config.js';
import type { DomainEvent } from '../events/index.js';
import type { Queryable } from '../db/query.js';
import { insertEvents } from './sql/insert.js';

/**
 * Appends events to the outbox. Call it with the client of the transaction that made the change,
 * so the change and its events commit together or not at all. One statement for any number of events.
 */
export async function writeOutbox(
  db: Queryable,
  events: DomainEvent[],
  topics: AppConfig['kafka']['topics'],
): Promise<void> {
  if (events.length === 0) return;
  await db.query(insertEvents(events, topics));
}
