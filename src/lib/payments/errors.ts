import type { GatewayFailureReason } from './types.js';

/**
 * One failed attempt. `retriable` failures (timeout, refused/reset connection, 5xx) are retried and
 * count toward the breaker; a 4xx is the gateway's answer: never retried, never a breaker failure.
 */
export class GatewayAttemptError extends Error {
  constructor(
    readonly reason: Exclude<GatewayFailureReason, 'breaker-open'>,
    message: string,
    readonly retriable: boolean,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GatewayAttemptError';
  }
}

/** The caller's signal aborted the call: not the gateway's fault, so neither retried nor a breaker failure. */
export class CallerAbortError extends Error {
  constructor() {
    super('aborted by the caller');
    this.name = 'CallerAbortError';
  }
}

export function isRetriable(err: unknown): boolean {
  return err instanceof GatewayAttemptError && err.retriable;
}

/** fetch's network failures carry the socket error as `cause` (ECONNREFUSED, ECONNRESET, ...). */
export function networkErrorMessage(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}
