import type { RetryOptions } from 'kafkajs';

/**
 * How long one Kafka send of the relay may take at worst, derived from the lease so a send can never
 * outlive the lease renewed just before it (else another relay could publish the same aggregate's
 * later rows first, and our late send would append older versions after newer ones).
 *
 * The model, for kafkajs configured with these values on the relay's own client AND producer:
 *   attempts = retries + 1; each attempt <= connectionTimeout (a reconnect) + requestTimeout;
 *   each wait between attempts <= maxRetryTime (kafkajs caps its jittered backoff there).
 *   worstCaseMs = attempts * (connectionTimeout + requestTimeout) + retries * maxRetryTime <= 3/4 lease.
 * The last quarter is margin for the renewal's round trip (lease times are the database's clock, so
 * there is no drift between relays to allow for; marking happens after the send and is fenced).
 * One retry only (kafkajs requires at least one for an idempotent producer): a second failure is an
 * outage the relay handles itself (release, back off, claim again in order), and each attempt keeps
 * a generous share of the budget so a loaded machine does not turn slow requests into outages.
 * Once kafkajs gives up, the relay treats the failure as an outage: it releases the rows and backs off.
 */
export interface SendBudget {
  requestTimeout: number;
  connectionTimeout: number;
  retry: Required<Pick<RetryOptions, 'retries' | 'initialRetryTime' | 'maxRetryTime'>>;
  worstCaseMs: number;
}

const RETRIES = 1;
/** kafkajs's own default; a longer lease does not need longer requests. */
const MAX_REQUEST_TIMEOUT_MS = 30_000;
const MAX_CONNECTION_TIMEOUT_MS = 3_000;

export function sendBudget(leaseMs: number): SendBudget {
  const budget = Math.floor((leaseMs * 3) / 4);
  const attempts = RETRIES + 1;
  const maxRetryTime = Math.min(1_000, Math.floor(budget / 20));
  // 0.45 of the budget per attempt at most (2 attempts + 1 wait of 0.05 = 0.95): 2/3 request, 1/3 connect.
  const requestTimeout = Math.min(MAX_REQUEST_TIMEOUT_MS, Math.floor(budget * 0.3));
  const connectionTimeout = Math.min(MAX_CONNECTION_TIMEOUT_MS, Math.floor(budget * 0.15));
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

/** The shortest lease accepted: its send budget gives each request 450 ms, enough for a loaded broker. */
export const MIN_LEASE_MS = 2_000;
