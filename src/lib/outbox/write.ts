import type { AppConfig } from '../config/config.js';
import type { DomainEvent } from '../events/index.js';
import { topicFor } from '../events/index.js';
import { sql, type Queryable } from '../db/query.js';

/**
 * Appends events to the outbox. Call it with the client of the transaction that made the change,
 * so the change and its events commit together or not at all. One statement for any number of events.
 */
export function insertOutboxEvents(events: DomainEvent[], topics: AppConfig['kafka']['topics']) {
  return sql(
    'outbox.insert',
    `INSERT INTO outbox_event
       (event_id, aggregate_type, aggregate_id, aggregate_version, event_type, topic, partition_key, payload)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::jsonb[])`,
    [
      events.map((e) => e.eventId),
      events.map((e) => e.aggregateType),
      events.map((e) => e.aggregateId),
      events.map((e) => e.version),
      events.map((e) => e.eventType),
      events.map((e) => topicFor(e, topics)),
      events.map((e) => e.aggregateId),
      events.map((e) => JSON.stringify(e)),
    ],
  );
}

export async function writeOutbox(
  db: Queryable,
  events: DomainEvent[],
  topics: AppConfig['kafka']['topics'],
): Promise<void> {
  if (events.length === 0) return;
  await db.query(insertOutboxEvents(events, topics));
}
