import { KindError } from '../../../lib/errors.js';
import { fetchFailure, statusKind } from '../../../lib/fetch-errors.js';

/**
 * The webhook receiver's answers in the one vocabulary (lib/errors.ts): what one attempt means for
 * the event. `ok`: delivered. `unavailable` (5xx, 408, 429, timeouts, connection failures): retried,
 * the receiver may recover and giving up would drop the event. `rejected` (any other status, 3xx
 * included since redirects are not followed): the receiver refuses this event, a dead letter;
 * retrying would stall every later event of its aggregate.
 */
export const attemptKind: (status: number) => 'ok' | 'unavailable' | 'rejected' = statusKind;

/**
 * Why a failed request may be retried (the transport code, or 'timeout'), or undefined when it is not
 * a transport failure (a bug: rethrown). lib/fetch-errors.ts reads undici's codes.
 */
export function unreachableReason(err: unknown): string | undefined {
  const failure = fetchFailure(err);
  return failure?.kind === 'unavailable' ? failure.reason : undefined;
}

/**
 * The receiver kept failing an event for longer than `pauseAfterMs`: delivery gives up for now (the
 * collector pauses the partition and fetches the events again later); nothing was dropped.
 */
export class ReceiverDownError extends KindError {
  constructor(reason: string, failingMs: number) {
    super(
      'unavailable',
      'webhook receiver',
      `webhook receiver failing for ${Math.round(failingMs / 1000)}s: ${reason}`,
    );
  }
}

/** A Retry-After header (seconds or an HTTP date) in ms from `now`, or undefined. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
