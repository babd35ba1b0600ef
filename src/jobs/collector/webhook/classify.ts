/**
 * What one webhook attempt means for the event. Retried: 5xx, 408, 429, timeouts and connection
 * failures (the receiver may recover; giving up would drop the event). Rejected at once: any other
 * non-2xx status (the receiver refuses this event; retrying would stall every later event of its
 * aggregate), including 3xx, since redirects are not followed.
 */
export type StatusClass = 'delivered' | 'retry' | 'reject';

export function classifyStatus(status: number): StatusClass {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'reject';
}

/**
 * Why a failed fetch may be retried (the error code), or undefined when the error is not a network
 * failure (a bug: rethrown). fetch reports every transport failure (refused, reset, DNS, TLS, socket
 * closed mid-response) as a TypeError whose cause carries the code; our own timeout is a TimeoutError.
 */
export function retriableErrorReason(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  if (err.name === 'TimeoutError') return 'timeout';
  if (err instanceof TypeError && err.cause !== undefined) return codeOf(err.cause) ?? err.message;
  return undefined;
}

function codeOf(cause: unknown): string | undefined {
  if (!(cause instanceof Error)) return undefined;
  const code = (cause as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // Several addresses tried (happy eyeballs): the first one's code.
  if (cause instanceof AggregateError) return codeOf(cause.errors[0]) ?? cause.message;
  return cause.message || cause.name;
}

/** A Retry-After header (seconds or an HTTP date) in ms from `now`, or undefined. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
