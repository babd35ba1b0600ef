import { createLogger } from '../../src/lib/log.js';
import { buildApp, listen } from '../../src/api/http/app.js';
import { startRelay } from '../../src/jobs/relay/relay.js';
import { parseRelayOptions } from '../../src/jobs/relay/options.js';
import { startCollector } from '../../src/jobs/collector/collector.js';
import { one } from '../../src/lib/db/query.js';
import { sql } from '../../src/lib/db/query.js';
import { createBenchContext } from '../lib/context.js';
import { seedProducts } from '../lib/seed.js';
import { figure, target, waitFor, type StageOptions, type StageResult } from '../lib/measure.js';

const PRODUCTS = 1_000;
const ORDERS_PER_SECOND = 50;

/**
 * End to end: the whole pipeline in this process (API, relay, collector) under a steady order rate.
 * Per event: from the API transaction that wrote it to the outbox (outbox_event.created_at) to the
 * collector transaction that applied it to product_metrics (event_log.received_at, same transaction);
 * both are transaction start times on the same PostgreSQL clock. Percentiles computed in SQL.
 */
export async function e2eStage({ quick, log }: StageOptions): Promise<StageResult> {
  const seconds = quick ? 3 : 10;
  const ctx = await createBenchContext();
  const logger = createLogger('error', { pretty: false });
  const deps = { config: ctx.config, pool: ctx.pool, redis: ctx.redis, kafka: ctx.kafka, logger };
  await seedProducts(ctx.pool, PRODUCTS);
  const api = await buildApp(deps);
  const relay = await startRelay({ ...deps, options: parseRelayOptions({}) });
  const collector = await startCollector(deps);
  try {
    const url = await listen(api, '127.0.0.1', 0);
    log(`e2e: ${ORDERS_PER_SECOND} orders/s for ${seconds}s`);
    const sent = await steadyOrders(`${url}/api/v1/orders`, ORDERS_PER_SECOND, seconds);
    const expected = await one<{ n: number }>(
      ctx.pool,
      sql('bench.outbox-count', 'SELECT count(*)::int AS n FROM outbox_event'),
    );
    await waitFor(
      'the collector to apply every event',
      async () =>
        (await one<{ n: number }>(
          ctx.pool,
          sql('bench.log-count', 'SELECT count(*)::int AS n FROM event_log'),
        ))!.n >= expected!.n,
      60_000,
      100,
    );
    const p = (await one<{ p50: number; p95: number; p99: number; n: number }>(ctx.pool, latencies()))!;
    log(`e2e: ${sent} orders, ${p.n} events`);
    const name = (q: string) =>
      `API commit -> product_metrics ${q} (${ORDERS_PER_SECOND} orders/s, ${p.n} events)`;
    return {
      figures: [
        figure('e2e', name('p50'), p.p50, 'ms'),
        figure('e2e', name('p95'), p.p95, 'ms'),
        figure('e2e', name('p99'), p.p99, 'ms'),
      ],
      targets: [target('e2e', 'end to end p99 < 500 ms', p.p99, 'max', 500)],
    };
  } finally {
    await api.close();
    await relay.stop();
    await collector.stop();
    await ctx.close();
  }
}

function latencies() {
  return sql(
    'bench.e2e-latency',
    `SELECT count(*)::int AS n,
            percentile_cont(0.50) WITHIN GROUP (ORDER BY ms) AS p50,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) AS p95,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99
       FROM (SELECT extract(epoch FROM l.received_at - o.created_at) * 1000 AS ms
               FROM event_log l JOIN outbox_event o USING (event_id)) t`,
  );
}

/** Starts one order every 1/rate seconds (open loop: a slow answer does not slow the arrivals). */
async function steadyOrders(url: string, rate: number, seconds: number): Promise<number> {
  const inFlight: Array<Promise<void>> = [];
  const started = Date.now();
  for (let i = 0; i < rate * seconds; i++) {
    const due = started + (i * 1000) / rate;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    const productId = 1 + Math.floor(Math.random() * PRODUCTS);
    inFlight.push(
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-user-id': 'bench-user' },
        body: JSON.stringify({ items: [{ productId, quantity: 1 }] }),
      }).then(async (res) => {
        if (res.status !== 201) throw new Error(`order answered ${res.status}: ${await res.text()}`);
      }),
    );
  }
  await Promise.all(inFlight);
  return inFlight.length;
}
