import type { Message } from 'kafkajs';
import type { ClaimedEvent } from '../../lib/outbox/claim.js';
import { eventHeaders } from '../../lib/kafka/event-headers.js';

/** The Kafka message for an outbox row: key = partition key, value = the envelope, event headers. */
export function toMessage(event: ClaimedEvent): Message {
  return {
    key: event.partitionKey,
    value: event.value,
    headers: eventHeaders({
      eventId: event.eventId,
      eventType: event.eventType,
      aggregateType: event.aggregateType,
      version: event.version,
    }),
  };
}

/**
 * One message list per topic, in id (= commit) order. With one request in flight and the key
 * choosing the partition, this order is the order on each partition, so an aggregate's events land
 * in the order they were committed.
 */
export function topicMessages(events: ClaimedEvent[]): Array<{ topic: string; messages: Message[] }> {
  const byTopic = new Map<string, Message[]>();
  for (const event of [...events].sort((a, b) => a.id - b.id)) {
    let list = byTopic.get(event.topic);
    if (!list) byTopic.set(event.topic, (list = []));
    list.push(toMessage(event));
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

export function aggregateKey(event: Pick<ClaimedEvent, 'aggregateType' | 'aggregateId'>): string {
  return `${event.aggregateType}:${event.aggregateId}`;
}

/** What became of each row of a claimed batch. */
export interface BatchOutcome {
  published: number[];
  rejected: Array<{ id: number; error: string }>;
  /** Not sent, handed back without using an attempt: behind a rejected row of its aggregate, or the broker is down. */
  held: number[];
  /** Set when the broker could not be reached: publishing pauses. */
  unavailable?: unknown;
}

/**
 * Isolates the culprit after a batch send failed for a reason other than an outage: sends the rows
 * one by one in id order. Once a row of an aggregate is rejected, that aggregate's later rows are
 * held (not sent), so they can never overtake it; other aggregates go on. An outage stops the walk.
 */
export async function sendOneByOne(
  events: ClaimedEvent[],
  send: (event: ClaimedEvent) => Promise<void>,
  classify: (err: unknown) => 'unavailable' | 'rejected',
  describe: (err: unknown) => string,
): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { published: [], rejected: [], held: [] };
  const blocked = new Set<string>();
  const ordered = [...events].sort((a, b) => a.id - b.id);
  for (const [index, event] of ordered.entries()) {
    if (outcome.unavailable !== undefined) {
      outcome.held.push(...ordered.slice(index).map((e) => e.id));
      break;
    }
    const aggregate = aggregateKey(event);
    if (blocked.has(aggregate)) {
      outcome.held.push(event.id);
      continue;
    }
    try {
      await send(event);
      outcome.published.push(event.id);
    } catch (err) {
      if (classify(err) === 'unavailable') {
        outcome.unavailable = err;
        outcome.held.push(event.id);
      } else {
        outcome.rejected.push({ id: event.id, error: describe(err) });
        blocked.add(aggregate);
      }
    }
  }
  return outcome;
}
