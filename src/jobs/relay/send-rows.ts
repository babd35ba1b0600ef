import type { Message, Producer, TopicMessages } from 'kafkajs';
import type { ClaimedEvent } from '../../lib/outbox/claim.js';
import { sendAcknowledged, UnacknowledgedSendError } from '../../lib/kafka/acknowledged-send.js';
import type { Logger } from '../../lib/log.js';
import { toMessage, topicMessages, type RenewLease } from './batch.js';

/** What became of rows sent through sendRows (rows in no list were taken over by another relay). */
export interface RowsSent {
  /** Acknowledged by every partition they were written to: these may be marked PUBLISHED. */
  acked: ClaimedEvent[];
  /** Not acknowledged after the re-sends: hand them back without using an attempt. */
  unacked: ClaimedEvent[];
  /** Held by a renewal before a re-send (behind a row of their aggregate taken over). */
  held: number[];
  /** Set with `unacked`: Kafka kept some partitions unacknowledged; publishing pauses. */
  unavailable?: UnacknowledgedSendError;
}

/**
 * Sends rows (already renewed) through sendAcknowledged, so a row is reported acknowledged only if
 * its partition acknowledged it. A re-send is a new send: the rows' lease is renewed first, so it
 * stays within the lease (send-budget.ts) and rows taken over meanwhile are not sent again.
 * Throws what the producer throws (the caller replaces the producer), or LeaseRenewalError.
 */
export async function sendRows(
  producer: Pick<Producer, 'sendBatch'>,
  rows: ClaimedEvent[],
  renew: RenewLease,
  logger: Logger,
  options: { legacyHeaders: boolean } = { legacyHeaders: true },
): Promise<RowsSent> {
  const messageOf = new Map<number, Message>();
  const eventOf = new Map<Message, ClaimedEvent>();
  for (const event of rows) {
    const message = toMessage(event, options.legacyHeaders);
    messageOf.set(event.id, message);
    eventOf.set(message, event);
  }
  const eventsOf = (list: TopicMessages[]) => list.flatMap((t) => t.messages.map((m) => eventOf.get(m)!));
  const live = new Set(rows.map((e) => e.id));
  const held: number[] = [];
  const beforeResend = async (pending: TopicMessages[]) => {
    const again = await renew(eventsOf(pending));
    held.push(...again.held);
    const kept = new Set(again.send.map((e) => e.id));
    for (const e of eventsOf(pending)) if (!kept.has(e.id)) live.delete(e.id);
    return topicMessages(again.send, (e) => messageOf.get(e.id)!);
  };
  const messages = topicMessages(rows, (e) => messageOf.get(e.id)!);
  try {
    await sendAcknowledged(producer, messages, { beforeResend, logger });
    return { acked: rows.filter((e) => live.has(e.id)), unacked: [], held };
  } catch (err) {
    if (!(err instanceof UnacknowledgedSendError)) throw err;
    const unacked = eventsOf(err.unacknowledged);
    const missing = new Set(unacked.map((e) => e.id));
    const acked = rows.filter((e) => live.has(e.id) && !missing.has(e.id));
    return { acked, unacked, held, unavailable: err };
  }
}
