import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { AppConfig } from '../../lib/config/config.js';
import { rows } from '../../lib/db/query.js';
import type { Logger } from '../../lib/log.js';
import { GatewayClient } from '../../lib/payments/gateway-client.js';
import { GatewaySimulator } from '../../gateway/server.js';
import { recoverClientOptions, recoverPayments } from '../payments-recover/recover.js';
import { selectDemoPayments } from './sql.js';

/**
 * The demo's payment gateway: a simulator on a free port that fails 20% of payment requests (500,
 * hang, reset) and loses 20% of its callbacks, so the demo shows the breaker, the timeouts and
 * `payments recover` at work. It runs in the demo's process (its own HTTP server: the API reaches
 * it over TCP like any gateway), so the self-check can read its truth directly.
 */
export const DEMO_GATEWAY = {
  failureRate: 0.2,
  callbackLossRate: 0.2,
  callbackDuplicateRate: 0.1,
  successRate: 0.8,
  latency: { minMs: 5, maxMs: 30 },
  settleDelay: { minMs: 100, maxMs: 500 },
  timeoutMs: 300,
};

export interface DemoGateway {
  simulator: GatewaySimulator;
  /** The configuration the demo's pipeline uses: this simulator, its secret, a short timeout. */
  config: AppConfig;
  close(): Promise<void>;
}

export async function startDemoGateway(config: AppConfig, logger: Logger): Promise<DemoGateway> {
  const secret = randomBytes(16).toString('hex');
  const quiet = logger.child({}, { level: 'error' });
  const simulator = new GatewaySimulator({ ...DEMO_GATEWAY, seed: undefined, secret }, quiet);
  const url = await simulator.listen('127.0.0.1', 0);
  return {
    simulator,
    // callbackUrl unset: the API's listen() points callbacks at its own (random) port.
    config: {
      ...config,
      gateway: { ...config.gateway, url, secret, timeoutMs: DEMO_GATEWAY.timeoutMs, callbackUrl: undefined },
    },
    close: () => simulator.close(),
  };
}

export interface PaymentFigures {
  payments: number;
  succeeded: number;
  failed: number;
  refunded: number;
  /** Payments `payments recover` settled or resent (their callback was lost or their request failed). */
  recovered: number;
  recoverRuns: number;
  failuresInjected: number;
  callbacksLost: number;
}

/**
 * `payments recover` as the CronJob would run it, until nothing of this run is left unsettled (each
 * round after the simulator's settle delay, so resent payments have settled; at most 5 rounds).
 * `now`: the first round at once (a payment the gateway never got is sent without waiting).
 */
export async function recoverDemoPayments(
  deps: { pool: pg.Pool; config: AppConfig; logger: Logger },
  apiUrl: string,
  signal?: AbortSignal,
  now = false,
): Promise<{ recovered: number; runs: number }> {
  const options = recoverClientOptions(deps.config, `${apiUrl}/api/v1/payments/callback`);
  const gateway = new GatewayClient(options, deps.logger);
  const quiet = deps.logger.child({}, { level: 'error' });
  let recovered = 0;
  let runs = 0;
  for (; runs < 5 && !signal?.aborted;) {
    if (runs > 0 || !now) await new Promise((r) => setTimeout(r, DEMO_GATEWAY.settleDelay.maxMs + 200));
    const result = await recoverPayments(
      { ...deps, logger: quiet, gateway },
      { olderThanMs: 1, limit: 100_000, signal },
    );
    runs++;
    const c = result.counts;
    recovered += c.succeeded + c.failed + c.refunded + c.resent;
    if (result.examined === 0) break;
  }
  return { recovered, runs };
}

/**
 * The payments of this run against the simulator's truth: every transaction it settled is settled the
 * same way in PostgreSQL (SUCCESS = SUCCEEDED or refunded since, FAILED = FAILED), nothing is left
 * unsettled, no payment key was charged twice, no order has two successful payments, and an order
 * with a successful payment has exactly one OrderPaid (none when it is EXPIRED: a late charge).
 */
export async function checkDemoPayments(
  pool: pg.Pool,
  simulator: GatewaySimulator,
  userPrefix: string,
): Promise<{ figures: Omit<PaymentFigures, 'recovered' | 'recoverRuns'>; problems: string[] }> {
  const payments = await rows<{
    id: number;
    order_id: number;
    status: string;
    payment_key: string;
    order_status: string;
    order_paid_events: number;
  }>(pool, selectDemoPayments(userPrefix));
  const problems: string[] = [];
  const stats = simulator.state.snapshot();
  const successes = new Map<number, number>();
  for (const p of payments) {
    const truth = simulator.state.byPayment.get(p.payment_key);
    const charges = stats.charges[p.payment_key] ?? 0;
    if (charges > 1) problems.push(`payment ${p.id}: charged ${charges} times`);
    const settled = ['SUCCEEDED', 'FAILED', 'REFUNDED', 'REFUND_REQUESTED'].includes(p.status);
    if (!settled) problems.push(`payment ${p.id} (order ${p.order_id}) is still ${p.status}`);
    if (!truth) {
      // Never reached the gateway: must not be settled as anything but a refusal.
      if (p.status !== 'FAILED' && settled)
        problems.push(`payment ${p.id} is ${p.status} but the gateway never saw it`);
      continue;
    }
    const ours = p.status === 'FAILED' ? 'FAILED' : settled ? 'SUCCESS' : 'PENDING';
    const theirs = truth.status === 'REFUNDED' ? 'SUCCESS' : truth.status;
    if (theirs !== 'PENDING' && ours !== theirs)
      problems.push(`payment ${p.id}: gateway says ${truth.status}, PostgreSQL says ${p.status}`);
    // Money where the order's state says: an expired or cancelled order keeps no charge.
    if (p.status === 'SUCCEEDED' && p.order_status !== 'PAID')
      problems.push(`payment ${p.id}: charged, not refunded, but order ${p.order_id} is ${p.order_status}`);
    if (ours === 'SUCCESS') {
      successes.set(p.order_id, (successes.get(p.order_id) ?? 0) + 1);
      // An EXPIRED order was never PAID (expiry leaves CREATED only): a charge on it is a late one.
      const paidEvents = p.order_status === 'EXPIRED' ? 0 : 1;
      if (p.order_paid_events !== paidEvents)
        problems.push(
          `order ${p.order_id} (${p.order_status}): ${p.order_paid_events} OrderPaid events for one successful payment`,
        );
    }
  }
  for (const [orderId, n] of successes) if (n > 1) problems.push(`order ${orderId} was charged ${n} times`);
  const count = (s: string) => payments.filter((p) => p.status === s).length;
  return {
    figures: {
      payments: payments.length,
      succeeded: count('SUCCEEDED'),
      failed: count('FAILED'),
      refunded: count('REFUNDED'),
      failuresInjected: stats.failuresInjected,
      callbacksLost: stats.callbacks.lost,
    },
    problems,
  };
}
