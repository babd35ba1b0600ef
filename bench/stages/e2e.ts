import os from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import type { ChildProcess } from 'node:child_process';
import { one, sql } from '../../src/lib/db/query.js';
import { createBenchContext, type BenchContext } from '../lib/context.js';
import { freePort, spawnCli, stopChildWithin } from '../lib/child.js';
import { seedProducts } from '../lib/seed.js';
import { openLoop, type OpenLoopResult } from '../lib/load.js';
import { CpuMeter, kafkaPid, postgresBackgroundPids, redisPid } from '../lib/processes.js';
import { latencyChart } from '../lib/chart.js';
import { figure, target, waitFor, type Figure, type StageOptions, type StageResult } from '../lib/measure.js';

const PRODUCTS = 1_000;
const ORDINARY_RATE = 50;
/** The knee's conditions: every order answered within 1 s (p99), commit -> applied p99 under 500 ms. */
const ORDER_LIMIT_MS = 1_000;
const APPLIED_LIMIT_MS = 500;

interface Plan {
  hold: number;
  rates: number[];
  drainMs: number;
  warmup: number;
  /** Seconds of no load, measured: each process's fixed CPU (timers, polls, heartbeats). */
  idle: number;
  bisect: boolean;
  /** The stage starts no step but the first that it could not finish by then (ms since the stage began). */
  budgetMs: number;
}

const FULL: Plan = {
  hold: 30,
  rates: [50, 100, 200, 300, 400, 600, 800, 1_000, 1_200],
  drainMs: 15_000,
  warmup: 5,
  idle: 10,
  bisect: true,
  budgetMs: 6 * 60_000,
};
const QUICK: Plan = {
  hold: 3,
  rates: [50, 200],
  drainMs: 10_000,
  warmup: 1,
  idle: 1,
  bisect: false,
  budgetMs: 90_000,
};

/** BENCH_E2E_RATES=50,200 runs those steps only (no bisecting): to look at one rate again. */
function withRates(plan: Plan, rates: string | undefined): Plan {
  if (!rates) return plan;
  const list = rates.split(',').map(Number);
  if (list.some((r) => !Number.isInteger(r) || r < 1))
    throw new Error(`BENCH_E2E_RATES must be a comma-separated list of orders/s, got ${rates}`);
  return { ...plan, rates: list, bisect: false };
}

/** The deployment (deploy/k8s): API, relay and the three collector groups, each its own process. */
function deployed(ctx: BenchContext, ports: { api: number; metrics: number[] }) {
  const group = ctx.env.KAFKA_GROUP_ID!;
  return {
    api: ['api', 'serve', '--port', String(ports.api)],
    relay: ['relay', 'run'],
    'collector analytics': [
      ...['collector', 'run', '--group', `${group}-analytics`, '--handlers', 'audit,metrics,points'],
      ...['--metrics-port', String(ports.metrics[0])],
    ],
    'collector live': [
      ...['collector', 'run', '--group', `${group}-live`, '--handlers', 'ranking,cache'],
      ...['--metrics-port', String(ports.metrics[1])],
    ],
    'collector webhook': [
      ...['collector', 'run', '--group', `${group}-webhook`, '--handlers', 'webhook'],
      ...['--webhook-events', 'OrderPaid,OrderCancelled', '--metrics-port', String(ports.metrics[2])],
    ],
  };
}

export interface Step {
  rate: number;
  seconds: number;
  loadAverage: number;
  orders: OpenLoopResult;
  events: number;
  /** Events of the step not applied by every group when the drain timed out. */
  unapplied: number;
  applied: { p50: number; p95: number; p99: number };
  published: { p50: number; p99: number };
  afterPublished: { p50: number; p99: number };
  /** Orders the step committed (answered or not): the CPU figures' denominator. */
  committed: number;
  /** CPU seconds per 1,000 committed orders, per process group, over the step and its drain. */
  cpuPer1000: Record<string, number>;
  /** The same less what the process burns idle over as long (its fixed cost): what an order adds. */
  marginalPer1000: Record<string, number>;
  held: boolean;
}

/**
 * End to end, as deployed: the built CLI's `api serve`, `relay run` and three `collector run` groups
 * (audit,metrics,points / ranking,cache / webhook, as deploy/k8s runs them) as separate processes, each
 * against this stage's throwaway database, topic prefix and Redis prefix; orders offered by an
 * open-loop generator at fixed rates. "Applied" is the later of the analytics group's transaction
 * (event_log.received_at, with product_metrics) and the live group's (its ranking mark's handled_at),
 * "commit" the API transaction that wrote the outbox row (outbox_event.created_at): all transaction
 * start times on PostgreSQL's clock, percentiles in SQL.
 * 1. `dev` (one process) at 50 orders/s: the latency figure of the all-in-one deployment.
 * 2. The separate processes at 50 orders/s, then stepped up; each step held (30 s; --quick 3 s) and
 *    its events drained. The knee: the highest step at which every order was answered (none failed),
 *    p99 of the answer < 1 s, commit -> applied p99 < 500 ms and every event applied within the drain.
 *    Stops after the first failing step (then one bisecting step if the budget allows).
 * CPU seconds per 1,000 orders per process (/proc/<pid>/stat): API, relay, each collector, the
 * database's backends, PostgreSQL's shared background writers, the Kafka broker, redis-server and the
 * load generator. Writes bench/results/e2e-knee.json and e2e-knee.svg (the curve).
 */
export async function e2eStage({ quick, log }: StageOptions): Promise<StageResult> {
  const began = Date.now();
  const plan = withRates(quick ? QUICK : FULL, process.env.BENCH_E2E_RATES);
  const profileDir = process.env.BENCH_E2E_CPU_PROF;
  const nodeArgs = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];

  log(`e2e: dev (one process) at ${ORDINARY_RATE} orders/s for ${plan.hold}s`);
  const dev = await withPipeline(
    log,
    'dev',
    nodeArgs,
    async (ctx, ports) => ({
      dev: ['dev', '--port', String(ports.api), '--group', `${ctx.env.KAFKA_GROUP_ID}-dev`],
    }),
    async (run) => {
      await run.warmup(plan.warmup);
      return run.step(ORDINARY_RATE, plan.hold, plan.drainMs);
    },
  );

  let idle: Record<string, number> = {};
  const { steps, knee, stoppedBy } = await withPipeline(
    log,
    'separate',
    nodeArgs,
    async (ctx, ports) => deployed(ctx, ports),
    async (run) => {
      await run.warmup(plan.warmup);
      idle = await run.idle(plan.idle);
      const steps: Step[] = [];
      const fits = (s: number) => Date.now() - began + (s + 5) * 1000 + plan.drainMs < plan.budgetMs;
      let knee = 0;
      let failedAt: number | undefined;
      let stoppedBy: 'a failing step' | 'the time budget' | 'the last rate' = 'the last rate';
      for (const rate of plan.rates) {
        if (steps.length > 0 && !fits(plan.hold)) {
          log(`e2e: out of the stage's time budget before ${rate} orders/s`);
          stoppedBy = 'the time budget';
          break;
        }
        const s = await run.step(rate, plan.hold, plan.drainMs);
        steps.push(s);
        if (!s.held) {
          failedAt = rate;
          stoppedBy = 'a failing step';
          break;
        }
        knee = rate;
      }
      if (plan.bisect && failedAt !== undefined && knee > 0) {
        const mid = Math.round((knee + failedAt) / 2 / 50) * 50;
        if (mid > knee && mid < failedAt && fits(plan.hold + 60) && (await run.drained(60_000))) {
          const s = await run.step(mid, plan.hold, plan.drainMs);
          steps.push(s);
          if (s.held) knee = mid;
        }
      }
      return { steps, knee, stoppedBy };
    },
  );

  const results = new URL('../results/', import.meta.url);
  await mkdir(results, { recursive: true });
  const mode = quick ? 'quick' : 'full';
  await writeFile(
    new URL('e2e-knee.json', results),
    `${JSON.stringify({ date: new Date().toISOString(), mode, knee, stoppedBy, idleCpuMsPerSecond: idle, dev, steps }, null, 2)}\n`,
  );
  await writeFile(new URL('e2e-knee.svg', results), chart(steps, knee, mode));
  log(`e2e: knee ${knee} orders/s; bench/results/e2e-knee.svg`);

  const ordinary = steps.find((s) => s.rate === ORDINARY_RATE);
  const atKnee = steps.find((s) => s.rate === knee);
  const figures: Figure[] = [
    ...latencyFigures('dev (one process)', dev),
    ...(ordinary ? latencyFigures('separate processes', ordinary) : []),
    ...steps.flatMap(stepFigures),
    figure(
      'e2e',
      `knee: highest steady rate, order p99 < 1 s and commit -> applied p99 < 500 ms, held ${plan.hold}s`,
      knee,
      `orders/s (stopped by ${stoppedBy}${stoppedBy === 'a failing step' ? '' : ': at least this'})`,
    ),
    ...Object.entries(idle).map(([name, msPerS]) =>
      figure('e2e', `idle CPU (no orders), ${name}`, msPerS, 'ms per second'),
    ),
    ...(atKnee
      ? Object.entries(atKnee.cpuPer1000).map(([name, s]) =>
          figure(
            'e2e',
            `CPU at the knee (${knee} orders/s), ${name}`,
            s,
            `s per 1,000 orders (${(atKnee.marginalPer1000[name] ?? 0).toFixed(2)} above idle)`,
          ),
        )
      : []),
  ];
  return {
    figures,
    targets: [
      target(
        'e2e',
        `dev: commit -> applied p99 < 100 ms at ${ORDINARY_RATE} orders/s`,
        dev.applied.p99,
        'max',
        100,
      ),
      ...(ordinary
        ? [
            target(
              'e2e',
              `separate processes: commit -> applied p99 < 100 ms at ${ORDINARY_RATE} orders/s`,
              ordinary.applied.p99,
              'max',
              100,
            ),
          ]
        : []),
      target('e2e', `knee >= 1,000 orders/s (held ${plan.hold}s)`, knee, 'min', 1_000),
    ],
  };
}

interface PipelineRun {
  warmup(seconds: number): Promise<void>;
  /** CPU ms per second each process uses with no orders, over `seconds`. */
  idle(seconds: number): Promise<Record<string, number>>;
  step(rate: number, seconds: number, drainMs: number): Promise<Step>;
  /** Waits (up to timeoutMs) for every event written so far to be applied; false if it was not. */
  drained(timeoutMs: number): Promise<boolean>;
}

/**
 * A fresh bench context with products, the given CLI processes started (the one named api or dev
 * serves HTTP on ports.api), ready (an order applied end to end), `fn` run, everything stopped.
 */
async function withPipeline<T>(
  log: (m: string) => void,
  label: string,
  nodeArgs: string[],
  commands: (
    ctx: BenchContext,
    ports: { api: number; metrics: number[] },
  ) => Promise<Record<string, string[]>>,
  fn: (run: PipelineRun) => Promise<T>,
): Promise<T> {
  const ctx = await createBenchContext({
    // The webhook group's receiver: it is never called (the group sends OrderPaid/OrderCancelled only).
    WEBHOOK_URL: `http://127.0.0.1:${await freePort()}/hooks`,
    WEBHOOK_SECRET: 'bench-webhook-secret-0123456789',
  });
  const children: Array<[string, ReturnType<typeof spawnCli>]> = [];
  try {
    await seedProducts(ctx.pool, PRODUCTS);
    log(`e2e ${label}: context ready`);
    const ports = { api: await freePort(), metrics: [await freePort(), await freePort(), await freePort()] };
    for (const [name, args] of Object.entries(await commands(ctx, ports)))
      children.push([name, spawnCli(args, ctx.env, nodeArgs)]);
    const died = new Promise<never>((_, reject) => {
      for (const [name, child] of children)
        child.once('exit', (code, signal) =>
          reject(new Error(`${label}: ${name} exited (${code ?? signal}): ${child.stderrTail()}`)),
        );
    });
    died.catch(() => undefined);
    const url = `http://127.0.0.1:${ports.api}`;
    const run = pipelineRun(ctx, url, children, log, label);
    const work = (async () => {
      await waitFor(`${label}: the API to answer /readyz`, () => ok(`${url}/readyz`), 60_000, 200);
      log(`e2e ${label}: API ready`);
      await run.warmup(0);
      log(`e2e ${label}: an order applied end to end`);
      return fn(run);
    })();
    return await Promise.race([work, died]);
  } finally {
    log(`e2e ${label}: stopping`);
    // Nothing is measured any more: all at once (in order, their graceful stops add up to seconds).
    await Promise.all(children.map(([, child]) => stopChildWithin(child, 30_000)));
    await ctx.close();
    log(`e2e ${label}: stopped`);
  }
}

function pipelineRun(
  ctx: BenchContext,
  url: string,
  children: Array<[string, ChildProcess]>,
  log: (m: string) => void,
  label: string,
): PipelineRun {
  const database = new URL(ctx.env.DATABASE_URL!).pathname.slice(1);
  const local = ['127.0.0.1', 'localhost'].includes(new URL(ctx.env.DATABASE_URL!).hostname);
  const fixed: Record<string, number[]> = Object.fromEntries(children.map(([n, c]) => [n, [c.pid!]]));
  let services: Promise<void> | undefined;
  const findServices = () =>
    (services ??= (async () => {
      const kafka = kafkaPid(ctx.config.kafka.brokers);
      const redis = await redisPid(ctx.redis, ctx.env.REDIS_URL!);
      if (kafka) fixed.kafka = [kafka];
      if (redis) fixed.redis = [redis];
      fixed['postgres background (shared)'] = await postgresBackgroundPids(ctx.pool, ctx.env.DATABASE_URL!);
    })());
  const meter = new CpuMeter(fixed, local ? { db: ctx.pool, database } : undefined);
  let seq = 0;
  let idlePerSecond: Record<string, number> = {};
  const order = (i: number) => ({
    path: '/api/v1/orders',
    body: { items: [{ productId: 1 + ((seq * 7919 + i * 104_729) % PRODUCTS), quantity: 1 }] },
    headers: { 'x-user-id': 'bench-user' },
  });
  const lastId = async () => (await one<{ id: number }>(ctx.pool, maxOutboxId()))!.id;
  const drainedUpTo = async (from: number, to: number, timeoutMs: number) =>
    waitFor(
      'every group to apply the events',
      async () => (await one<{ missing: number }>(ctx.pool, unapplied(from, to)))!.missing === 0,
      timeoutMs,
      200,
    ).then(
      () => true,
      () => false,
    );

  return {
    async warmup(seconds) {
      const from = await lastId();
      seq++;
      if (seconds === 0) {
        // One order through everything: the processes are up, joined and connected.
        const r = await openLoop(url, { rate: 1, seconds: 1, request: order, expectStatus: 201 });
        if (r.failed > 0) throw new Error(`${label}: the first order failed: ${r.firstFailure}`);
      } else await openLoop(url, { rate: ORDINARY_RATE, seconds, request: order, expectStatus: 201 });
      if (!(await drainedUpTo(from, await lastId(), 60_000)))
        throw new Error(`${label}: the warm-up's events were not applied within 60 s`);
    },

    async idle(seconds) {
      await findServices();
      log(`e2e ${label}: ${seconds}s without orders (each process's fixed CPU)`);
      const started = performance.now();
      await meter.begin();
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const cpu = await meter.end();
      const elapsed = (performance.now() - started) / 1000;
      idlePerSecond = Object.fromEntries(Object.entries(cpu).map(([n, s]) => [n, s / elapsed]));
      return Object.fromEntries(Object.entries(idlePerSecond).map(([n, s]) => [n, s * 1000]));
    },

    async step(rate, seconds, drainMs) {
      await findServices();
      seq++;
      const loadAverage = os.loadavg()[0]!;
      log(`e2e ${label}: ${rate} orders/s for ${seconds}s (load average ${loadAverage.toFixed(1)})`);
      const from = await lastId();
      const started = performance.now();
      await meter.begin();
      const orders = await openLoop(url, { rate, seconds, request: order, expectStatus: 201 });
      const to = await lastId();
      await drainedUpTo(from, to, drainMs);
      const cpu = await meter.end();
      const elapsed = (performance.now() - started) / 1000;
      const l = (await one<LatencyRow>(ctx.pool, latencies(from, to)))!;
      const cpuPer1000 = Object.fromEntries(
        Object.entries(cpu).map(([name, s]) => [name, (s / Math.max(1, l.orders)) * 1000]),
      );
      const marginalPer1000 = Object.fromEntries(
        Object.entries(cpu).map(([name, s]) => [
          name,
          ((s - (idlePerSecond[name] ?? 0) * elapsed) / Math.max(1, l.orders)) * 1000,
        ]),
      );
      const held =
        orders.failed === 0 && orders.p99 < ORDER_LIMIT_MS && l.missing === 0 && l.p99 < APPLIED_LIMIT_MS;
      const s: Step = {
        rate,
        seconds,
        loadAverage,
        orders,
        events: l.n,
        committed: l.orders,
        unapplied: l.missing,
        applied: { p50: l.p50, p95: l.p95, p99: l.p99 },
        published: { p50: l.pub_p50, p99: l.pub_p99 },
        afterPublished: { p50: l.after_p50, p99: l.after_p99 },
        cpuPer1000,
        marginalPer1000,
        held,
      };
      log(
        `e2e ${label}: ${rate}/s ${held ? 'held' : 'FAILED'}: order p50 ${ms(orders.p50)} p99 ${ms(orders.p99)} ` +
          `(${orders.failed} failed, ${orders.late} late, generator lag p99 ${ms(orders.sendLagP99)}); commit -> applied p50 ${ms(l.p50)} p99 ${ms(l.p99)} ` +
          `(${l.missing} of ${l.n} not applied); ${l.orders} orders committed; CPU s/1,000 of them: ${describeCpu(cpuPer1000)}`,
      );
      return s;
    },

    async drained(timeoutMs) {
      return drainedUpTo(0, await lastId(), timeoutMs);
    },
  };
}

interface LatencyRow {
  n: number;
  orders: number;
  missing: number;
  p50: number;
  p95: number;
  p99: number;
  pub_p50: number;
  pub_p99: number;
  after_p50: number;
  after_p99: number;
}

async function ok(url: string): Promise<boolean> {
  try {
    return (await fetch(url)).ok;
  } catch {
    return false;
  }
}

const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(v < 10 ? 1 : 0)} ms` : 'n/a');

function describeCpu(cpu: Record<string, number>): string {
  return Object.entries(cpu)
    .map(([n, s]) => `${n} ${s.toFixed(2)}`)
    .join(', ');
}

function latencyFigures(variant: string, s: Step): Figure[] {
  const at = `${variant}, ${s.rate} orders/s, ${s.events} events`;
  return [
    figure('e2e', `${at}: commit -> applied p50`, s.applied.p50, 'ms'),
    figure('e2e', `${at}: commit -> applied p95`, s.applied.p95, 'ms'),
    figure('e2e', `${at}: commit -> applied p99`, s.applied.p99, 'ms'),
    figure(
      'e2e',
      `${variant}: of which commit -> PUBLISHED`,
      s.published.p50,
      `ms p50, ${ms(s.published.p99)} p99`,
    ),
    figure(
      'e2e',
      `${variant}: of which PUBLISHED -> applied`,
      s.afterPublished.p50,
      `ms p50, ${ms(s.afterPublished.p99)} p99`,
    ),
    figure('e2e', `${variant}: order answer`, s.orders.p50, `ms p50, ${ms(s.orders.p99)} p99`),
  ];
}

function stepFigures(s: Step): Figure[] {
  const total = Object.entries(s.cpuPer1000)
    .filter(([n]) => n !== 'generator')
    .reduce((a, [, v]) => a + v, 0);
  const at = `step ${s.rate} orders/s (${s.seconds}s, load ${s.loadAverage.toFixed(1)}${s.held ? '' : ', FAILED'})`;
  return [
    figure(
      'e2e',
      `${at}: order answer p99`,
      s.orders.p99,
      `ms (p50 ${ms(s.orders.p50)}; ${s.orders.failed} failed, ${s.orders.late} over 1 s; generator sent p99 ${ms(s.orders.sendLagP99)} late)`,
    ),
    figure(
      'e2e',
      `${at}: commit -> applied p99`,
      s.applied.p99,
      `ms (p50 ${ms(s.applied.p50)}; ${s.unapplied} of ${s.events} not applied)`,
    ),
    figure(
      'e2e',
      `${at}: CPU, all but the generator`,
      total,
      `s per 1,000 orders (${s.committed} committed; ${describeCpu(s.cpuPer1000)})`,
    ),
  ];
}

function chart(steps: Step[], knee: number, mode: string): string {
  const sorted = [...steps].sort((a, b) => a.rate - b.rate);
  const load = steps.map((s) => s.loadAverage);
  return latencyChart({
    title: `commerce end to end: latency by offered order rate (${knee > 0 ? `knee ${knee} orders/s` : 'no step held'})`,
    subtitle:
      `${new Date().toISOString().slice(0, 16)}Z, ${mode} run, ${os.cpus().length} vCPU, ` +
      `each step held ${steps[0]?.seconds ?? 0} s, load average ${Math.min(...load).toFixed(1)}-${Math.max(...load).toFixed(1)}`,
    xLabel: 'offered orders/s (open loop)',
    yLabel: 'latency (log scale)',
    series: [
      {
        label: 'order answer p50',
        color: '#1f77b4',
        dashed: true,
        points: sorted.map((s) => [s.rate, s.orders.p50]),
      },
      { label: 'order answer p99', color: '#1f77b4', points: sorted.map((s) => [s.rate, s.orders.p99]) },
      {
        label: 'commit -> applied p50',
        color: '#d62728',
        dashed: true,
        points: sorted.map((s) => [s.rate, s.applied.p50]),
      },
      {
        label: 'commit -> applied p99',
        color: '#d62728',
        points: sorted.map((s) => [s.rate, s.applied.p99]),
      },
    ],
    limits: [
      { label: 'order p99 limit 1 s', color: '#1f77b4', y: ORDER_LIMIT_MS },
      { label: 'applied p99 limit 500 ms', color: '#d62728', y: APPLIED_LIMIT_MS },
    ],
    notes: sorted.filter((s) => !s.held).map(whyFailed),
    ...(knee > 0 ? { marker: { x: knee, label: `knee ${knee}/s` } } : {}),
  });
}

/** One short line: what made a step fail. */
function whyFailed(s: Step): string {
  const why =
    s.orders.failed > 0
      ? `${s.orders.failed}/${s.orders.sent} orders failed`
      : s.unapplied > 0
        ? `${s.unapplied} events unapplied`
        : s.orders.p99 >= ORDER_LIMIT_MS
          ? `order p99 ${ms(s.orders.p99)}`
          : `applied p99 ${ms(s.applied.p99)}`;
  return `${s.rate}/s: ${why}`;
}

function maxOutboxId() {
  return sql('bench.max-outbox-id', 'SELECT coalesce(max(id), 0)::bigint AS id FROM outbox_event');
}

/** The events of outbox rows (from, to] and when each group applied them (null: not yet). */
const APPLIED = `
  SELECT o.event_type, o.created_at, o.published_at, i.received_at, i.ranked_at AS handled_at,
         (i.received_at IS NULL OR i.ranked_at IS NULL) AS missing
    FROM outbox_event o
    LEFT JOIN event_inbox i ON i.event_id = o.event_id
   WHERE o.id > $1 AND o.id <= $2`;

function unapplied(from: number, to: number) {
  return sql(
    'bench.e2e-unapplied',
    `SELECT count(*) FILTER (WHERE missing)::int AS missing FROM (${APPLIED}) e`,
    [from, to],
  );
}

/**
 * Percentiles of the events of outbox rows (from, to]. An event some group has not applied counts
 * with its age now (a lower bound of its latency), so a step that fell behind shows it.
 */
function latencies(from: number, to: number) {
  return sql(
    'bench.e2e-latency',
    `WITH e AS (${APPLIED}),
     ms AS (
       SELECT missing, event_type,
              extract(epoch FROM CASE WHEN missing THEN clock_timestamp()
                                      ELSE greatest(received_at, handled_at) END - created_at) * 1000 AS applied,
              extract(epoch FROM published_at - created_at) * 1000 AS published,
              extract(epoch FROM greatest(received_at, handled_at) - published_at) * 1000 AS after
         FROM e)
     SELECT count(*)::int AS n, count(*) FILTER (WHERE missing)::int AS missing,
            count(*) FILTER (WHERE event_type = 'OrderCreated')::int AS orders,
            percentile_cont(0.50) WITHIN GROUP (ORDER BY applied) AS p50,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY applied) AS p95,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY applied) AS p99,
            percentile_cont(0.50) WITHIN GROUP (ORDER BY published) AS pub_p50,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY published) AS pub_p99,
            percentile_cont(0.50) WITHIN GROUP (ORDER BY after) AS after_p50,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY after) AS after_p99
       FROM ms`,
    [from, to],
  );
}
