import { createLogger } from '../../src/lib/log.js';
import { buildApp, listen } from '../../src/api/app.js';
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
    const p = (await one<{ p50: number; p95: number; p99: number; n: number }>(ctx.pool, latencies(0)))!;
    const relayPart = (await one<{ p50: number; p99: number }>(ctx.pool, relayLatencies()))!;
    log(`e2e: ${sent} orders, ${p.n} events`);
    const highest = await highestSteadyRate(ctx, url, quick, log);
    const name = (q: string) =>
      `API commit -> product_metrics ${q} (${ORDERS_PER_SECOND} orders/s, ${p.n} events)`;
    return {
      figures: [
        figure('e2e', name('p50'), p.p50, 'ms'),
        figure('e2e', name('p95'), p.p95, 'ms'),
        figure('e2e', name('p99'), p.p99, 'ms'),
        // Where it goes: the relay's share (commit -> marked PUBLISHED, i.e. after Kafka's ack).
        figure('e2e', `of which API commit -> PUBLISHED p50`, relayPart.p50, 'ms'),
        figure('e2e', `of which API commit -> PUBLISHED p99`, relayPart.p99, 'ms'),
        ...highest.steps,
        figure('e2e', 'highest steady order rate with p99 < 500 ms', highest.rate, 'orders/s'),
      ],
      targets: [target('e2e', `end to end p99 < 100 ms at ${ORDERS_PER_SECOND} orders/s`, p.p99, 'max', 100)],
    };
  } finally {
    await api.close();
    await relay.stop();
    await collector.stop();
    await ctx.close();
  }
}

type BenchContext = Awaited<ReturnType<typeof createBenchContext>>;

/**
 * Steps the order rate up (each step `seconds` long, its events only) until p99 reaches 500 ms, an
 * order fails, or the pipeline cannot apply the step's events within 30 s: the highest rate that held.
 */
async function highestSteadyRate(ctx: BenchContext, url: string, quick: boolean, log: (m: string) => void) {
  const rates = quick ? [100, 200] : [100, 200, 300, 400, 600, 800, 1_200];
  const seconds = quick ? 2 : 5;
  const steps = [];
  let rate = 0;
  for (const r of rates) {
    const mark = (await one<{ id: number }>(ctx.pool, maxOutboxId()))!.id;
    log(`e2e: stepping up: ${r} orders/s for ${seconds}s`);
    const ok = await steadyOrders(`${url}/api/v1/orders`, r, seconds).then(
      () => true,
      (err: unknown) => (log(`e2e: ${r} orders/s: ${(err as Error).message}`), false),
    );
    const expected = (await one<{ n: number }>(ctx.pool, countOutboxAfter(mark)))!.n;
    const applied = await waitFor(
      'the collector to apply the step',
      async () => (await one<{ n: number }>(ctx.pool, countLoggedAfter(mark)))!.n >= expected,
      30_000,
      100,
    ).then(
      () => true,
      () => false,
    );
    const p = (await one<{ p99: number; n: number }>(ctx.pool, latencies(mark)))!;
    steps.push(figure('e2e', `p99 at ${r} orders/s (${p.n} events)`, p.p99, 'ms'));
    if (!ok || !applied || !(p.p99 < 500)) break;
    rate = r;
  }
  return { rate, steps };
}

function maxOutboxId() {
  return sql('bench.max-outbox-id', 'SELECT coalesce(max(id), 0)::bigint AS id FROM outbox_event');
}

function countOutboxAfter(id: number) {
  return sql('bench.count-outbox-after', 'SELECT count(*)::int AS n FROM outbox_event WHERE id > $1', [id]);
}

function countLoggedAfter(id: number) {
  return sql(
    'bench.count-logged-after',
    `SELECT count(*)::int AS n FROM event_log l JOIN outbox_event o USING (event_id) WHERE o.id > $1`,
    [id],
  );
}

function relayLatencies() {
  return sql(
    'bench.e2e-relay-latency',
    `SELECT percentile_cont(0.50) WITHIN GROUP (ORDER BY ms) AS p50,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99
       FROM (SELECT extract(epoch FROM published_at - created_at) * 1000 AS ms
               FROM outbox_event WHERE published_at IS NOT NULL) t`,
  );
}

/** Percentiles of the events written after outbox row `after` (0: all). */
function latencies(after: number) {
  return sql(
    'bench.e2e-latency',
    `SELECT count(*)::int AS n,
            percentile_cont(0.50) WITHIN GROUP (ORDER BY ms) AS p50,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) AS p95,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99
       FROM (SELECT extract(epoch FROM l.received_at - o.created_at) * 1000 AS ms
               FROM event_log l JOIN outbox_event o USING (event_id) WHERE o.id > $1) t`,
    [after],
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
