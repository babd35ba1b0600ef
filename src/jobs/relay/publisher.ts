import type { Kafka, Producer } from 'kafkajs';
import type { ClaimedEvent } from '../../lib/outbox/claim.js';
import { createIdempotentProducer, SEND_ACKS_ALL } from '../../lib/kafka/client.js';
import type { Logger } from '../../lib/log.js';
import { sendOneByOne, toMessage, topicMessages, type BatchOutcome } from './batch.js';
import { classifySendError, describeSendError } from './send-errors.js';

/**
 * Publishes claimed rows with the idempotent producer (acks=all, one request in flight).
 * After any failed send the producer is replaced: a fresh producer id means fresh sequence numbers,
 * so a half-failed request can never leave the idempotent producer out of sequence.
 */
export class Publisher {
  private producer?: Producer;

  constructor(
    private readonly kafka: Kafka,
    private readonly logger: Logger,
  ) {}

  async publish(events: ClaimedEvent[]): Promise<BatchOutcome> {
    const ids = events.map((e) => e.id);
    try {
      const producer = await this.connected();
      await producer.sendBatch({ topicMessages: topicMessages(events), ...SEND_ACKS_ALL });
      return { published: ids, rejected: [], held: [] };
    } catch (err) {
      await this.reset();
      if (classifySendError(err) === 'unavailable')
        return { published: [], rejected: [], held: ids, unavailable: err };
      this.logger.warn(
        { err: describeSendError(err), rows: ids.length },
        'batch rejected: sending one by one to find the culprit',
      );
      return sendOneByOne(events, (e) => this.sendOne(e), classifySendError, describeSendError);
    }
  }

  private async sendOne(event: ClaimedEvent): Promise<void> {
    try {
      const producer = await this.connected();
      await producer.send({ topic: event.topic, messages: [toMessage(event)], ...SEND_ACKS_ALL });
    } catch (err) {
      await this.reset();
      throw err;
    }
  }

  private async connected(): Promise<Producer> {
    if (!this.producer) {
      const producer = createIdempotentProducer(this.kafka);
      await producer.connect();
      this.producer = producer;
    }
    return this.producer;
  }

  async reset(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch((err) => this.logger.debug({ err }, 'producer disconnect failed'));
  }
}
