import type pg from 'pg';
import { one } from '../../lib/db/query.js';
import { batchJob } from '../../lib/jobs/registry.js';
import { age, fail, ok, type CheckResult } from './check.js';
import { selectUnsettledPayments } from '../../domain/payments/sql.js';

/**
 * The recovery period: a payment is settled by the gateway's callback within seconds, or by
 * `payments recover` (its CronJob) within the time its staleness alert allows (two runs and more).
 */
export const RECOVERY_PERIOD_SECONDS = batchJob('payments-recover').stale.afterSeconds;

export async function paymentsChecks(pool: pg.Pool): Promise<CheckResult[]> {
  const p = (await one<{ oldest_age: number; overdue: number }>(
    pool,
    selectUnsettledPayments(RECOVERY_PERIOD_SECONDS),
  ))!;
  if (p.overdue === 0)
    return [ok('payments', 'unsettled payments', `none older than ${age(RECOVERY_PERIOD_SECONDS)}`)];
  return [
    fail(
      'payments',
      'unsettled payments',
      `${p.overdue} payment(s) still REQUESTED/PENDING after the recovery period (${age(RECOVERY_PERIOD_SECONDS)}), the oldest ${age(p.oldest_age)} old`,
      'commerce payments recover (is its CronJob running? is the gateway reachable?); commerce payments status',
    ),
  ];
}
