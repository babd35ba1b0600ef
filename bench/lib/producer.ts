import type { Kafka, Message } from 'kafkajs';
import { createIdempotentProducer, SEND_ACKS_ALL } from '../../src/lib/kafka/client.js';

/**
 * The relay stages' baseline (relay, cdc): a bare idempotent producer (acks=all) sending the relay's
 * very messages in batches of the relay's batch size, one request at a time, to a fresh topic.
 */
export async function sendAllBare(kafka: Kafka, topic: string, messages: Message[], batch: number) {
  const producer = createIdempotentProducer(kafka);
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += batch)
      await producer.sendBatch({
        topicMessages: [{ topic, messages: messages.slice(i, i + batch) }],
        ...SEND_ACKS_ALL,
      });
  } finally {
    await producer.disconnect();
  }
}
