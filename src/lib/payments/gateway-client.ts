import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  IsolatedCircuitError,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  retry,
  timeout,
  type CircuitBreakerPolicy,
  type RetryPolicy,
  type TimeoutPolicy,
} from 'cockatiel';
import type { Logger } from '../log.js';
import { CallerAbortError, GatewayAttemptError, isRetriable, networkErrorMessage } from './errors.js';
import {
  BREAKER_STATE_VALUE,
  type GatewayMetrics,
  type GatewayOperation,
  type GatewayOutcome,
} from './metrics.js';
import { statusKind } from '../fetch-errors.js';
import { isTransaction } from './parse.js';
import type {
  BreakerState,
  GatewayClientOptions,
  GatewayFailureReason,
  GatewayResult,
  GatewayTransaction,
} from './types.js';

export type { BreakerState, GatewayClientOptions, GatewayResult, GatewayTransaction } from './types.js';

const DEFAULT_FAILURE_THRESHOLD = 5;

interface Request {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  /** Status codes that are an answer, not a failure (404 of a lookup: "no such transaction"). */
  accept?: number[];
}

/**
 * The one way to talk to the payment gateway. Each attempt has a timeout (cockatiel, aggressive: the
 * request is aborted); timeouts, refused/reset connections and 5xx are retried with exponential backoff
 * (decorrelated jitter) up to `retry.attempts` in all; a circuit breaker counts consecutive failed
 * attempts and, once open, answers 'breaker-open' at once without a request until halfOpenAfterMs has
 * passed, then lets one call through (half-open) that closes it or opens it again.
 *
 * Every method resolves, never rejects, whatever the gateway does. One call takes at most
 * attempts * (timeoutMs + retry.maxMs); the caller's signal ends it sooner (reason 'timeout').
 * Retrying a payment or a refund is safe because the gateway is idempotent on paymentId.
 */
export class GatewayClient {
  private readonly base: string;
  private readonly retry: RetryPolicy;
  private readonly breaker: CircuitBreakerPolicy;
  private readonly timeout: TimeoutPolicy;

  constructor(
    private readonly options: GatewayClientOptions,
    private readonly logger: Logger,
    private readonly metrics?: GatewayMetrics,
  ) {
    this.base = options.url.replace(/\/+$/, '');
    const retriable = handleWhen(isRetriable);
    this.timeout = timeout(options.timeoutMs, TimeoutStrategy.Aggressive);
    this.breaker = circuitBreaker(retriable, {
      halfOpenAfter: options.breaker.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(options.breaker.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD),
    });
    this.retry = retry(retriable, {
      maxAttempts: Math.max(0, options.retry.attempts - 1),
      backoff: new ExponentialBackoff({ initialDelay: options.retry.baseMs, maxDelay: options.retry.maxMs }),
    });
    this.retry.onRetry((event) => {
      const err = 'error' in event ? (event.error as Error).message : 'unexpected result';
      this.logger.debug({ attempt: event.attempt, delayMs: event.delay, err }, 'gateway: retrying');
    });
    this.breaker.onStateChange(() => {
      const state = this.breakerState;
      this.metrics?.breakerState.set(BREAKER_STATE_VALUE[state]);
      const log = state === 'open' ? this.logger.warn : this.logger.info;
      log.call(this.logger, { breaker: state }, `gateway circuit breaker ${state}`);
    });
    this.metrics?.breakerState.set(BREAKER_STATE_VALUE.closed);
  }

  /**
   * The breaker's state as of its last call: an open breaker stays 'open' after halfOpenAfterMs until a
   * call arrives to test the gateway ('half-open' while that call runs).
   */
  get breakerState(): BreakerState {
    switch (this.breaker.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.HalfOpen:
        return 'half-open';
      default:
        return 'open';
    }
  }

  /** Asks the gateway to charge; idempotent on paymentId (a retry returns the same transaction). */
  requestPayment(
    p: { paymentId: string; orderId: number; amount: number },
    signal?: AbortSignal,
  ): Promise<GatewayResult<GatewayTransaction>> {
    const body = { ...p, callbackUrl: this.options.callbackUrl };
    return this.call('pay', { method: 'POST', path: '/payments', body }, signal, asTransaction);
  }

  /** Refunds a SUCCESS payment in full; idempotent on paymentId. 409 (not SUCCESS) is 'rejected'. */
  refund(
    p: { paymentId: string; amount: number },
    signal?: AbortSignal,
  ): Promise<GatewayResult<GatewayTransaction>> {
    return this.call('refund', { method: 'POST', path: '/refunds', body: p }, signal, asTransaction);
  }

  /** The gateway's truth for one transaction; `null` when the gateway does not know the key. */
  findByTransactionKey(key: string, signal?: AbortSignal): Promise<GatewayResult<GatewayTransaction | null>> {
    const request: Request = { method: 'GET', path: `/payments/${encodeURIComponent(key)}`, accept: [404] };
    return this.call('lookup', request, signal, (status, json) =>
      status === 404 ? null : asTransaction(status, json),
    );
  }

  /** The transactions of one payment id (at most one: the gateway is idempotent on it). */
  findByPayment(paymentId: string, signal?: AbortSignal): Promise<GatewayResult<GatewayTransaction[]>> {
    const path = `/payments?paymentId=${encodeURIComponent(paymentId)}`;
    return this.call('lookup', { method: 'GET', path }, signal, asItems);
  }

  /** The transactions of one order (one per payment id the API sent for it). */
  findByOrder(orderId: number, signal?: AbortSignal): Promise<GatewayResult<GatewayTransaction[]>> {
    return this.call('lookup', { method: 'GET', path: `/payments?orderId=${orderId}` }, signal, asItems);
  }

  private async call<T>(
    operation: GatewayOperation,
    request: Request,
    signal: AbortSignal | undefined,
    parse: (status: number, json: unknown) => T,
  ): Promise<GatewayResult<T>> {
    const started = performance.now();
    let result: GatewayResult<T>;
    try {
      // A signal of its own per call: cockatiel's shared default signal would collect a listener per
      // concurrent call (MaxListenersExceededWarning).
      const run = this.retry.execute(
        ({ signal: retrySignal }) =>
          this.breaker.execute(({ signal: outer }) => this.attempt(request, outer, parse), retrySignal),
        signal ?? new AbortController().signal,
      );
      result = { ok: true, value: await untilAborted(run, signal) };
    } catch (err) {
      result = this.failure(err);
    }
    this.record(operation, result, started);
    return result;
  }

  /** One attempt under the per-attempt timeout; every failure becomes a GatewayAttemptError or a caller abort. */
  private async attempt<T>(
    request: Request,
    outer: AbortSignal,
    parse: (status: number, json: unknown) => T,
  ): Promise<T> {
    try {
      return await this.timeout.execute(({ signal }) => this.send(request, signal, parse), outer);
    } catch (err) {
      if (outer.aborted) throw new CallerAbortError();
      if (err instanceof GatewayAttemptError) throw err;
      if (err instanceof TaskCancelledError) {
        throw new GatewayAttemptError('timeout', `no answer within ${this.options.timeoutMs}ms`);
      }
      // A transport failure (lib/fetch-errors.ts), or a bug of ours before the request left (an
      // invalid URL): either way the gateway did not answer, and the API never 5xxs for the gateway.
      throw new GatewayAttemptError(
        'unavailable',
        `gateway unreachable: ${networkErrorMessage(err)}`,
        undefined,
        {
          cause: err,
        },
      );
    }
  }

  private async send<T>(
    request: Request,
    signal: AbortSignal,
    parse: (status: number, json: unknown) => T,
  ): Promise<T> {
    const response = await fetch(this.base + request.path, {
      method: request.method,
      headers: request.body === undefined ? {} : { 'content-type': 'application/json' },
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      signal,
    });
    const text = await response.text();
    const { status } = response;
    const kind = request.accept?.includes(status) ? 'ok' : statusKind(status);
    if (kind === 'unavailable')
      throw new GatewayAttemptError('unavailable', `gateway answered ${status}`, status);
    if (kind === 'rejected') {
      const detail = status >= 400 ? `: ${errorText(text)}` : '';
      throw new GatewayAttemptError('rejected', `gateway answered ${status}${detail}`, status);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new GatewayAttemptError(
        'unavailable',
        `gateway answered ${status} with a body that is not JSON`,
        status,
      );
    }
    return parse(status, json);
  }

  private failure(err: unknown): {
    ok: false;
    reason: GatewayFailureReason;
    status?: number;
    message: string;
  } {
    if (err instanceof GatewayAttemptError)
      return { ok: false, reason: err.reason, status: err.status, message: err.message };
    if (err instanceof BrokenCircuitError || err instanceof IsolatedCircuitError) {
      return { ok: false, reason: 'breaker-open', message: 'circuit breaker open: gateway not called' };
    }
    if (err instanceof CallerAbortError || err instanceof TaskCancelledError) {
      return { ok: false, reason: 'timeout', message: 'aborted by the caller' };
    }
    // Not the gateway's doing: a bug here. Logged in full, still answered as a failure, never thrown.
    this.logger.error({ err }, 'gateway client: unexpected error');
    return { ok: false, reason: 'unavailable', message: (err as Error)?.message ?? String(err) };
  }

  private record(operation: GatewayOperation, result: GatewayResult<unknown>, started: number): void {
    if (!this.metrics) return;
    const outcome: GatewayOutcome = result.ok ? 'ok' : OUTCOME[result.reason];
    this.metrics.requests.inc({ operation, outcome });
    this.metrics.duration.observe({ operation, outcome }, (performance.now() - started) / 1000);
  }
}

const OUTCOME: Record<GatewayFailureReason, GatewayOutcome> = {
  timeout: 'timeout',
  unavailable: 'error',
  rejected: 'rejected',
  'breaker-open': 'breaker_open',
};

function asTransaction(status: number, json: unknown): GatewayTransaction {
  if (!isTransaction(json)) {
    throw new GatewayAttemptError('unavailable', `gateway answered ${status} without a transaction`, status);
  }
  return json;
}

function asItems(status: number, json: unknown): GatewayTransaction[] {
  const items = (json as { items?: unknown })?.items;
  if (!Array.isArray(items) || !items.every(isTransaction)) {
    throw new GatewayAttemptError(
      'unavailable',
      `gateway answered ${status} without a list of transactions`,
      status,
    );
  }
  return items;
}

function errorText(text: string): string {
  try {
    const error = (JSON.parse(text) as { error?: unknown }).error;
    if (typeof error === 'string') return error;
  } catch {
    // not JSON: show the start of the text
  }
  return text.slice(0, 200);
}

/** The caller's abort ends the call at once, even during a backoff delay (which cockatiel does not abort). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(new CallerAbortError());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new CallerAbortError());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
