import autocannon from 'autocannon';
import { createBenchContext } from '../lib/context.js';
import { firstJsonLine, spawnTs, stopChild } from '../lib/child.js';
import { seedProducts } from '../lib/seed.js';
import { pgbench, PgbenchScript, recordingPool } from '../lib/pgbench.js';
import { backendCpuDuring, cpuSeconds } from '../lib/cpu.js';
import { figure, target, type StageOptions, type StageResult } from '../lib/measure.js';
import type { Sql } from '../../src/lib/db/query.js';
import { createLogger } from '../../src/lib/log.js';
import { createOrder } from '../../src/domain/orders/create.js';

const PRODUCTS = 1_000;
const CONNECTIONS = 20;

/**
 * Order creation: `POST /orders` (autocannon, 20 connections, one random product of 1,000 each)
 * against PostgreSQL doing the same work: pgbench -M prepared at 20 clients running the statements
 * of the order transaction itself, recorded from a real createOrder on the same database (same
 * text, same parameter values except the random product and what earlier statements returned).
 */
export async function ordersStage({ quick, log }: StageOptions): Promise<StageResult> {
  const duration = quick ? 3 : 10;
  const ctx = await createBenchContext();
  const api = spawnTs('./serve.ts', ['api'], ctx.env);
  try {
    await seedProducts(ctx.pool, PRODUCTS);
    const { url } = await firstJsonLine<{ url: string }>(api);

    const seen: Sql[] = [];
    const deps = {
      config: ctx.config,
      pool: recordingPool(ctx.pool, seen),
      redis: ctx.redis,
      logger: createLogger('error', { pretty: false }),
    };
    await createOrder(deps, 'bench-user', [{ productId: 1, quantity: 1 }]);
    const script = orderScript(seen);

    const database = new URL(ctx.env.DATABASE_URL!).pathname.slice(1);
    log(`orders: POST /orders for ${duration}s`);
    const apiCpu = cpuSeconds(api.pid!);
    const { result: orders, seconds: ordersPgCpu } = await backendCpuDuring(ctx.pool, database, () =>
      autocannon({
        url: `${url}/api/v1/orders`,
        connections: CONNECTIONS,
        duration,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-user-id': 'bench-user' },
        requests: [
          {
            setupRequest: (req) => ({
              ...req,
              body: JSON.stringify({
                items: [{ productId: 1 + Math.floor(Math.random() * PRODUCTS), quantity: 1 }],
              }),
            }),
          },
        ],
      }),
    );
    const apiCpuPerOrder = (cpuSeconds(api.pid!) - apiCpu) / orders.requests.total;
    if (orders.errors > 0 || orders.non2xx > 0 || orders.timeouts > 0)
      throw new Error(
        `POST /orders: ${orders.errors} errors, ${orders.non2xx} non-2xx, ${orders.timeouts} timeouts`,
      );

    log(`orders: pgbench, the order transaction's ${seen.length} statements, for ${duration}s`);
    const { result: bare, seconds: barePgCpu } = await backendCpuDuring(ctx.pool, database, () =>
      pgbench(ctx.env.DATABASE_URL!, script, CONNECTIONS, duration),
    );
    if (bare.failed > 0) throw new Error(`pgbench: ${bare.failed} failed transactions`);

    const baseline = { name: 'pgbench, the same statements', value: bare.tps };
    const rate = figure('orders', 'order creation', orders.requests.average, 'orders/s', baseline);
    return {
      figures: [
        figure('orders', 'pgbench, the order transaction', bare.tps, `tx/s, ${bare.latencyMs} ms mean`),
        rate,
        figure(
          'orders',
          'order creation latency',
          orders.latency.p50,
          `ms p50, ${orders.latency.p99} ms p99`,
        ),
        figure('orders', 'statements per order', seen.length, 'round trips (BEGIN and COMMIT included)'),
        // CPU per order does not depend on what else runs on the machine, as rates do.
        figure('orders', 'order creation, API process CPU', apiCpuPerOrder * 1000, 'ms per order'),
        figure(
          'orders',
          'order creation, PostgreSQL CPU',
          (ordersPgCpu / orders.requests.total) * 1000,
          `ms per order (pgbench, same statements: ${((barePgCpu / bare.transactions) * 1000).toFixed(3)})`,
        ),
      ],
      targets: [target('orders', 'order creation / pgbench same statements >= 0.5', rate.ratio!, 'min', 0.5)],
    };
  } finally {
    await stopChild(api);
    await ctx.close();
  }
}

/**
 * The recorded transaction as a pgbench script. Each statement name says which of its parameters
 * vary per order; a statement this table does not know fails the stage (the transaction changed:
 * teach it here), so the baseline never drifts from what the API runs.
 */
function orderScript(seen: Sql[]): PgbenchScript {
  const script = new PgbenchScript().raw('\\set pid random(1, ' + PRODUCTS + ')');
  for (const q of seen) {
    switch (q.name) {
      case 'BEGIN':
      case 'COMMIT':
        script.raw(`${q.text};`);
        break;
      case 'orders.create-order-rows':
        script.statement(q, { 2: 'ARRAY[:pid]' }, 'ord_');
        break;
      case 'outbox.insert-events':
        script.statement(q, outboxArgs(q, { order: ':ord_order_id', productVersion: ':ord_version' }));
        break;
      default:
        throw new Error(`orders stage: the order transaction runs ${q.name}, unknown to its pgbench script`);
    }
  }
  return script;
}

/** Fresh event ids; the order's and the product's ids and versions from the statements before. */
function outboxArgs(q: Sql, vars: { order: string; productVersion: string }): Record<number, string> {
  const types = q.values[1] as string[];
  const versions = q.values[3] as number[];
  const ids = types.map((t) => (t === 'order' ? `${vars.order}::text` : ':pid::text'));
  return {
    1: `ARRAY[${types.map(() => 'gen_random_uuid()').join(', ')}]`,
    3: `ARRAY[${ids.join(', ')}]`,
    4: `ARRAY[${types.map((t, i) => (t === 'order' ? String(versions[i]) : vars.productVersion)).join(', ')}]`,
    7: `ARRAY[${ids.join(', ')}]`,
  };
}
