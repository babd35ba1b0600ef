import type { KafkaMessage, Producer } from 'kafkajs';
import { SEND_ACKS_ALL } from '../../lib/kafka/client.js';
import { deadLetterMessage, type DeadLetterInfo } from '../../lib/kafka/dead-letter.js';
import { dlqTopic } from '../../lib/kafka/topics.js';

export interface DeadLetter {
  message: KafkaMessage;
  error: string;
  kind: DeadLetterInfo['errorKind'];
  attempts: number;
  /** A webhook receiver's HTTP status, for a `rejected` letter. */
  status?: number;
}

/**
 * Sends letters to `<topic>.dlq` (idempotent producer, acks=all) and returns once they are durable:
 * only then may the offset move past them.
 */
export async function sendDeadLetters(
  producer: Pick<Producer, 'send'>,
  at: { topic: string; partition: number; group: string },
  letters: DeadLetter[],
): Promise<void> {
  if (letters.length === 0) return;
  const failedAt = new Date().toISOString();
  await producer.send({
    topic: dlqTopic(at.topic),
    ...SEND_ACKS_ALL,
    messages: letters.map((l) =>
      deadLetterMessage(l.message, {
        originalTopic: at.topic,
        originalPartition: at.partition,
        originalOffset: l.message.offset,
        consumerGroup: at.group,
        error: l.error,
        errorKind: l.kind,
        attempts: l.attempts,
        failedAt,
        responseStatus: l.status,
      }),
    ),
  });
}
