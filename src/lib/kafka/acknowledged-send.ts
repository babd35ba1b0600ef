import type { ICustomPartitioner, Message, Producer, RecordMetadata, TopicMessages } from 'kafkajs';
import { UnavailableError } from '../errors.js';
import type { Logger } from '../log.js';
import { Partitioners } from './kafkajs.js';

/**
 * Every producer send goes through here (relay, dead letters, dlq replay): it resolves only once each
 * (topic, partition) that was given messages holds an acknowledgement (acks=all, error code 0).
 *
 * Why: kafkajs 2.2.4 can resolve a send that never wrote some partitions (kafkajs issue #1303, open;
 * its pull request #1798 is unreleased). On a retry, sendMessages.js skips every broker that already
 * answered the first attempt; a partition whose leadership moved onto such a broker meanwhile is not
 * sent again, yet the send resolves with the other partitions' answers. The relay then marked rows
 * PUBLISHED that were never on Kafka (issue 21: 206 events lost after a broker failover).
 *
 * How: the producer's partitioner (pinningPartitioner) writes the partition it picks into the message
 * the first time, so a message never moves between kafkajs's retries or ours and the set of
 * partitions a send wrote is known. Messages of partitions without an acknowledgement are re-sent,
 * alone and in their order, a bounded number of times; then the send throws
 * UnacknowledgedSendError (Kafka unavailable): the caller keeps the work and retries it later.
 * A re-send may duplicate a message (at least once: consumers dedupe by event id), never lose one.
 */

/** kafkajs's default (murmur2) partitioner that records its choice on the message: `message.partition`. */
export const pinningPartitioner: ICustomPartitioner = () => {
  const choose = Partitioners.DefaultPartitioner();
  return (args) => {
    const { message } = args;
    if (message.partition === undefined || message.partition === null) message.partition = choose(args);
    return message.partition;
  };
};

/** Sends the producer's connection could not confirm after its re-sends: nothing to retry blindly. */
export class UnacknowledgedSendError extends UnavailableError {
  /** kafkajs's consumer restarts after a retriable error: a dead-letter send that throws this is one. */
  readonly retriable = true;

  constructor(readonly unacknowledged: TopicMessages[]) {
    super('Kafka', `no acknowledgement for ${describePartitions(unacknowledged)} after re-sending`);
    this.name = 'UnacknowledgedSendError';
  }
}

/** The messages whose (topic, partition) has no acknowledgement in `acks`, in their order. Pure. */
export function unacknowledged(sent: TopicMessages[], acks: RecordMetadata[]): TopicMessages[] {
  const acked = new Set(acks.filter((a) => a.errorCode === 0).map((a) => slot(a.topicName, a.partition)));
  return sent
    .map(({ topic, messages }) => ({
      topic,
      messages: messages.filter((m) => !acked.has(slot(topic, pinned(m)))),
    }))
    .filter((t) => t.messages.length > 0);
}

export interface AcknowledgedSendOptions {
  /** Re-sends of what was not acknowledged before giving up (default 2). */
  resends?: number;
  /**
   * Runs before each re-send with the messages about to go again; returns those that may still be
   * sent (same objects, any subset). The relay renews their lease here, so a re-send stays within it.
   */
  beforeResend?: (pending: TopicMessages[]) => Promise<TopicMessages[]>;
  logger?: Logger;
}

/**
 * Sends with acks=all and returns every acknowledgement, or throws: kafkajs's own errors as they are,
 * or UnacknowledgedSendError. Pins `partition` on the given message objects (build fresh ones per
 * send). The producer must come from createIdempotentProducer (pinningPartitioner).
 */
export async function sendAcknowledged(
  producer: Pick<Producer, 'sendBatch'>,
  topicMessages: TopicMessages[],
  options: AcknowledgedSendOptions = {},
): Promise<RecordMetadata[]> {
  const resends = options.resends ?? 2;
  const acks: RecordMetadata[] = [];
  let pending = topicMessages.filter((t) => t.messages.length > 0);
  for (let round = 0; pending.length > 0; round++) {
    const answers = await producer.sendBatch({ topicMessages: pending, acks: -1 });
    acks.push(...answers);
    const missing = unacknowledged(pending, answers);
    if (missing.length === 0) break;
    if (round >= resends) throw new UnacknowledgedSendError(missing);
    options.logger?.warn(
      { partitions: describePartitions(missing), resend: round + 1 },
      'Kafka acknowledged a send without some of its partitions (kafkajs #1303): re-sending them',
    );
    pending = options.beforeResend ? await options.beforeResend(missing) : missing;
    pending = pending.filter((t) => t.messages.length > 0);
  }
  return acks;
}

function pinned(message: Message): number {
  if (message.partition === undefined || message.partition === null)
    // A resolved send partitioned every message; without a pin the producer is not ours.
    throw new Error('sendAcknowledged needs a producer made by createIdempotentProducer (pinned partitions)');
  return message.partition;
}

function slot(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function describePartitions(topicMessages: TopicMessages[]): string {
  const parts = topicMessages.flatMap(({ topic, messages }) =>
    [...new Set(messages.map((m) => m.partition))].map((p) => `${topic}/${p ?? '?'}`),
  );
  return `${parts.join(', ')} (${topicMessages.reduce((n, t) => n + t.messages.length, 0)} messages)`;
}
