import type { Message } from 'kafkajs';
import type { Queryable } from '../../src/lib/db/query.js';
import type { AppConfig } from '../../src/lib/config/config.js';
import { createEvent, type DomainEvent } from '../../src/lib/events/index.js';
import { insertEvents } from '../../src/lib/outbox/sql/insert.js';
import { eventHeaders } from '../../src/lib/kafka/event-headers.js';
import { encodeEvent } from '../../src/lib/events/index.js';

/** Benchmark traffic: `count` valid ProductViewed events over `products` products, interleaved as in real traffic. */
export function viewEvents(count: number, products = 2_000): DomainEvent[] {
  const events: DomainEvent[] = [];
  for (let i = 0; i < count; i++) {
    const productId = (i % products) + 1;
    const version = Math.floor(i / products) + 1;
    events.push(createEvent('ProductViewed', productId, version, { productId, count: 1 }));
  }
  return events;
}

/** Writes events to the outbox in set-based chunks (one INSERT ... unnest per chunk). */
export async function insertOutbox(
  db: Queryable,
  events: DomainEvent[],
  topics: AppConfig['kafka']['topics'],
) {
  for (let i = 0; i < events.length; i += 5_000)
    await db.query(insertEvents(events.slice(i, i + 5_000), topics));
}

/** The Kafka message the relay publishes for an event: key = aggregate id, value = the envelope, event headers. */
export function eventMessage(event: DomainEvent): Message {
  return { key: event.aggregateId, value: encodeEvent(event), headers: eventHeaders(event) };
}
