import { pgErrorKind } from './db/errors.js';
import {
  CliError,
  KindError,
  UnavailableError,
  type Classification,
  type ErrorKind,
  type Service,
} from './errors.js';
import { kafkaErrorKind } from './kafka/errors.js';
import { redisErrorKind } from './redis/errors.js';

/** Deep enough for kafkajs' retry wrappers around a connection error around a socket error. */
const MAX_CAUSES = 8;

/**
 * The one entry point of the error vocabulary (lib/errors.ts): what an error means and which service
 * it concerns. It walks the cause chain (kafkajs also says `originalError`) and asks each adapter about
 * each error: our own classified errors first (UnavailableError, KindError: the gateway, a webhook
 * receiver), then kafkajs (which reads its own wrappers), ioredis and node-postgres. A bare socket error
 * is PostgreSQL's: node-postgres hands them to callers, ioredis and kafkajs wrap theirs. Anything no
 * adapter claims is a `bug`; any other CliError is already classified (a usage error, an interruption).
 */
export function classifyError(err: unknown): Classification {
  let current = err;
  for (let depth = 0; current !== null && typeof current === 'object' && depth < MAX_CAUSES; depth++) {
    if (current instanceof UnavailableError) return { kind: 'unavailable', service: current.service };
    if (current instanceof KindError) return { kind: current.kind, service: current.service };
    if (current instanceof CliError) return { kind: 'bug' };
    const found =
      at('Kafka', kafkaErrorKind(current)) ??
      at('Redis', redisErrorKind(current)) ??
      at('PostgreSQL', pgErrorKind(current));
    if (found) return found;
    const next = current as { cause?: unknown; originalError?: unknown };
    current = next.cause ?? next.originalError;
  }
  return { kind: 'bug' };
}

export function errorKind(err: unknown): ErrorKind {
  return classifyError(err).kind;
}

/** Which service an error says is unavailable, or undefined when it is about something else. */
export function unavailableService(err: unknown): Service | undefined {
  const { kind, service } = classifyError(err);
  return kind === 'unavailable' ? service : undefined;
}

function at(service: Service, kind: ErrorKind | undefined): Classification | undefined {
  return kind === undefined ? undefined : { kind, service };
}
