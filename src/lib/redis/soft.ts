import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';

/** How long a cache call may take before the caller gives up on it and reads PostgreSQL. */
export const SOFT_TIMEOUT_MS = 250;

const DISCONNECTED = new Set(['close', 'reconnecting', 'end']);

/**
 * Runs a Redis call that is allowed to fail: an error or a hung Redis (no answer within the timeout)
 * gives `undefined` instead of an exception, so a cache or ranking lookup never fails a request or
 * stalls it for long. While the client knows the connection is lost (reconnecting), calls are skipped
 * outright rather than queued, so a Redis outage costs requests nothing. Failures are logged at debug
 * level (the client logs the connection loss once).
 */
export async function soft<T>(
  redis: Redis,
  op: () => Promise<T>,
  logger?: Logger,
  timeoutMs = SOFT_TIMEOUT_MS,
): Promise<T | undefined> {
  if (DISCONNECTED.has(redis.status)) return undefined;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  try {
    return await Promise.race([op(), timeout]);
  } catch (err) {
    logger?.debug({ err: (err as Error).message }, 'Redis call failed; falling back');
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}
