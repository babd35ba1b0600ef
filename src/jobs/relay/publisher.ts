import type { Kafka, Producer, RetryOptions } from 'kafkajs';
import type { ClaimedEvent } from '../../lib/outbox/claim.js';
import { createIdempotentProducer } from '../../lib/kafka/client.js';
import type { Logger } from '../../lib/log.js';
import { LeaseRenewalError, sendOneByOne, type BatchOutcome, type RenewLease } from './batch.js';
import type { BatchPublisher } from './cycle.js';
import { classifySendError, describeSendError } from './send-errors.js';
import { sendRows } from './send-rows.js';

/**
 * Publishes claimed rows with the idempotent producer (acks=all, one request in flight).
 * After any failed send the producer is replaced: a fresh producer id means fresh sequence numbers,
 * so a half-failed request can never leave the idempotent producer out of sequence.
 *
 * Lease: the producer connects first, then the rows' lease is renewed, then they are sent. With
 * `retry` (and the client's timeouts) bounding a send to three quarters of the lease (send-budget.ts), a send can
 * never outlive the lease it was started under; rows whose lease was taken over are never sent.
 *
 * A row is published only once its partition acknowledged it (sendRows -> sendAcknowledged, which
 * re-sends what kafkajs left unacknowledged, kafkajs #1303); rows still unacknowledged go back
 * without using an attempt, like an outage.
 */
export class Publisher implements BatchPublisher {
  private producer?: Producer;

  constructor(
    private readonly kafka: Kafka,
    private readonly logger: Logger,
    private readonly retry?: RetryOptions,
    private readonly messages: { legacyHeaders: boolean } = { legacyHeaders: true },
  ) {}

  async publish(events: ClaimedEvent[], renew: RenewLease): Promise<BatchOutcome> {
    let producer: Producer;
    try {
      producer = await this.connected();
    } catch (err) {
      await this.reset();
      return { published: [], rejected: [], held: ids(events), unavailable: err };
    }
    const { send, held } = await renew(events).catch((err: unknown) => {
      throw err instanceof LeaseRenewalError ? err.cause : err;
    });
    if (send.length === 0) return { published: [], rejected: [], held };
    try {
      const sent = await sendRows(producer, send, renew, this.logger, this.messages);
      if (sent.unavailable) await this.reset();
      return {
        published: ids(sent.acked),
        rejected: [],
        held: [...held, ...sent.held, ...ids(sent.unacked)],
        ...(sent.unavailable ? { unavailable: sent.unavailable } : {}),
      };
    } catch (err) {
      if (err instanceof LeaseRenewalError) throw err.cause;
      await this.reset();
      if (classifySendError(err) === 'unavailable')
        return { published: [], rejected: [], held: [...held, ...ids(send)], unavailable: err };
      this.logger.warn(
        { err: describeSendError(err), rows: send.length },
        'batch rejected: sending one by one to find the culprit',
      );
      const walk = await sendOneByOne(
        send,
        (e) => this.sendOne(e, renew),
        classifySendError,
        describeSendError,
      );
      return { ...walk, held: [...held, ...walk.held] };
    }
  }

  /** One row of the walk, under its own fresh lease: the walk as a whole may outlast one lease. */
  private async sendOne(event: ClaimedEvent, renew: RenewLease): Promise<'sent' | 'lost'> {
    try {
      const producer = await this.connected();
      const { send } = await renew([event]);
      if (send.length === 0) return 'lost';
      const sent = await sendRows(producer, send, renew, this.logger, this.messages);
      if (sent.unavailable) throw sent.unavailable;
      return sent.acked.length > 0 ? 'sent' : 'lost';
    } catch (err) {
      if (!(err instanceof LeaseRenewalError)) await this.reset();
      throw err;
    }
  }

  private async connected(): Promise<Producer> {
    if (!this.producer) {
      const producer = createIdempotentProducer(this.kafka, this.retry);
      // A failed connect may still hold broker connections (and keep the process alive): close them.
      await producer.connect().catch(async (err: unknown) => {
        await producer.disconnect().catch(() => undefined);
        throw err;
      });
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

function ids(events: ClaimedEvent[]): number[] {
  return events.map((e) => e.id);
}
