import { errorMessage, KindError } from '../errors.js';
import { fetchFailure } from '../fetch-errors.js';
import type { GatewayFailureReason } from './types.js';

/**
 * One failed attempt, in the one vocabulary (lib/errors.ts): `unavailable` failures (timeout,
 * refused/reset connection, 5xx, 408/429) are retried and count toward the breaker; `rejected` (any
 * other 4xx) is the gateway's answer: never retried, never a breaker failure.
 */
export class GatewayAttemptError extends KindError {
  constructor(
    readonly reason: Exclude<GatewayFailureReason, 'breaker-open'>,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(reason === 'rejected' ? 'rejected' : 'unavailable', 'gateway', message, options);
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
  return err instanceof GatewayAttemptError && err.kind === 'unavailable';
}

/** fetch's transport failure by its code (ECONNREFUSED, UND_ERR_SOCKET...; lib/fetch-errors.ts). */
export function networkErrorMessage(err: unknown): string {
  return fetchFailure(err)?.reason ?? errorMessage(err);
}
