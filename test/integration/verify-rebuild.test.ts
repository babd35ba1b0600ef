import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { seedProduct, startApi, type TestApi } from '../support/api.js';
import { runCli } from '../support/cli.js';
import { publish, startTestCollector } from '../support/collector.js';
import { slowRanking, slowRebuildSwap } from '../support/slow-clients.js';
import { caughtUp } from '../support/handlers.js';
import { eventually } from '../support/wait.js';
import { dateInZone } from '../../src/lib/time/dates.js';
import { createEvent, orderCreatedFromV1, type DomainEvent } from '../../src/lib/events/index.js';
import { runRebuild } from '../../src/jobs/rebuild/rebuild.js';

type Collector = Awaited<ReturnType<typeof startTestCollector>>;

/**
 * `commerce verify` and `commerce rebuild` on a pipeline that really ran: API -> outbox -> relay ->
 * Kafka -> collector. Read models are corrupted by hand; verify must name exactly those, rebuild fix them.
 */
describe('verify and rebuild', () => {
  let ctx: TestContext;
  let api: TestApi;
  let collector: Collector;
  const ids: number[] = [];
  let rankingKey: string;

  const relayOnce = async () => {
    const r = await runCli(['relay', 'run', '--once', '--json'], ctx.env);
    expect(r.code, r.stderr).toBe(0);
  };
  const settle = async () => {
    await relayOnce();
    await eventually(() => caughtUp(ctx, ctx.config.kafka.groupId), 30_000, 200);
  };
  const verify = (...args: string[]) => runCli(['verify', '--json', ...args], ctx.env, 120_000);

  beforeAll(async () => {
    ctx = await createTestContext();
    api = await startApi(ctx, { viewFlushIntervalMs: 100 });
    collector = await startTestCollector(ctx);
    for (let i = 0; i < 4; i++) ids.push((await seedProduct(api, { price: 100 * (i + 1), stock: 20 })).id);
    const [a, b, c, d] = ids as [number, number, number, number];
    for (const user of ['u1', 'u2', 'u3'])
      expect((await api.call('POST', `/products/${a}/likes`, { user })).status).toBe(200);
    await api.call('POST', `/products/${b}/likes`, { user: 'u1' });
    await api.call('DELETE', `/products/${b}/likes`, { user: 'u1' });
    await api.call('POST', `/products/${c}/likes`, { user: 'u2' });
    const order = async (user: string, items: { productId: number; quantity: number }[]) => {
      const res = await api.call('POST', '/orders', { user, body: { items } });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.id as number;
    };
    await order('u1', [
      { productId: a, quantity: 2 },
      { productId: b, quantity: 1 },
    ]);
    const cancelled = await order('u2', [{ productId: c, quantity: 3 }]);
    expect((await api.call('POST', `/orders/${cancelled}/cancel`, { user: 'u2' })).status).toBe(200);
    await order('u3', [{ productId: d, quantity: 4 }]);
    for (const id of [a, a, a, c, d, d]) await api.call('GET', `/products/${id}`);
    // Views reach the outbox when the API flushes them (every 100ms): all six of them.
    await eventually(async () => {
      const { rows } = await ctx.pool.query<{ n: number }>(
        `SELECT coalesce(sum((payload->'payload'->>'count')::int), 0)::int AS n
           FROM outbox_event WHERE event_type = 'ProductViewed'`,
      );
      return rows[0]!.n === 6;
    });
    await settle();
    rankingKey = `ranking:all:${dateInZone(new Date(), ctx.config.timezone).replaceAll('-', '')}`;
  }, 120_000);
  afterAll(async () => {
    await collector?.stop();
    await api?.close();
    await ctx?.close();
  });

  it('a pipeline that ran is consistent: exit 0, nothing in flight', async () => {
    const r = await verify();
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json.consistent).toBe(true);
    expect(r.json.differences).toEqual([]);
    expect(r.json.checked.products).toBe(4);
    expect(r.json.inFlight.products).toBe(0);
    expect(r.json.ranking.keyExists).toBe(true);
    expect(r.json.checked.rankingMembers).toBe(4);
  });

  it('finds exactly the rows corrupted by hand (exit 6), and rebuild fixes them', async () => {
    const [a, b, c] = ids as [number, number, number];
    await ctx.pool.query(`UPDATE product_metrics SET view_count = view_count + 5 WHERE product_id = $1`, [a]);
    await ctx.pool.query(
      `UPDATE product_metrics_daily SET sales_count = sales_count + 1 WHERE product_id = $1`,
      [b],
    );
    await ctx.redis.zincrby(rankingKey, 7, String(c));
    const r = await verify();
    expect(r.code, r.stderr).toBe(6);
    const found = r.json.differences.map((d: { check: string; productId: number; field: string }) => [
      d.check,
      d.productId,
      d.field,
    ]);
    expect(found).toEqual([
      ['metrics', a, 'view_count'],
      ['daily', b, 'sales_count'],
      ['ranking', c, `score ${rankingKey}`],
    ]);
    const only = await verify('--products', String(b));
    expect(only.code).toBe(6);
    expect(only.json.differences).toHaveLength(1);
    expect(only.json.checked.products).toBe(1);

    // The ranking is derived from the daily rows: B's expected score is unknown while they are wrong.
    expect(r.json.ranking.notComparedDailyDiffers).toBe(1);
    const rebuild = async (target: string, dryRun: boolean, changed: number) => {
      const run = await runCli(
        ['rebuild', '--target', target, '--json', ...(dryRun ? ['--dry-run'] : [])],
        ctx.env,
      );
      expect(run.code, run.stderr).toBe(0);
      expect(run.json).toMatchObject({ target, dryRun, changed });
    };
    await rebuild('metrics', true, 1);
    await rebuild('daily', true, 1);
    expect((await verify()).json.differences).toHaveLength(3); // a dry run changes nothing
    await rebuild('metrics', false, 1);
    await rebuild('daily', false, 1);
    await rebuild('ranking', true, 1);
    await rebuild('ranking', false, 1);
    const after = await verify();
    expect(after.code, JSON.stringify(after.json?.differences)).toBe(0);
    const { rows } = await ctx.pool.query(
      `SELECT job_name, status, params FROM job_run WHERE job_name = 'rebuild' ORDER BY id`,
    );
    expect(rows.map((r) => [r.status, r.params.target, r.params.dryRun])).toEqual([
      ['SUCCEEDED', 'metrics', true],
      ['SUCCEEDED', 'daily', true],
      ['SUCCEEDED', 'metrics', false],
      ['SUCCEEDED', 'daily', false],
      ['SUCCEEDED', 'ranking', true],
      ['SUCCEEDED', 'ranking', false],
    ]);
    // Eleven CLI runs, each a process start (2-5 s on a loaded 2-core machine).
  }, 120_000);

  it('a lost ranking key (a Redis restart) is detected, and rebuild --target ranking restores it', async () => {
    const before = await ctx.redis.zrange(rankingKey, 0, -1, 'WITHSCORES');
    await ctx.redis.del(rankingKey);
    const r = await verify();
    expect(r.code).toBe(6);
    expect(r.json.ranking.keyExists).toBe(false);
    expect(r.json.differences.map((d: { check: string }) => d.check)).toEqual([
      'ranking',
      'ranking',
      'ranking',
      'ranking',
    ]);
    const run = await runCli(['rebuild', '--target', 'ranking', '--json'], ctx.env);
    expect(run.code, run.stderr).toBe(0);
    const restored = await ctx.redis.zrange(rankingKey, 0, -1, 'WITHSCORES');
    expect(restored.filter((_, i) => i % 2 === 0)).toEqual(before.filter((_, i) => i % 2 === 0));
    restored.forEach((v, i) => i % 2 === 1 && expect(Number(v)).toBeCloseTo(Number(before[i]), 9));
    expect(await ctx.redis.ttl(rankingKey)).toBeGreaterThan(24 * 3600);
    expect((await verify()).code).toBe(0);
  });

  it('events not yet published are in flight: counted, not reported', async () => {
    const [a] = ids as [number];
    await api.call('POST', `/products/${a}/likes`, { user: 'u9' }); // in the outbox, not relayed
    const r = await verify();
    expect(r.code, JSON.stringify(r.json.differences)).toBe(0);
    expect(r.json.inFlight.byReason).toMatchObject({ unpublished: 1 });
    expect(r.json.checked.products).toBe(3);
    await settle();
    const settled = await verify();
    expect(settled.code).toBe(0);
    expect(settled.json.inFlight.products).toBe(0);
  });
});

describe('rebuild while a collector consumes', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx?.close());

  it('loses and doubles no event: metrics, daily rows and ranking equal the totals of what was published', async () => {
    const now = new Date();
    const today = dateInZone(now, ctx.config.timezone);
    const products = [101, 102, 103, 104, 105];
    const views = new Map<number, number>(products.map((p) => [p, 0]));
    const units = new Map<number, number>(products.map((p) => [p, 0]));
    const versions = new Map<number, number>();
    const next = (aggregate: number) => {
      const v = (versions.get(aggregate) ?? 0) + 1;
      versions.set(aggregate, v);
      return v;
    };
    const events: DomainEvent[] = [];
    for (let i = 0; i < 1500; i++) {
      const p = products[i % products.length]!;
      if (i % 7 === 0) {
        const order = 10_000 + i;
        events.push(
          createEvent(
            'OrderCreated',
            order,
            next(order),
            orderCreatedFromV1({
              orderId: order,
              userId: 'u',
              totalAmount: 300,
              items: [{ productId: p, quantity: 3, unitPrice: 100 }],
            }),
            now,
          ),
        );
        units.set(p, units.get(p)! + 3);
      } else {
        const count = 1 + (i % 4);
        events.push(createEvent('ProductViewed', p, next(p), { productId: p, count }, now));
        views.set(p, views.get(p)! + count);
      }
    }
    await publish(ctx, events);
    // The collector pauses between its commit and Redis, widening the window a ranking rebuild must
    // handle (events committed but not yet ranked), and consumes slowly enough for many rebuilds.
    const collector = await startTestCollector(
      ctx,
      { batchSize: 5 },
      { redis: slowRanking(ctx.redis, () => 10 + Math.random() * 30) },
    );
    const runs = { metrics: 0, daily: 0, ranking: 0 };
    const targets = ['metrics', 'daily', 'ranking'] as const;
    // Rebuilds back to back until the collector has caught up with everything published.
    for (let i = 0; !(await caughtUp(ctx, ctx.config.kafka.groupId)); i++) {
      const target = targets[i % 3]!;
      // In process, to hold the swap back a while: the collector's commits must wait for it, not be lost.
      const run = await runRebuild({
        ...slowRebuildSwap(ctx.pool, ctx.redis, 150),
        config: ctx.config,
        target,
        dryRun: false,
        carryWeight: 0.1,
      });
      expect(run.target).toBe(target);
      runs[target] += 1;
    }
    await eventually(() => caughtUp(ctx, ctx.config.kafka.groupId), 60_000, 200);
    await collector.stop();
    expect(runs.metrics + runs.daily + runs.ranking).toBeGreaterThanOrEqual(3);

    const { rows: metrics } = await ctx.pool.query(
      `SELECT product_id::int AS id, view_count::int AS views, sales_count::int AS units FROM product_metrics ORDER BY 1`,
    );
    expect(metrics).toEqual(products.map((id) => ({ id, views: views.get(id), units: units.get(id) })));
    const { rows: daily } = await ctx.pool.query(
      `SELECT product_id::int AS id, view_count::int AS views, sales_count::int AS units
         FROM product_metrics_daily WHERE metric_date = $1 ORDER BY 1`,
      [today],
    );
    expect(daily).toEqual(metrics);
    const w = ctx.config.ranking;
    const key = `ranking:all:${today.replaceAll('-', '')}`;
    for (const id of products)
      expect(Number(await ctx.redis.zscore(key, String(id)))).toBeCloseTo(
        w.view * views.get(id)! + w.order * units.get(id)!,
        6,
      );
  }, 240_000);

  it('one rebuild at a time: exit 5 while another holds the lock, and nothing recorded', async () => {
    const holder = await ctx.pool.connect();
    try {
      await holder.query(`SELECT pg_advisory_lock(hashtext('rebuild'))`);
      const r = await runCli(['rebuild', '--target', 'metrics', '--json'], ctx.env);
      expect(r.code).toBe(5);
      expect(r.json.error).toMatchObject({ code: 'LOCKED', exitCode: 5 });
      await holder.query(`SELECT pg_advisory_unlock(hashtext('rebuild'))`);
    } finally {
      holder.release();
    }
    const { rows: runs } = await ctx.pool.query(
      `SELECT count(*)::int AS n FROM job_run WHERE job_name = 'rebuild'`,
    );
    const bad = await runCli(['rebuild', '--target', 'metrics', '--date', '2024-01-01'], ctx.env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--date');
    const bad2 = await runCli(['verify', '--since', '2024-13-01'], ctx.env);
    expect(bad2.code).toBe(2);
    expect(bad2.stderr).toContain('--since');
    const { rows: after } = await ctx.pool.query(
      `SELECT count(*)::int AS n FROM job_run WHERE job_name = 'rebuild'`,
    );
    expect(after).toEqual(runs); // a locked-out or refused run records nothing
  });
});
