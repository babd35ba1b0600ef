import { codeOf, type ErrorKind } from './errors.js';

/**
 * fetch (undici) and HTTP answers in the vocabulary (lib/errors.ts), shared by the two HTTP adapters:
 * the payment gateway (lib/payments) and webhook receivers (jobs/collector/webhook).
 */

/** An HTTP status: 2xx `ok`; 408, 429 and 5xx `unavailable` (the server may recover, or asks us to
 * slow down); any other status `rejected` (it refuses this request; redirects are not followed). */
export function statusKind(status: number): 'ok' | 'unavailable' | 'rejected' {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 408 || status === 429 || status >= 500) return 'unavailable';
  return 'rejected';
}

/**
 * A failed fetch: `unavailable` with the reason (the code) when the server could not be reached, else
 * undefined (not a transport failure: a bug, or the caller's own abort, which callers check first).
 * undici reports every transport failure as a TypeError whose `cause` carries the code: Node's socket
 * and DNS codes (ECONNREFUSED, ECONNRESET, ENOTFOUND...), its own UND_ERR_* (socket closed, connect
 * timeout, headers timeout), TLS codes. A Node ERR_* code there is a usage error of ours (ERR_INVALID_URL,
 * an invalid header), never an outage. A request aborted by its timer is a TimeoutError.
 */
export function fetchFailure(err: unknown): { kind: ErrorKind; reason: string } | undefined {
  if (!(err instanceof Error)) return undefined;
  if (err.name === 'TimeoutError') return { kind: 'unavailable', reason: 'timeout' };
  if (!(err instanceof TypeError) || err.cause === undefined) return undefined;
  const code = transportCode(err.cause);
  if (code !== undefined && /^ERR_/.test(code) && !/^ERR_(TLS|SSL)_/.test(code))
    return { kind: 'bug', reason: code };
  return { kind: 'unavailable', reason: code ?? describe(err.cause) ?? err.message };
}

function transportCode(cause: unknown): string | undefined {
  const code = codeOf(cause);
  if (code !== undefined) return code;
  // Several addresses tried (happy eyeballs): the first one's code.
  if (cause instanceof AggregateError) return codeOf(cause.errors[0]);
  return undefined;
}

function describe(cause: unknown): string | undefined {
  if (cause instanceof AggregateError) return describe(cause.errors[0]) ?? (cause.message || undefined);
  return cause instanceof Error ? cause.message || cause.name : undefined;
}
