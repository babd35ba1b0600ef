import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { startCli, stopCli, waitForOutput } from '../support/cli.js';
import { ADMIN_TOKEN, seedProduct, startApi } from '../support/api.js';
import { eventually } from '../support/wait.js';

describe('commerce api serve', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ topics: false });
  });
  afterAll(() => ctx?.close());

  it('serves on --port 0, reports health, readiness and metrics, and exits 0 on SIGTERM after flushing views', async () => {
    const child = startCli(['api', 'serve', '--port', '0'], { ...ctx.env, LOG_LEVEL: 'info', ADMIN_TOKEN });
    try {
      const line = await waitForOutput(child, /listening on http:\/\/127\.0\.0\.1:\d+/);
      const url = line.replace('listening on ', '');
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready', postgres: 'up', redis: 'up' });

      const auth = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
      const brand = (await (
        await fetch(`${url}/api/v1/brands`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({ name: 'cli' }),
        })
      ).json()) as { id: number };
      const product = (await (
        await fetch(`${url}/api/v1/products`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({ brandId: brand.id, name: 'served', price: 10 }),
        })
      ).json()) as { id: number };
      expect((await fetch(`${url}/api/v1/products/${product.id}`)).status).toBe(200);

      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(
        /http_requests_total\{method="GET",route="\/api\/v1\/products\/:id",status="200"/,
      );
      expect(metrics).toMatch(/http_request_duration_seconds_bucket/);
      expect(metrics).toMatch(/pg_pool_connections\{state="total"/);

      // The view interval is 1 s; SIGTERM right away must still flush it.
      expect(await stopCli(child, 'SIGTERM')).toBe(0);
      const { rows } = await ctx.pool.query(
        `SELECT payload->'payload' AS p FROM outbox_event WHERE event_type = 'ProductViewed' AND aggregate_id = $1`,
        [String(product.id)],
      );
      expect(rows.map((r) => r.p)).toEqual([{ productId: product.id, count: 1 }]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('refuses a bad --port with a usage error', async () => {
    const child = startCli(['api', 'serve', '--port', '70000'], ctx.env);
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
  });

  it('close() finishes an in-flight request before it resolves', async () => {
    const api = await startApi(ctx);
    const p = await seedProduct(api);
    // Hold the product's row lock so a like request is stuck inside its transaction.
    const blocker = await ctx.pool.connect();
    await blocker.query('BEGIN');
    await blocker.query('SELECT 1 FROM products WHERE id = $1 FOR UPDATE', [p.id]);
    const inFlight = api.call('POST', `/products/${p.id}/likes`, { user: 'late' });
    await eventually(async () => {
      const { rows } = await ctx.pool.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`,
      );
      return rows[0].n > 0;
    });
    let closed = false;
    const closing = api.close().then(() => (closed = true));
    // A window, not a wait: close() must still be waiting for the blocked request after it.
    await new Promise((r) => setTimeout(r, 200));
    expect(closed).toBe(false);
    await blocker.query('COMMIT');
    blocker.release();
    expect((await inFlight).status).toBe(200);
    await closing;
    const { rows } = await ctx.pool.query('SELECT like_count FROM products WHERE id = $1', [p.id]);
    expect(rows[0].like_count).toBe(1);
  });
});
