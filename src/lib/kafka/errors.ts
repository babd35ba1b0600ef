import { KafkaJSConnectionError, KafkaJSError } from './kafkajs.js';

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

/** A kafkajs error: its "connect ECONNREFUSED" is the broker's, never PostgreSQL's. */
export function isKafkaError(err: unknown): boolean {
  return err instanceof KafkaJSError || (err instanceof Error && err.name.startsWith('KafkaJS'));
}

/**
 * The cluster cannot be reached or cannot take requests right now (broker down, no leader, timeouts),
 * on one error (lib/unavailable.ts walks the causes), as opposed to "the broker said no" to a message.
 */
export function isKafkaOutage(err: unknown): boolean {
  if (err instanceof KafkaJSConnectionError) return true;
  const e = err as { name?: string; type?: string; message?: string };
  if (e.name && CLUSTER_ERROR_NAMES.has(e.name)) return true;
  if (e.type && CLUSTER_CONDITIONS.has(e.type)) return true;
  return /ECONNREFUSED|Connection timeout|connect ETIMEDOUT|Closed connection/i.test(e.message ?? '');
}
