import { isKafkaConnectionError } from '../../lib/kafka/errors.js';

/**
 * What a failed send means for the rows in it:
 * - 'unavailable': the cluster cannot take writes right now (broker down, no leader, timeouts). The
 *   rows are not at fault: release them WITHOUT using an attempt and pause publishing.
 * - 'rejected': the broker refused this message (too large, invalid, unauthorised, unknown topic...).
 *   The row uses an attempt and is retried with backoff, then FAILED.
 */
export type SendFailure = 'unavailable' | 'rejected';

/** Broker-side conditions that pass when the cluster recovers; they say nothing about the message. */
const CLUSTER_CONDITIONS = new Set([
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
  'REQUEST_TIMED_OUT',
  'BROKER_NOT_AVAILABLE',
  'REPLICA_NOT_AVAILABLE',
  'NETWORK_EXCEPTION',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'KAFKA_STORAGE_ERROR',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'NOT_CONTROLLER',
  'COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
]);
const CLUSTER_ERROR_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSLockTimeout',
]);

export function classifySendError(err: unknown): SendFailure {
  if (isKafkaConnectionError(err)) return 'unavailable';
  // kafkajs wraps the last error in KafkaJSNumberOfRetriesExceeded / NonRetriable: walk the causes.
  let current: unknown = err;
  for (let depth = 0; current && depth < 6; depth++) {
    const e = current as { name?: string; type?: string; cause?: unknown; originalError?: unknown };
    if (e.name && CLUSTER_ERROR_NAMES.has(e.name)) return 'unavailable';
    if (e.type && CLUSTER_CONDITIONS.has(e.type)) return 'unavailable';
    current = e.cause ?? e.originalError;
  }
  return 'rejected';
}

export function describeSendError(err: unknown): string {
  const e = err as { name?: string; type?: string; message?: string; cause?: unknown };
  const own = [e.type ?? e.name, e.message].filter(Boolean).join(': ');
  const cause = e.cause as { message?: string; type?: string } | undefined;
  const inner =
    cause && cause.message && cause.message !== e.message ? ` (${cause.type ?? cause.message})` : '';
  return (own || String(err)).slice(0, 1_000) + inner;
}
