import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { BreakerState } from './types.js';

export type GatewayOperation = 'pay' | 'refund' | 'lookup';
export type GatewayOutcome = 'ok' | 'timeout' | 'error' | 'rejected' | 'breaker_open';

export interface GatewayMetrics {
  duration: Histogram<'operation' | 'outcome'>;
  requests: Counter<'operation' | 'outcome'>;
  breakerState: Gauge;
}

/** 0 closed, 1 open, 2 half-open: one series, so an alert is `commerce_gateway_breaker_state == 1`. */
export const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, open: 1, 'half-open': 2 };

/** Gateway calls as the caller saw them (retries included in one call), and the breaker's state. */
export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  const registers = [registry];
  return {
    duration: new Histogram({
      name: 'commerce_gateway_request_duration_seconds',
      help: 'Duration of one gateway call, its retries and backoff included.',
      labelNames: ['operation', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    requests: new Counter({
      name: 'commerce_gateway_requests_total',
      help: 'Gateway calls by operation and outcome (ok, timeout, error, rejected, breaker_open).',
      labelNames: ['operation', 'outcome'],
      registers,
    }),
    breakerState: new Gauge({
      name: 'commerce_gateway_breaker_state',
      help: 'Circuit breaker around the payment gateway: 0 closed, 1 open, 2 half-open.',
      registers,
    }),
  };
}
