import { randomBytes } from 'node:crypto';
import type { AppConfig } from '../../lib/config/config.js';
import { one } from '../../lib/db/query.js';
import { InterruptedError } from '../../lib/errors.js';
import { ensureTopics, pipelineTopics } from '../../lib/kafka/topics.js';
import { startPipeline, type Pipeline, type PipelineDeps } from '../dev/dev.js';
import { dateInZone } from '../../lib/time/dates.js';
import { runAggregate } from '../aggregate/aggregate.js';
import { waitForCatchUp } from './catch-up.js';
import { pipelineLatency, type LatencyMs } from './figures.js';
import { selectOutboxWatermark } from './sql.js';
import { apiClient } from './http.js';
import type { DemoOptions } from './options.js';
import { liveScores, liveTop10, weeklyTop10, type RankRow } from './rankings.js';
import { seedCatalog } from './seed.js';
import { runTraffic } from './traffic.js';
import type { Ledger } from './expected.js';
import { compareMetrics, compareScores, type Mismatch } from './verify.js';
import { DEMO_PAYMENT_TTL_MS, expireDemoOrders } from './expiry.js';
import { checkDemoPayments, recoverDemoPayments, startDemoGateway, type PaymentFigures } from './payments.js';
import { checkDemoPoints, type PointsFigures } from './points.js';
import { checkLatePayment, payAfterExpiry, placeLateOrder, type LatePaymentFigures } from './late-payment.js';

export interface DemoDeps extends PipelineDeps {
  /** One line per stage and progress inside it (the command shows it as a spinner). */
  onStage?: (text: string) => void;
}

export interface DemoResult {
  verified: boolean;
  mismatches: Mismatch[];
  unexpectedResponses: string[];
  /** What the payments self-check found (empty when every payment is settled as the gateway says). */
  paymentProblems: string[];
  payments: PaymentFigures;
  /** A payment landing on an order already EXPIRED: charged, then refunded once (its checks in paymentProblems). */
  latePayments: LatePaymentFigures;
  /** What the points self-check found (empty when every user's balance is the rule on paid orders). */
  pointsProblems: string[];
  points: PointsFigures;
  brand: string;
  products: number;
  traffic: Ledger['counts'];
  pipeline: {
    written: number;
    published: number;
    consumed: number;
    duplicatesSkipped: number;
    deadLettered: number;
    latencyMs: LatencyMs;
  };
  liveTop10: RankRow[];
  weekly: { label: string; start: string; end: string; top10: RankRow[] };
  monthly: { label: string; rowsWritten: number };
  durationMs: number;
}

const CATCH_UP_TIMEOUT_MS = 90_000;

/**
 * The whole pipeline in one process on the configured services: seed a run-unique brand, drive
 * traffic over HTTP, wait for the pipeline, aggregate, and check product_metrics against the traffic.
 * Only this run's products are checked and shown, so it can run again and again on one database.
 */
export async function runDemo(deps: DemoDeps, options: DemoOptions): Promise<DemoResult> {
  const { signal } = deps;
  return demo(deps, options).catch((err) => {
    // Whatever failed after SIGTERM/SIGINT (a wait cut short, an aggregation aborted) is the interruption.
    throw signal?.aborted ? new InterruptedError(signal, 'nothing was verified', 'demo') : err;
  });
}

async function demo(deps: DemoDeps, options: DemoOptions): Promise<DemoResult> {
  const started = Date.now();
  const stage = deps.onStage ?? (() => undefined);
  const { pool, logger, signal } = deps;
  const adminToken = randomBytes(16).toString('hex');
  const userPrefix = `demo-${randomBytes(3).toString('hex')}-`;

  stage('starting the payment gateway simulator and the pipeline (API, relay, collector)');
  const watermark = (await one<{ id: string }>(pool, selectOutboxWatermark()))!.id;
  await deps.redis.ping(); // the live ranking is checked: an unreachable Redis fails now, not at the end
  await ensureTopics(deps.kafka, pipelineTopics(deps.config.kafka));
  const day = dateInZone(new Date(), deps.config.timezone);
  const gateway = await startDemoGateway(deps.config, logger);
  const config: AppConfig = {
    ...gateway.config,
    api: { ...deps.config.api, adminToken },
    orders: { paymentTtlMs: DEMO_PAYMENT_TTL_MS },
  };
  let pipeline: Pipeline | undefined;
  try {
    pipeline = await startPipeline({ ...deps, config }, { host: '127.0.0.1', port: 0 });
    const client = apiClient(pipeline.url, adminToken);
    const seed = await seedCatalog(client, options.products, (n) =>
      stage(`seeding products ${n}/${options.products}`),
    );
    // The order a payment will land on after its expiry: placed first (full stock), left unpaid.
    const late = await placeLateOrder(client, seed.products[0]!.id, userPrefix);
    const ledger = await runTraffic({
      client,
      products: seed.products,
      users: options.users,
      orders: options.orders,
      durationMs: options.durationMs,
      concurrency: options.concurrency,
      userPrefix,
      signal,
      onProgress: (n) => stage(`traffic: orders ${n}/${options.orders}`),
    });
    if ('error' in late) ledger.surprise(late.error);
    else ledger.ordered(late.items);
    if (signal?.aborted) throw new InterruptedError(signal, 'nothing was verified', 'demo');
    // Lost callbacks and failed requests leave payments unsettled: the recovery job settles them
    // (its OrderPaid events then go through the pipeline like any other).
    stage('settling payments (payments recover)');
    const recovery = await recoverDemoPayments({ pool, config, logger }, pipeline.url, signal);
    // The orders left unpaid: expired once their window closes, their stock back (events through the
    // pipeline like any other).
    stage('expiring unpaid orders (orders expire)');
    const expiry = await expireDemoOrders(
      { pool, redis: deps.redis, config, logger },
      ledger,
      userPrefix,
      signal,
    );
    // A payment for an order already expired: charged by the simulator, refunded by the system.
    stage('a payment landing after expiry (refunded)');
    const latePayment =
      'error' in late
        ? { figures: { orderId: null, sent: 0, charged: 0, refunded: 0 }, problems: [] }
        : await payAfterExpiry({ pool, config, logger }, pipeline.url, late, signal);
    await pipeline.api.close(); // flushes the buffered views into the outbox
    const caughtUp = await waitForCatchUp({
      pool,
      watermark,
      timeoutMs: CATCH_UP_TIMEOUT_MS,
      signal,
      onProgress: (p) =>
        stage(`waiting for the pipeline: ${p.published}/${p.written} published, ${p.consumed} consumed`),
    });
    const { stats } = pipeline.collector;
    await pipeline.stop();
    pipeline = undefined;

    stage('aggregating the week and the month');
    const today = dateInZone(new Date(), config.timezone);
    // The current period on purpose: its "not over yet, provisional" warning says nothing here.
    const quiet = logger.child({}, { level: 'error' });
    const aggregate = (period: 'weekly' | 'monthly') =>
      runAggregate({ pool, config, logger: quiet, period, date: today, top: 10_000, signal });
    const weekly = await aggregate('weekly');
    const monthly = await aggregate('monthly');

    stage('checking the metrics');
    const ids = seed.products.map((p) => p.id);
    const names = new Map(seed.products.map((p) => [p.id, p.name]));
    const expected = ledger.expected();
    const scores = await liveScores(deps.redis, day, ids);
    const mismatches = await compareMetrics(pool, expected);
    // A run across midnight splits the live scores over two days; only a one-day run can be checked.
    if (day === today) mismatches.push(...compareScores(expected, scores, config.ranking));
    const payments = await checkDemoPayments(pool, gateway.simulator, userPrefix);
    const points = await checkDemoPoints(pool, userPrefix, config.points.rateBasisPoints);
    const lateProblems = [
      ...latePayment.problems,
      ...('error' in late ? [] : await checkLatePayment(pool, gateway.simulator, late, latePayment.figures)),
    ];
    return {
      verified:
        mismatches.length === 0 &&
        ledger.counts.unexpected === 0 &&
        payments.problems.length === 0 &&
        expiry.problems.length === 0 &&
        lateProblems.length === 0 &&
        points.problems.length === 0,
      mismatches,
      unexpectedResponses: ledger.unexpected,
      paymentProblems: [...payments.problems, ...expiry.problems, ...lateProblems],
      payments: { ...payments.figures, recovered: recovery.recovered, recoverRuns: recovery.runs },
      latePayments: latePayment.figures,
      pointsProblems: points.problems,
      points: points.figures,
      brand: seed.brandName,
      products: seed.products.length,
      traffic: ledger.counts,
      pipeline: {
        written: caughtUp.written,
        published: caughtUp.published,
        consumed: caughtUp.consumed,
        duplicatesSkipped: stats.duplicates,
        deadLettered: stats.deadLettered,
        latencyMs: await pipelineLatency(pool, watermark),
      },
      liveTop10: liveTop10(scores, names),
      weekly: {
        label: weekly.label,
        start: weekly.start,
        end: weekly.end,
        top10: await weeklyTop10(pool, weekly.start, ids),
      },
      monthly: { label: monthly.label, rowsWritten: monthly.rowsWritten },
      durationMs: Date.now() - started,
    };
  } finally {
    await pipeline?.stop();
    await gateway.close();
  }
}
