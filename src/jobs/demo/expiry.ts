import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { AppConfig } from '../../lib/config/config.js';
import { one, rows } from '../../lib/db/query.js';
import type { Logger } from '../../lib/log.js';
import type { OrderItem } from '../../lib/events/index.js';
import { runOrdersExpire } from '../orders-expire/expire.js';
import type { Ledger } from './expected.js';
import { selectDemoLastDeadline, selectDemoOrders } from './sql.js';

/** The demo's payment window: short, so the orders its shoppers leave unpaid expire during the run. */
export const DEMO_PAYMENT_TTL_MS = 3_000;

/**
 * `orders expire` as the CronJob would run it, once this run's last unpaid order has reached its
 * deadline; the orders of this run it expired go into the ledger (their stock back, their sales
 * gone). Then the self-check of the window: no order of this run is left CREATED past its deadline,
 * each expired one has exactly one OrderExpired.
 */
export async function expireDemoOrders(
  deps: { pool: pg.Pool; redis: Redis; config: AppConfig; logger: Logger },
  ledger: Ledger,
  userPrefix: string,
  signal?: AbortSignal,
): Promise<{ expired: number; problems: string[] }> {
  const { wait_ms: waitMs } = (await one<{ wait_ms: number }>(
    deps.pool,
    selectDemoLastDeadline(userPrefix),
  ))!;
  await new Promise((r) => setTimeout(r, Math.min(waitMs, DEMO_PAYMENT_TTL_MS) + 100));
  await runOrdersExpire(deps, { batchSize: 100, limit: 1_000_000, dryRun: false, signal });
  const orders = await rows<{
    id: number;
    status: string;
    past_deadline: boolean;
    items: OrderItem[];
    expired_events: number;
  }>(deps.pool, selectDemoOrders(userPrefix));
  const problems: string[] = [];
  let expired = 0;
  for (const o of orders) {
    if (o.status === 'EXPIRED') {
      expired++;
      ledger.expired(o.items);
    }
    if (o.expired_events !== (o.status === 'EXPIRED' ? 1 : 0))
      problems.push(`order ${o.id} (${o.status}) has ${o.expired_events} OrderExpired events`);
    if (o.status === 'CREATED' && o.past_deadline)
      problems.push(`order ${o.id} is still CREATED past its payment window`);
  }
  return { expired, problems };
}
