import { describe, expect, it } from 'vitest';
import { seedProduct, useTestApi } from '../support/api.js';
import { crashAt, runCli } from '../support/cli.js';
import { EXPIRY_PROBES } from '../../src/domain/orders/expiry.js';

/**
 * `orders expire` as operators run it (the real CLI), over orders placed through the API with a
 * 1-second payment window: a product sold out by unpaid carts is on sale again after one run;
 * --dry-run changes nothing; a run killed with SIGKILL mid-batch (inside its transaction) or between
 * batches is finished by the next run, nothing expired twice, nothing missed, the killed runs'
 * job_run rows closed as abandoned; an invalid ORDER_PAYMENT_TTL exits 3 naming it.
 */
describe('orders expire', () => {
  const s = useTestApi({ env: { ORDER_PAYMENT_TTL: '1s' } });
  const expire = (args: string[] = [], env: Record<string, string> = {}) =>
    runCli(['orders', 'expire', '--json', ...args], { ...s.ctx.env, ...env });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const place = async (user: string, productId: number, quantity = 1) => {
    const res = await s.api.call('POST', '/orders', { user, body: { items: [{ productId, quantity }] } });
    return res;
  };
  const stockOf = async (id: number) =>
    (await s.ctx.pool.query('SELECT stock FROM products WHERE id = $1', [id])).rows[0].stock as number;
  const expiredEvents = async () =>
    (
      await s.ctx.pool.query<{ id: string; n: number }>(
        `SELECT aggregate_id AS id, count(*)::int AS n FROM outbox_event WHERE event_type = 'OrderExpired' GROUP BY 1`,
      )
    ).rows;

  it('a product sold out by unpaid orders is on sale again after the run; --dry-run changes nothing', async () => {
    const product = await seedProduct(s.api, { price: 700, stock: 4 });
    const orders = [];
    for (let i = 0; i < 4; i++) {
      const res = await place(`cart-${i}`, product.id);
      expect(res.status).toBe(201);
      expect(Date.parse(res.body.expiresAt) - Date.parse(res.body.createdAt)).toBe(1000);
      orders.push(res.body);
    }
    expect((await place('late', product.id)).body.error.code).toBe('INSUFFICIENT_STOCK');
    // The detail is cached now: the run must evict it for the stock to show.
    expect((await s.api.call('GET', `/products/${product.id}`)).body.stock).toBe(0);
    await sleep(1100);

    const dry = await expire(['--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json).toMatchObject({ dryRun: true, jobRunId: null, expired: 4 });
    expect(dry.json.orders.map((o: { orderId: number }) => o.orderId)).toEqual(orders.map((o) => o.id));
    expect(await stockOf(product.id)).toBe(0);
    expect(await expiredEvents()).toEqual([]);
    expect((await s.ctx.pool.query(`SELECT count(*)::int AS n FROM job_run`)).rows[0].n).toBe(0);
    // Paying once the window closed is refused even before the job ran.
    const pay = await s.api.call('POST', `/orders/${orders[0].id}/pay`, { user: 'cart-0' });
    expect(pay.status).toBe(409);
    expect(pay.body.error.code).toBe('ORDER_EXPIRED');

    const run = await expire();
    expect(run.code, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ dryRun: false, expired: 4, waitingForPayment: 0, interrupted: false });
    expect(await stockOf(product.id)).toBe(4);
    expect((await s.api.call('GET', `/products/${product.id}`)).body.stock).toBe(4);
    const order = await s.api.call('GET', `/orders/${orders[1].id}`, { user: 'cart-1' });
    expect(order.body).toMatchObject({ status: 'EXPIRED', expiresAt: orders[1].expiresAt });
    expect(
      (await s.api.call('POST', `/orders/${orders[1].id}/pay`, { user: 'cart-1' })).body.error.code,
    ).toBe('ORDER_EXPIRED');
    expect(
      (await s.api.call('POST', `/orders/${orders[1].id}/cancel`, { user: 'cart-1' })).body.error.code,
    ).toBe('ORDER_EXPIRED');
    expect(await stockOf(product.id)).toBe(4);
    const late = await place('late', product.id);
    expect(late.status).toBe(201);
    // Not left due for the next test's batches.
    expect((await s.api.call('POST', `/orders/${late.body.id}/cancel`, { user: 'late' })).status).toBe(200);
  }, 120_000);

  it('killed mid-batch and between batches, then re-run: every due order expired once, stock exact, killed runs abandoned', async () => {
    const product = await seedProduct(s.api, { price: 100, stock: 1000 });
    const ids: number[] = [];
    for (let i = 0; i < 25; i++) ids.push((await place(`k-${i % 5}`, product.id, 1 + (i % 3))).body.id);
    const before = 1000;
    expect(await stockOf(product.id)).toBe(before - 49);
    const units = (
      await s.ctx.pool.query(
        `SELECT sum(quantity)::int AS n FROM order_items WHERE order_id = ANY($1::bigint[])`,
        [ids],
      )
    ).rows[0].n as number;
    await sleep(1100);
    const expiredCount = async () =>
      (
        await s.ctx.pool.query(
          `SELECT count(*)::int AS n FROM orders WHERE id = ANY($1) AND status = 'EXPIRED'`,
          [ids],
        )
      ).rows[0].n as number;

    // Killed right after its first batch committed: 5 expired, its job_run left RUNNING.
    const first = await expire(['--batch-size', '5'], crashAt(EXPIRY_PROBES.batchCommitted));
    expect(first.code).toBeNull();
    expect(await expiredCount()).toBe(5);
    // Killed inside its first batch's transaction: that batch rolls back.
    const second = await expire(['--batch-size', '5'], crashAt(EXPIRY_PROBES.batchClaimed));
    expect(second.code).toBeNull();
    expect(await expiredCount()).toBe(5);
    const runs = async () =>
      (
        await s.ctx.pool.query(
          `SELECT status, error FROM job_run WHERE job_name = 'orders-expire' ORDER BY id`,
        )
      ).rows;
    const third = await expire(['--batch-size', '5']);
    expect(third.code, third.stderr).toBe(0);
    expect(third.json.expired).toBe(20);
    expect(await expiredCount()).toBe(25);
    // Every unit the 25 orders took is back, once.
    expect(units).toBe(49);
    expect(await stockOf(product.id)).toBe(before);
    const events = new Map((await expiredEvents()).map((e) => [Number(e.id), e.n]));
    for (const id of ids) expect(events.get(id), `order ${id}`).toBe(1);
    const stockEvents = await s.ctx.pool.query(
      `SELECT count(*)::int AS n FROM outbox_event WHERE event_type = 'StockAdjusted'
         AND payload->'payload'->>'reason' = 'order-expired' AND (payload->'payload'->>'orderId')::bigint = ANY($1)`,
      [ids],
    );
    expect(stockEvents.rows[0].n).toBe(25);
    // The first test's run, then the two killed runs closed as abandoned by the next run, then this one.
    const all = await runs();
    expect(all.slice(-3)).toEqual([
      { status: 'FAILED', error: 'abandoned: the process running it died' },
      { status: 'FAILED', error: 'abandoned: the process running it died' },
      { status: 'SUCCEEDED', error: null },
    ]);
  }, 120_000);

  it('an invalid ORDER_PAYMENT_TTL or flag exits naming it, changing nothing', async () => {
    const bad = await expire([], { ORDER_PAYMENT_TTL: 'soon' });
    expect(bad.code).toBe(3);
    expect(bad.json.error.message).toMatch(/ORDER_PAYMENT_TTL/);
    const flag = await expire(['--batch-size', '0']);
    expect(flag.code).toBe(2);
    expect(flag.stderr + JSON.stringify(flag.json)).toMatch(/batch-size/);
  });
});
