import type { AppConfig } from '../../config/config.js';
import { sql } from '../../db/query.js';
import { topicFor, type DomainEvent } from '../../events/index.js';

/**
 * Appends events to the outbox (writeOutbox): PENDING, due now, not leased, not blocked (the
 * columns' defaults). One statement for any number of events. `schema_version` is the envelope's
 * (migration 017): the relay names the versioned schema in its headers without parsing the payload.
 */
export function insertEvents(events: DomainEvent[], topics: AppConfig['kafka']['topics']) {
  return sql(
    'outbox.insert-events',
    `INSERT INTO outbox_event
       (event_id, aggregate_type, aggregate_id, aggregate_version, event_type, topic, partition_key, payload,
        schema_version)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::jsonb[],
                          $9::smallint[])`,
    [
      events.map((e) => e.eventId),
      events.map((e) => e.aggregateType),
      events.map((e) => e.aggregateId),
      events.map((e) => e.version),
      events.map((e) => e.eventType),
      events.map((e) => topicFor(e, topics)),
      events.map((e) => e.aggregateId),
      events.map((e) => JSON.stringify(e)),
      events.map((e) => e.schemaVersion),
    ],
  );
}
