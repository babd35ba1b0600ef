import type { Queryable } from '../../src/lib/db/query.js';
import type { AppConfig } from '../../src/lib/config/config.js';
import { createEvent, type DomainEvent } from '../../src/lib/events/index.js';
import { writeOutbox } from '../../src/lib/outbox/write.js';
import { EVENT_HEADERS } from '../../src/lib/kafka/event-headers.js';
import type { ReadMessage } from './topic-reader.js';

/** Outbox rows matching a condition the test writes itself (never user input), e.g. `status = 'PENDING'`. */
export async function countOutbox(db: Queryable, where: string, values: unknown[] = []): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM outbox_event WHERE ${where}`,
    values,
  );
  return rows[0]!.n;
}

/** Valid ProductViewed events for products firstId.., `perAggregate` versions each, interleaved like real traffic. */
export function viewEvents(aggregates: number, perAggregate: number, firstId = 1): DomainEvent[] {
  const events: DomainEvent[] = [];
  for (let v = 1; v <= perAggregate; v++)
    for (let p = firstId; p < firstId + aggregates; p++)
      events.push(createEvent('ProductViewed', p, v, { productId: p, count: v }));
  return events;
}

export async function insertEvents(
  db: Queryable,
  events: DomainEvent[],
  topics: AppConfig['kafka']['topics'],
) {
  for (let i = 0; i < events.length; i += 1_000) await writeOutbox(db, events.slice(i, i + 1_000), topics);
}

/**
 * Checks what reached the topic: every expected event id present, and per aggregate (key) the
 * versions of first occurrences strictly increasing, i.e. in commit order. Duplicates are allowed.
 */
export function checkDelivery(messages: ReadMessage[], expectedIds: Iterable<string>) {
  const seen = new Set<string>();
  const lastVersion = new Map<string, number>();
  const outOfOrder: string[] = [];
  const partitionOf = new Map<string, Set<number>>();
  const ordered = [...messages].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  for (const m of ordered) {
    const id = m.headers[EVENT_HEADERS.eventId]!;
    const key = m.key ?? '';
    let parts = partitionOf.get(key);
    if (!parts) partitionOf.set(key, (parts = new Set()));
    parts.add(m.partition);
    if (seen.has(id)) continue;
    seen.add(id);
    const version = Number(m.headers[EVENT_HEADERS.version]);
    if (version <= (lastVersion.get(key) ?? 0)) outOfOrder.push(`${key} v${version}`);
    lastVersion.set(key, version);
  }
  const missing = [...expectedIds].filter((id) => !seen.has(id));
  const duplicates = messages.length - seen.size;
  const splitKeys = [...partitionOf].filter(([, p]) => p.size > 1).map(([k]) => k);
  return { missing, outOfOrder, duplicates, splitKeys };
}
