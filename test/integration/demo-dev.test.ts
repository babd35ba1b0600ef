import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { runCli, startCli, stopCli, waitForOutput } from '../support/cli.js';
import { eventually } from '../support/wait.js';
import { one, sql } from '../../src/lib/db/query.js';
import { apiClient } from '../../src/jobs/demo/http.js';
import { seedCatalog } from '../../src/jobs/demo/seed.js';

describe('commerce dev and commerce demo', () => {
  let ctx: TestContext;

  beforeAll(async () => {
    ctx = await createTestContext();
  });

  afterAll(async () => {
    await ctx?.close();
  });

  it('dev serves the API and carries an order into product_metrics; SIGTERM exits 0', async () => {
    const child = startCli(['dev', '--port', '0'], {
      ...ctx.env,
      ADMIN_TOKEN: 'dev-token',
      LOG_LEVEL: 'info',
    });
    try {
      const url = (await waitForOutput(child, /listening on http:\/\/127\.0\.0\.1:\d+/, 45_000)).replace(
        'listening on ',
        '',
      );
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const client = apiClient(url, 'dev-token');
      const [product] = (await seedCatalog(client, 1)).products;
      const order = await client.call('POST', '/orders', {
        user: 'dev-user',
        body: { items: [{ productId: product!.id, quantity: 2 }] },
      });
      expect(order.status).toBe(201);
      const metrics = await eventually(
        () =>
          one<{ sales_count: number; stock: number }>(
            ctx.pool,
            sql(
              't.metrics',
              // Sales come from order-events, stock from catalog-events: two topics, applied independently.
              'SELECT sales_count, stock FROM product_metrics WHERE product_id = $1 AND sales_count > 0 AND stock < $2',
              [product!.id, product!.stock],
            ),
          ),
        45_000,
      );
      expect(metrics).toEqual({ sales_count: 2, stock: product!.stock - 2 });
    } finally {
      expect(await stopCli(child, 'SIGTERM', 45_000)).toBe(0);
    }
  }, 90_000);

  it('demo runs the pipeline, aggregates and verifies its metrics (twice on one database)', async () => {
    for (let run = 0; run < 2; run++) {
      const result = await runCli(
        ['demo', '--orders', '40', '--products', '8', '--users', '5', '--json'],
        ctx.env,
        90_000,
      );
      expect(result.code, result.stderr).toBe(0);
      const json = result.json;
      expect(json.verified).toBe(true);
      expect(json.mismatches).toEqual([]);
      // Payments went through a misbehaving simulator and were settled as it says (recover included).
      expect(json.paymentProblems).toEqual([]);
      expect(json.payments.payments).toBeGreaterThan(0);
      expect(json.payments.succeeded + json.payments.failed + json.payments.refunded).toBe(
        json.payments.payments,
      );
      expect(json.payments.recoverRuns).toBeGreaterThan(0);
      // A payment landed on an order already EXPIRED: charged by the simulator, refunded once (the
      // self-check: order EXPIRED, payment REFUNDED, the simulator's record, stock back, no points).
      expect(json.latePayments).toMatchObject({ charged: 1, refunded: 1 });
      expect(json.latePayments.orderId).toBeGreaterThan(0);
      expect(json.latePayments.sent).toBeGreaterThanOrEqual(1);
      expect(json.payments.refunded).toBeGreaterThanOrEqual(1);
      // Every user's points balance is the rule on their paid orders (each earns at least 10 points).
      expect(json.pointsProblems).toEqual([]);
      expect(json.points.points > 0).toBe(json.payments.succeeded > 0);
      // Orders left unpaid expired during the run (a 3 s window), their stock back (checked above).
      expect(json.traffic.expired).toBeGreaterThan(0);
      expect(json.pipeline.written).toBeGreaterThan(0);
      expect(json.pipeline.published).toBe(json.pipeline.written);
      expect(json.pipeline.consumed).toBe(json.pipeline.written);
      expect(json.pipeline.deadLettered).toBe(0); // payment events decode and are handled
      expect(json.pipeline.latencyMs.p50).toBeGreaterThanOrEqual(0);
      expect(json.liveTop10.length).toBeGreaterThan(0);
      expect(json.weekly.top10.length).toBeGreaterThan(0);
    }
  }, 120_000);

  it('demo refuses bad flags with exit 2 before doing anything', async () => {
    for (const args of [
      ['--users', '0'],
      ['--orders', 'x'],
      ['--duration', '5 minutes'],
    ]) {
      const result = await runCli(['demo', ...args], ctx.env);
      expect(result.code, args.join(' ')).toBe(2);
    }
  });

  it('demo exits 4 with a one-line error when PostgreSQL or Redis is unreachable', async () => {
    for (const [name, env] of [
      ['PostgreSQL', { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' }],
      ['Redis', { REDIS_URL: 'redis://127.0.0.1:1' }],
    ] as const) {
      const result = await runCli(['demo', '--orders', '5', '--json'], { ...ctx.env, ...env });
      expect(result.code, result.stderr).toBe(4);
      expect(result.json.error.message).toMatch(new RegExp(`^${name} is unavailable`));
    }
  }, 60_000);

  it('SIGTERM during the demo stops it as an interruption (exit 1), not as a failed check (exit 6)', async () => {
    const child = startCli(['demo', '--orders', '100000', '--duration', '60s'], {
      ...ctx.env,
      LOG_LEVEL: 'info',
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitForOutput(child, /traffic: orders/, 45_000);
    expect(await stopCli(child, 'SIGTERM', 45_000)).toBe(1);
    expect(stderr).toMatch(/Error: demo interrupted \(SIGTERM\); nothing was verified/);
  }, 90_000);
});
