import { backoffDelay, type BackoffOptions } from './backoff.js';
import { sleep } from './sleep.js';

export interface RetryOptions {
  /** Attempts in all, the first included (Infinity: until the deadline or the signal). */
  attempts: number;
  /** Exponential backoff with jitter between attempts (lib/backoff.ts). */
  backoff: BackoffOptions;
  /** Whether a failure is worth another attempt (usually from its kind: lib/error-kind.ts). */
  retryIf: (err: unknown) => boolean;
  /** Ends a wait at once; the last error is thrown. */
  signal?: AbortSignal;
  /** No wait runs past this time (Date.now() ms): the last attempt starts at it at the latest. */
  deadline?: number;
  /** Before each wait. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/**
 * The one retry helper: runs `fn` until it succeeds, a failure is not worth retrying, the attempts
 * or the deadline run out, or the signal aborts; then throws the last error. Not cockatiel's retry
 * policy (which the gateway client composes with its breaker): that one waits out its whole delay
 * even when the signal aborts (cockatiel 3.2 RetryPolicy.execute awaits a plain setTimeout), and a
 * stopping process must not wait for a backoff of minutes.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { attempts, backoff, retryIf, signal, deadline, onRetry } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= attempts || signal?.aborted || !retryIf(err)) throw err;
      let delayMs = backoffDelay(attempt, backoff);
      if (deadline !== undefined) {
        const left = deadline - Date.now();
        if (left <= 0) throw err;
        delayMs = Math.min(delayMs, left);
      }
      onRetry?.(err, attempt, delayMs);
      if (!(await sleep(delayMs, signal))) throw err;
    }
  }
}
