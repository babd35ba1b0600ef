import type { RetryOptions } from 'kafkajs';

/**
 * How long one Kafka send of the relay may take at worst, derived from the lease so a send can never
 * outlive the lease renewed just before it (else another relay could publish the same aggregate's
 * later rows first, and our late send would append older versions after newer ones).
 *
 * The model, for kafkajs configured with these values on the relay's own client AND producer:
 *   attempts = retries + 1; each attempt <= connectionTimeout (a reconnect) + requestTimeout;
 *   each wait between attempts <= maxRetryTime (kafkajs caps its jittered backoff there).
 *   worstCaseMs = attempts * (connectionTimeout + requestTimeout) + retries * maxRetryTime <= lease / 2.
 * The other half of the lease is margin for the renewal round trip, clock drift and marking.
 * Once kafkajs gives up, the relay treats the failure as an outage: it releases the rows and backs off.
 */
export interface SendBudget {
  requestTimeout: number;
  connectionTimeout: number;
  retry: Required<Pick<RetryOptions, 'retries' | 'initialRetryTime' | 'maxRetryTime'>>;
  worstCaseMs: number;
}

const RETRIES = 2;
/** kafkajs's own default; a longer lease does not need longer requests. */
const MAX_REQUEST_TIMEOUT_MS = 30_000;
const MAX_CONNECTION_TIMEOUT_MS = 3_000;
/** Below this a healthy acks=all produce could time out: the lease that yields it is the minimum. */
const MIN_REQUEST_TIMEOUT_MS = 200;

export function sendBudget(leaseMs: number): SendBudget {
  const budget = Math.floor(leaseMs / 2);
  const attempts = RETRIES + 1;
  const maxRetryTime = Math.min(1_000, Math.floor(budget / 20));
  // 0.3 of the budget per attempt at most (3 attempts + 2 waits of 0.05 = 1.0): 2/3 request, 1/3 connect.
  const requestTimeout = Math.min(MAX_REQUEST_TIMEOUT_MS, Math.floor(budget / 5));
  const connectionTimeout = Math.min(MAX_CONNECTION_TIMEOUT_MS, Math.floor(budget / 10));
  return {
    requestTimeout,
    connectionTimeout,
    // kafkajs does not cap its first wait (up to 1.2 x initialRetryTime) at maxRetryTime: keep it under.
    retry: {
      retries: RETRIES,
      initialRetryTime: Math.min(100, Math.floor(maxRetryTime / 1.25)),
      maxRetryTime,
    },
    worstCaseMs: attempts * (connectionTimeout + requestTimeout) + RETRIES * maxRetryTime,
  };
}

/** The shortest lease whose send budget still gives each request MIN_REQUEST_TIMEOUT_MS. */
export const MIN_LEASE_MS = MIN_REQUEST_TIMEOUT_MS * 5 * 2;
