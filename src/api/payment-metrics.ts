import type pg from 'pg';
import { Gauge, type Registry } from 'prom-client';
import { paymentCounts } from '../domain/payments/status.js';

/**
 * `commerce_payments{status}`: payments by status, counted by PostgreSQL at scrape time (one
 * GROUP BY over a small table). An unreachable database keeps the last values rather than failing
 * the whole scrape.
 */
export function installPaymentMetrics(registry: Registry, pool: pg.Pool): void {
  new Gauge({
    name: 'commerce_payments',
    help: 'Payments by status (REQUESTED, PENDING, SUCCEEDED, FAILED, REFUND_REQUESTED, REFUNDED).',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      try {
        for (const [status, n] of Object.entries(await paymentCounts(pool))) this.set({ status }, n);
      } catch {
        // keep the previous values: the pool's own metrics and /readyz report the database
      }
    },
  });
}
