import { NETWORK_CODES, codeOf, type ErrorKind } from '../errors.js';
import { KafkaJSConnectionError, KafkaJSError } from './kafkajs.js';

/** kafkajs' error classes that mean the cluster cannot be reached or cannot answer right now. */
const UNREACHABLE = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSLockTimeout',
]);
/**
 * Broker answers that pass when the cluster recovers, whatever their `retriable` flag says
 * (BROKER_NOT_AVAILABLE is not marked; the others are, in kafkajs' table).
 */
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
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'GROUP_LOAD_IN_PROGRESS',
]);
/** Broker answers kafkajs marks `retriable` that are about the message or its topic, not the cluster. */
const ABOUT_THE_MESSAGE = new Set(['CORRUPT_MESSAGE', 'UNKNOWN_TOPIC_OR_PARTITION']);

/** A kafkajs error: its "connect ECONNREFUSED" is the broker's, never PostgreSQL's. */
export function isKafkaError(err: unknown): boolean {
  return err instanceof KafkaJSError || (err instanceof Error && err.name.startsWith('KafkaJS'));
}

/**
 * A kafkajs error in the vocabulary (lib/errors.ts), or undefined when it is not one. `unavailable`
 * when it, or what it wraps (KafkaJSNumberOfRetriesExceeded, KafkaJSNonRetriableError: `cause`),
 * says the cluster cannot take requests: a connection class, a socket code, a broker answer kafkajs
 * marks `retriable` (leader moving, timeouts, coordinator loading). Otherwise the broker said no to
 * this request (too large, invalid, unauthorised, a stale producer): `rejected`.
 */
export function kafkaErrorKind(err: unknown): ErrorKind | undefined {
  if (!isKafkaError(err)) return undefined;
  for (let e = err, depth = 0; e !== null && typeof e === 'object' && depth < 8; depth++) {
    if (isClusterUnavailable(e)) return 'unavailable';
    const next = e as { cause?: unknown; originalError?: unknown };
    e = next.cause ?? next.originalError;
  }
  return 'rejected';
}

function isClusterUnavailable(err: object): boolean {
  if (err instanceof KafkaJSConnectionError) return true;
  const e = err as { name?: string; type?: unknown; retriable?: unknown };
  if (e.name && UNREACHABLE.has(e.name)) return true;
  const code = codeOf(err);
  if (code !== undefined && NETWORK_CODES.has(code)) return true;
  // A broker's answer (KafkaJSProtocolError): only there is `retriable` the broker's word (a bare
  // KafkaJSError is retriable by default).
  if (typeof e.type !== 'string') return false;
  if (CLUSTER_CONDITIONS.has(e.type)) return true;
  return e.retriable === true && !ABOUT_THE_MESSAGE.has(e.type);
}
