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
export function soft<T>(
  redis: Redis,
  op: () => Promise<T>,
  logger?: Logger,
  timeoutMs = SOFT_TIMEOUT_MS,
): Promise<T | undefined> {
  if (DISCONNECTED.has(redis.status)) return Promise.resolve(undefined);
  return new Promise<T | undefined>((resolve) => {
    const call: Pending = { deadline: performance.now() + timeoutMs, resolve };
    watch(call);
    const fail = (err: unknown) => {
      if (!pending.delete(call)) return;
      logger?.debug({ err: (err as Error).message }, 'Redis call failed; falling back');
      resolve(undefined);
    };
    try {
      op().then((value) => pending.delete(call) && resolve(value), fail);
    } catch (err) {
      fail(err);
    }
  });
}

/**
 * Timeouts share one timer instead of arming and clearing a timer per call (the common case is a
 * healthy Redis answering in well under a millisecond). The timer runs only while calls are pending;
 * a call gives up at the first tick past its deadline, at most TICK_MS late.
 */
interface Pending {
  deadline: number;
  resolve: (value: undefined) => void;
}

const TICK_MS = 25;
const pending = new Set<Pending>();
let ticker: NodeJS.Timeout | undefined;

function watch(call: Pending): void {
  pending.add(call);
  if (!ticker) {
    ticker = setInterval(sweep, TICK_MS);
    ticker.unref();
  }
}

function sweep(): void {
  const now = performance.now();
  for (const call of pending) {
    if (call.deadline > now) continue;
    pending.delete(call);
    call.resolve(undefined);
  }
  if (pending.size === 0) {
    clearInterval(ticker);
    ticker = undefined;
  }
}
