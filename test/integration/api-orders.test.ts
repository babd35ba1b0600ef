import { describe, expect, it } from 'vitest';
import { lastOutboxId, outboxRows, seedProduct, useTestApi } from '../support/api.js';
import { eventually } from '../support/wait.js';

describe('api: orders', () => {
  // A well-behaved gateway that settles every payment SUCCESS quickly: the order lifecycle, not faults
  // (test/integration/payments-*.test.ts cover those).
  const s = useTestApi({
    gateway: [
      '--failure-rate',
      '0',
      '--success-rate',
      '1',
      '--settle-delay',
      '100ms',
      '--latency',
      '5ms',
      '--callback-duplicate-rate',
      '0',
    ],
  });

  const stockOf = async (id: number) =>
    (await s.ctx.pool.query('SELECT stock FROM products WHERE id = $1', [id])).rows[0].stock as number;
  const counts = async () =>
    (
      await s.ctx.pool.query(
        `SELECT (SELECT count(*)::int FROM orders) AS orders, (SELECT count(*)::int FROM order_items) AS items,
                (SELECT count(*)::int FROM outbox_event) AS outbox`,
      )
    ).rows[0];

  it('creates an order with database prices, takes stock, and writes StockAdjusted per product + OrderCreated', async () => {
    const a = await seedProduct(s.api, { price: 1500, stock: 5 });
    const b = await seedProduct(s.api, { price: 200, stock: 3 });
    const before = await lastOutboxId(s.ctx);
    const res = await s.api.call('POST', '/orders', {
      user: 'u1',
      body: {
        items: [
          { productId: b.id, quantity: 2 },
          { productId: a.id, quantity: 1 },
        ],
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ userId: 'u1', status: 'CREATED', totalAmount: 1900 });
    expect(res.body.items).toEqual([
      { productId: a.id, quantity: 1, unitPrice: 1500 },
      { productId: b.id, quantity: 2, unitPrice: 200 },
    ]);
    expect([await stockOf(a.id), await stockOf(b.id)]).toEqual([4, 1]);
    const rows = await outboxRows(s.ctx, before);
    expect(
      rows.map((r) => [r.event_type, r.aggregate_id, r.aggregate_version, r.topic, r.partition_key]),
    ).toEqual([
      ['StockAdjusted', String(a.id), 2, s.ctx.config.kafka.topics.catalog, String(a.id)],
      ['StockAdjusted', String(b.id), 2, s.ctx.config.kafka.topics.catalog, String(b.id)],
      ['OrderCreated', String(res.body.id), 1, s.ctx.config.kafka.topics.order, String(res.body.id)],
    ]);
    expect(rows[1]!.payload.payload).toMatchObject({
      delta: -2,
      newStock: 1,
      reason: 'order',
      orderId: res.body.id,
    });
    expect(rows[2]!.payload.payload).toMatchObject({ totalAmount: 1900, userId: 'u1' });
  });

  it('refuses bad orders with a clear error and changes nothing', async () => {
    const p = await seedProduct(s.api, { stock: 2 });
    const before = await counts();
    const cases: Array<[unknown, number, string, RegExp]> = [
      [
        {
          items: [
            { productId: p.id, quantity: 1 },
            { productId: 999999, quantity: 1 },
          ],
        },
        422,
        'UNKNOWN_PRODUCT',
        /999999/,
      ],
      [{ items: [{ productId: p.id, quantity: 0 }] }, 400, 'VALIDATION_FAILED', /items\.0\.quantity/],
      [
        { items: [{ productId: p.id, quantity: 3 }] },
        409,
        'INSUFFICIENT_STOCK',
        new RegExp(`product ${p.id}`),
      ],
      [{ items: [] }, 400, 'VALIDATION_FAILED', /^items:/],
      [
        {
          items: [
            { productId: p.id, quantity: 1 },
            { productId: p.id, quantity: 1 },
          ],
        },
        400,
        'VALIDATION_FAILED',
        /twice/,
      ],
    ];
    for (const [body, status, code, message] of cases) {
      const res = await s.api.call('POST', '/orders', { user: 'u2', body });
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect(res.body.error.message).toMatch(message);
    }
    const noUser = await s.api.call('POST', '/orders', {
      body: { items: [{ productId: p.id, quantity: 1 }] },
    });
    expect(noUser.status).toBe(401);
    expect(await counts()).toEqual(before);
    expect(await stockOf(p.id)).toBe(2);
  });

  it('never oversells: 50 concurrent orders for a product with stock 10 sell exactly 10', async () => {
    const p = await seedProduct(s.api, { stock: 10 });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        s.api.call('POST', '/orders', {
          user: `buyer-${i}`,
          body: { items: [{ productId: p.id, quantity: 1 }] },
        }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.filter((s) => s === 409)).toHaveLength(40);
    expect(await stockOf(p.id)).toBe(0);
    const { rows } = await s.ctx.pool.query(
      `SELECT count(*)::int AS n FROM outbox_event WHERE event_type = 'StockAdjusted' AND aggregate_id = $1`,
      [String(p.id)],
    );
    expect(rows[0].n).toBe(10);
    // Versions of the product's events form one gap-free sequence: creation, then ten sales.
    const versions = await s.ctx.pool.query(
      `SELECT aggregate_version AS v FROM outbox_event WHERE aggregate_id = $1 AND aggregate_type = 'product' ORDER BY v`,
      [String(p.id)],
    );
    expect(versions.rows.map((r) => Number(r.v))).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
  });

  it('concurrent two-product orders: one short product rolls back the other, nothing half-applied', async () => {
    const scarce = await seedProduct(s.api, { stock: 5 });
    const plenty = await seedProduct(s.api, { stock: 100 });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        s.api.call('POST', '/orders', {
          user: `pair-${i}`,
          // Half the orders list the products the other way round: the lock order must not depend on it.
          body: {
            items:
              i % 2 === 0
                ? [
                    { productId: scarce.id, quantity: 1 },
                    { productId: plenty.id, quantity: 2 },
                  ]
                : [
                    { productId: plenty.id, quantity: 2 },
                    { productId: scarce.id, quantity: 1 },
                  ],
          },
        }),
      ),
    );
    const refused = results.filter((r) => r.status === 409);
    expect(results.filter((r) => r.status === 201)).toHaveLength(5);
    expect(refused).toHaveLength(15);
    for (const r of refused) expect(r.body.error.message).toContain(`product ${scarce.id} `);
    expect(await stockOf(scarce.id)).toBe(0);
    expect(await stockOf(plenty.id)).toBe(90);
    const { rows } = await s.ctx.pool.query(
      `SELECT aggregate_id, count(*)::int AS n FROM outbox_event
        WHERE event_type = 'StockAdjusted' AND aggregate_id = ANY($1) GROUP BY aggregate_id ORDER BY aggregate_id`,
      [[String(scarce.id), String(plenty.id)]],
    );
    expect(rows).toEqual(
      [String(scarce.id), String(plenty.id)].sort().map((id) => ({ aggregate_id: id, n: 5 })),
    );
  });

  it('an Idempotency-Key retry (sequential and concurrent) returns the first order and creates one', async () => {
    const p = await seedProduct(s.api, { stock: 10 });
    const body = { items: [{ productId: p.id, quantity: 1 }] };
    const headers = { 'idempotency-key': 'key-1' };
    const first = await s.api.call('POST', '/orders', { user: 'u3', body, headers });
    const again = await s.api.call('POST', '/orders', { user: 'u3', body, headers });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const burst = await Promise.all(
      Array.from({ length: 8 }, () =>
        s.api.call('POST', '/orders', { user: 'u3', body, headers: { 'idempotency-key': 'key-2' } }),
      ),
    );
    expect(burst.filter((r) => r.status === 201)).toHaveLength(1);
    expect(new Set(burst.map((r) => r.body.id)).size).toBe(1);
    const other = await s.api.call('POST', '/orders', {
      user: 'u3',
      body: { items: [{ productId: p.id, quantity: 2 }] },
      headers,
    });
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    // The same key from another user is another request.
    const otherUser = await s.api.call('POST', '/orders', { user: 'u4', body, headers });
    expect(otherUser.status).toBe(201);
    expect(await stockOf(p.id)).toBe(7);
    const { rows } = await s.ctx.pool.query(`SELECT count(*)::int AS n FROM orders WHERE user_id = 'u3'`);
    expect(rows[0].n).toBe(2);
  });

  it('pays once, cancels with stock restored, and refuses paying a cancelled order', async () => {
    const p = await seedProduct(s.api, { price: 700, stock: 4 });
    const order = (
      await s.api.call('POST', '/orders', { user: 'u5', body: { items: [{ productId: p.id, quantity: 3 }] } })
    ).body;
    let mark = await lastOutboxId(s.ctx);
    // 202: accepted by the gateway (PENDING), not paid yet; the signed callback makes the order PAID.
    const paid = await s.api.call('POST', `/orders/${order.id}/pay`, { user: 'u5' });
    expect(paid.status).toBe(202);
    expect(paid.body).toMatchObject({ orderId: order.id, amount: 2100, status: 'PENDING' });
    await eventually(async () => {
      const now = await s.api.call('GET', `/orders/${order.id}`, { user: 'u5' });
      expect(now.body.status).toBe('PAID');
      return true;
    });
    let rows = await outboxRows(s.ctx, mark);
    expect(rows.map((r) => [r.event_type, r.aggregate_id, r.aggregate_version])).toEqual([
      ['PaymentRequested', String(order.id), 2],
      ['OrderPaid', String(order.id), 3],
    ]);
    expect(rows[1]!.payload.payload).toMatchObject({ amount: 2100, userId: 'u5', paymentId: paid.body.id });
    const history = await s.api.call('GET', `/orders/${order.id}/payments`, { user: 'u5' });
    expect(history.body.items).toMatchObject([{ id: paid.body.id, status: 'SUCCEEDED', amount: 2100 }]);

    mark = await lastOutboxId(s.ctx);
    const twice = await s.api.call('POST', `/orders/${order.id}/pay`, { user: 'u5' });
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('ORDER_ALREADY_PAID');
    expect(await outboxRows(s.ctx, mark)).toEqual([]);

    const cancelled = await s.api.call('POST', `/orders/${order.id}/cancel`, { user: 'u5' });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('CANCELLED');
    expect(await stockOf(p.id)).toBe(4);
    rows = await outboxRows(s.ctx, mark);
    // The refund went through the gateway after the cancellation committed.
    expect(rows.map((r) => [r.event_type, r.aggregate_id, r.aggregate_version])).toEqual([
      ['StockAdjusted', String(p.id), 3],
      ['OrderCancelled', String(order.id), 4],
      ['PaymentRefunded', String(order.id), 5],
    ]);
    expect(rows[0]!.payload.payload).toMatchObject({ delta: 3, newStock: 4, reason: 'order-cancelled' });
    expect(rows[1]!.payload.payload).toMatchObject({ previousStatus: 'PAID' });
    const payment = await s.ctx.pool.query('SELECT status FROM payments WHERE order_id = $1', [order.id]);
    expect(payment.rows[0].status).toBe('REFUNDED');
    expect((await s.gateway.byOrder(order.id)).map((t) => t.status)).toEqual(['REFUNDED']);

    mark = await lastOutboxId(s.ctx);
    const payCancelled = await s.api.call('POST', `/orders/${order.id}/pay`, { user: 'u5' });
    expect(payCancelled.status).toBe(409);
    expect(payCancelled.body.error.code).toBe('ORDER_CANCELLED');
    const cancelAgain = await s.api.call('POST', `/orders/${order.id}/cancel`, { user: 'u5' });
    expect(cancelAgain.status).toBe(409);
    expect(await outboxRows(s.ctx, mark)).toEqual([]);
    expect(await stockOf(p.id)).toBe(4);
  });

  it("reads a user's own orders only", async () => {
    const p = await seedProduct(s.api, { stock: 5 });
    const order = (
      await s.api.call('POST', '/orders', { user: 'u6', body: { items: [{ productId: p.id, quantity: 1 }] } })
    ).body;
    const mine = await s.api.call('GET', `/orders/${order.id}`, { user: 'u6' });
    expect(mine.status).toBe(200);
    expect(mine.body).toEqual(order);
    const theirs = await s.api.call('GET', `/orders/${order.id}`, { user: 'someone-else' });
    expect(theirs.status).toBe(404);
    expect(theirs.body.error.code).toBe('NOT_FOUND');
    const list = await s.api.call('GET', '/orders?size=10', { user: 'u6' });
    expect(list.body).toMatchObject({ total: 1, page: 1, size: 10 });
    expect(list.body.items[0].id).toBe(order.id);
    const payOther = await s.api.call('POST', `/orders/${order.id}/pay`, { user: 'someone-else' });
    expect(payOther.status).toBe(404);
  });
});
