import { isDatabaseUnavailable } from './db/errors.js';
import { CliError, UnavailableError, type Service } from './errors.js';
import { isKafkaError, isKafkaOutage } from './kafka/errors.js';
import { isRedisOutage } from './redis/errors.js';

/** Deep enough for kafkajs' retry wrappers around a connection error around a socket error. */
const MAX_CAUSES = 8;

/**
 * Which service an error says is unavailable (unreachable, not answering, unable to serve right now),
 * or undefined when the error is about the work itself. The one outage test: the relay (pause without
 * using an attempt), the collector (pause instead of retrying an event), the HTTP layer (503) and the
 * commands (exit 4) all ask it. It walks the cause chain once (kafkajs also says `originalError`).
 * A bare socket error is PostgreSQL's (node-postgres hands them to callers; ioredis and kafkajs wrap
 * theirs), unless a kafkajs error wraps it.
 */
export function unavailableService(err: unknown): Service | undefined {
  let inKafka = false;
  let current = err;
  for (let depth = 0; current !== null && typeof current === 'object' && depth < MAX_CAUSES; depth++) {
    if (current instanceof UnavailableError) return current.service;
    if (current instanceof CliError) return undefined; // already classified as something else
    if (isKafkaError(current)) {
      inKafka = true;
      if (isKafkaOutage(current)) return 'Kafka';
    } else if (isRedisOutage(current)) {
      return 'Redis';
    } else if (isDatabaseUnavailable(current)) {
      return inKafka ? 'Kafka' : 'PostgreSQL';
    }
    const next = current as { cause?: unknown; originalError?: unknown };
    current = next.cause ?? next.originalError;
  }
  return undefined;
}
