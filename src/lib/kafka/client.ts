import type {
  Kafka as KafkaClient,
  KafkaConfig,
  LogEntry,
  Producer,
  ProducerRecord,
  RecordMetadata,
  RetryOptions,
} from 'kafkajs';
import { Kafka, logLevel as KafkaLogLevel } from './kafkajs.js';
import { pinningPartitioner, sendAcknowledged } from './acknowledged-send.js';
import type { AppConfig } from '../config/config.js';
import type { Logger } from '../log.js';

/** kafkajs logs through our logger, one level quieter: its INFO is chatty (every join, every connect). */
function logCreator(logger?: Logger) {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      if (!logger) return;
      const { message, ...extra } = log;
      const fields = { kafka: namespace, ...extra };
      if (level === KafkaLogLevel.ERROR) logger.warn(fields, message);
      else if (level === KafkaLogLevel.WARN) logger.info(fields, message);
      else logger.debug(fields, message);
    };
}

/** Timeouts and retries a caller may tighten, e.g. the relay bounds one send by its lease. */
export type KafkaTimeouts = Pick<KafkaConfig, 'connectionTimeout' | 'requestTimeout' | 'retry'>;

export function createKafka(
  config: Pick<AppConfig['kafka'], 'brokers' | 'clientId'>,
  logger?: Logger,
  timeouts: KafkaTimeouts = {},
): KafkaClient {
  return new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    connectionTimeout: timeouts.connectionTimeout ?? 3_000,
    requestTimeout: timeouts.requestTimeout ?? 30_000,
    retry: timeouts.retry ?? { initialRetryTime: 100, retries: 5, maxRetryTime: 5_000 },
    logLevel: KafkaLogLevel.WARN,
    logCreator: logCreator(logger),
  });
}

/**
 * The one way to make a producer: idempotent, acks=all, and one request in flight, because kafkajs
 * can reorder or drop messages when an idempotent producer has several concurrent requests.
 * `retry` bounds its sends (kafkajs otherwise retries an idempotent send forever); a caller that
 * passes it must replace the producer after a failed send, as the relay does, so that giving up
 * can never leave a producer out of sequence. Its partitioner pins each message's partition, so
 * sendAcknowledged (acknowledged-send.ts) can check that every partition written was acknowledged:
 * send through it, never through producer.send/sendBatch directly.
 */
export function createIdempotentProducer(kafka: KafkaClient, retry?: RetryOptions): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: pinningPartitioner,
    ...(retry ? { retry } : {}),
  });
}

/** Send options that go with createIdempotentProducer: acks from all in-sync replicas. */
export const SEND_ACKS_ALL = { acks: -1 } as const;

/**
 * One send at a time through a producer shared by concurrent callers (partitions or chunks processed
 * in parallel): kafkajs can reorder or lose messages when an idempotent producer sends concurrently.
 * Each send is checked (sendAcknowledged): it resolves only once every partition it wrote acknowledged.
 */
export function serialSender(producer: Pick<Producer, 'sendBatch'>): Pick<Producer, 'send'> {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    send({ topic, messages }: ProducerRecord): Promise<RecordMetadata[]> {
      const next = tail.then(() => sendAcknowledged(producer, [{ topic, messages }]));
      tail = next.catch(() => undefined);
      return next;
    },
  };
}
