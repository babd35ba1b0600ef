import {
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
} from './kafkajs.js';
import { UnavailableError } from '../errors.js';

/** Is this kafkajs error "the broker cannot be reached" (as opposed to "the broker said no")? */
export function isKafkaConnectionError(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; current && depth < 5; depth++) {
    if (current instanceof KafkaJSConnectionError) return true;
    if (
      current instanceof Error &&
      /ECONNREFUSED|Connection timeout|connect ETIMEDOUT|Closed connection/i.test(current.message)
    ) {
      return true;
    }
    if (current instanceof KafkaJSNumberOfRetriesExceeded || current instanceof KafkaJSNonRetriableError) {
      current =
        (current as { cause?: unknown; originalError?: unknown }).cause ??
        (current as { originalError?: unknown }).originalError;
    } else {
      current = (current as { cause?: unknown }).cause;
    }
  }
  return false;
}

export function asKafkaUnavailable(err: unknown, brokers: string[]): unknown {
  if (!isKafkaConnectionError(err)) return err;
  return new UnavailableError('Kafka', `cannot reach ${brokers.join(',')}`, err);
}
