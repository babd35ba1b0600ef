import type { Logger } from '../log.js';

/** How long a cache call may take before the caller gives up on it and reads PostgreSQL. */
export const SOFT_TIMEOUT_MS = 250;

/**
 * Runs a Redis call that is allowed to fail: an error or a hung Redis (no answer within the timeout)
 * gives `undefined` instead of an exception, so a cache or ranking lookup never fails a request or
 * stalls it for long. Failures are logged at debug level (the client logs the connection loss once).
 */
export async function soft<T>(
  op: () => Promise<T>,
  logger?: Logger,
  timeoutMs = SOFT_TIMEOUT_MS,
): Promise<T | undefined> {
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
