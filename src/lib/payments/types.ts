/** The payment gateway boundary as the API and the recovery job see it (the simulator speaks the same). */
export type GatewayStatus = 'PENDING' | 'SUCCESS' | 'FAILED' | 'REFUNDED';

export interface GatewayTransaction {
  transactionKey: string;
  paymentId: string;
  orderId: number;
  amount: number;
  status: GatewayStatus;
  reason?: string;
  createdAt?: string;
  settledAt?: string;
}

/** The body the gateway POSTs to the callback URL once a payment is settled. */
export interface GatewayCallback {
  transactionKey: string;
  paymentId: string;
  orderId: number;
  amount: number;
  status: 'SUCCESS' | 'FAILED';
  reason?: string;
  settledAt: string;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * Why a call did not succeed: `breaker-open` (not sent: the breaker is open), `timeout` (no answer in
 * time, or the caller's signal aborted), `unavailable` (connection refused/reset, 5xx, 408, 429),
 * `rejected` (any other 4xx: the gateway answered and said no; never retried).
 */
export type GatewayFailureReason = 'breaker-open' | 'timeout' | 'unavailable' | 'rejected';

export type GatewayResult<T> =
  { ok: true; value: T } | { ok: false; reason: GatewayFailureReason; status?: number; message: string };

export interface GatewayClientOptions {
  /** Base URL of the gateway, e.g. http://127.0.0.1:8090. */
  url: string;
  /** Where the gateway POSTs the settlement callback of a payment. */
  callbackUrl: string;
  /** Per attempt. */
  timeoutMs: number;
  /** `attempts` in all (first try included); backoff between them grows from baseMs, capped at maxMs. */
  retry: { attempts: number; baseMs: number; maxMs: number };
  /** Opens after `failureThreshold` consecutive failed attempts (default 5); tries one call after halfOpenAfterMs. */
  breaker: { failureThreshold?: number; halfOpenAfterMs: number };
}
