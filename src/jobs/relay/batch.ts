import type { Message } from 'kafkajs';
import type { ClaimedEvent } from '../../lib/outbox/claim.js';
import { aggregateKey, cutAtGaps } from '../../lib/outbox/chain.js';
import { eventHeaders } from '../../lib/kafka/event-headers.js';
import { occurredAtOf } from '../../lib/cloud-event.js';

/**
 * The Kafka message for an outbox row: key = partition key, value = the envelope (byte for byte),
 * CloudEvents binary headers (+ the legacy ones). Everything but `ce_time` comes from the row's
 * columns; occurredAt is read from the envelope's text without parsing it. Every mode (lease, lock,
 * CDC) sends its rows through here.
 */
export function toMessage(event: ClaimedEvent, legacyHeaders = true): Message {
  return {
    key: event.partitionKey,
    value: event.value,
    headers: eventHeaders(
      {
        eventId: event.eventId,
        eventType: event.eventType,
        aggregateType: event.aggregateType,
        aggregateId: event.aggregateId,
        version: event.version,
        schemaVersion: event.schemaVersion,
        occurredAt: occurredAtOf(event.value),
      },
      legacyHeaders,
    ),
  };
}

/**
 * One message list per topic, in id (= commit) order. With one request in flight and the key
 * choosing the partition, this order is the order on each partition, so an aggregate's events land
 * in the order they were committed.
 */
export function topicMessages(
  events: ClaimedEvent[],
  message: (event: ClaimedEvent) => Message = toMessage,
): Array<{ topic: string; messages: Message[] }> {
  const byTopic = new Map<string, Message[]>();
  for (const event of [...events].sort((a, b) => a.id - b.id)) {
    let list = byTopic.get(event.topic);
    if (!list) byTopic.set(event.topic, (list = []));
    list.push(message(event));
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

/**
 * The rows of a batch still ours after renewing its lease, in id order. A row whose lease another
 * relay took over is dropped (the new owner publishes it); later rows of its aggregate are held
 * (released, not sent) so they can never overtake it. Rows in neither list are lost.
 */
export function keepRenewed(
  events: ClaimedEvent[],
  renewedIds: Iterable<number>,
): { send: ClaimedEvent[]; held: number[] } {
  const renewed = new Set(renewedIds);
  const { kept, after } = cutAtGaps(events, (e) => renewed.has(e.id));
  return { send: kept, held: after.map((e) => e.id) };
}

/** Renews the lease of rows about to be sent: the rows to send (in id order) and the rows to release. */
export type RenewLease = (events: ClaimedEvent[]) => Promise<{ send: ClaimedEvent[]; held: number[] }>;

/** Renewing a lease failed (PostgreSQL): not the row's fault, so it must not cost an attempt. */
export class LeaseRenewalError extends Error {
  constructor(cause: unknown) {
    super(`could not renew the relay lease: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'LeaseRenewalError';
  }
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
 * one by one in id order. Once a row of an aggregate is rejected, or its lease was lost (`send`
 * renews each row's lease first and returns 'lost' without sending), that aggregate's later rows are
 * held (not sent), so they can never overtake it; other aggregates go on. An outage stops the walk.
 */
export async function sendOneByOne(
  events: ClaimedEvent[],
  send: (event: ClaimedEvent) => Promise<'sent' | 'lost'>,
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
      if ((await send(event)) === 'sent') outcome.published.push(event.id);
      else blocked.add(aggregate);
    } catch (err) {
      if (err instanceof LeaseRenewalError) throw err.cause;
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
