import { errorKind } from '../../lib/error-kind.js';

/**
 * What a failed send means for the rows in it:
 * - 'unavailable': the cluster cannot take writes right now (broker down, no leader, timeouts). The
 *   rows are not at fault: release them WITHOUT using an attempt and pause publishing.
 * - 'rejected': the broker refused this message (too large, invalid, unauthorised, unknown topic...).
 *   The row uses an attempt and is retried with backoff, then FAILED.
 */
export type SendFailure = 'unavailable' | 'rejected';

/** The one vocabulary (lib/error-kind.ts): an outage pauses the relay; anything else costs the row an attempt. */
export function classifySendError(err: unknown): SendFailure {
  return errorKind(err) === 'unavailable' ? 'unavailable' : 'rejected';
}

export function describeSendError(err: unknown): string {
  const e = err as { name?: string; type?: string; message?: string; cause?: unknown };
  const own = [e.type ?? e.name, e.message].filter(Boolean).join(': ');
  const cause = e.cause as { message?: string; type?: string } | undefined;
  const inner =
    cause && cause.message && cause.message !== e.message ? ` (${cause.type ?? cause.message})` : '';
  return (own || String(err)).slice(0, 1_000) + inner;
}
