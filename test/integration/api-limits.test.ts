import { describe, expect, it } from 'vitest';
import { lastOutboxId, outboxRows, seedProduct, useTestApi } from '../support/api.js';

// Values at the edges of the columns: a clear 422 and nothing written, never a 500.
describe('api: numbers at the limits of their columns', () => {
  const s = useTestApi();

  it('stock beyond the integer column is refused (422) and nothing changes', async () => {
    const p = await seedProduct(s.api, { stock: 2_000_000_000 });
    const before = await lastOutboxId(s.ctx);
    const res = await s.api.call('POST', `/products/${p.id}/stock`, {
      admin: true,
      body: { delta: 2_000_000_000, reason: 'too much' },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('STOCK_OUT_OF_RANGE');
    const { rows } = await s.ctx.pool.query('SELECT stock FROM products WHERE id = $1', [p.id]);
    expect(rows[0].stock).toBe(2_000_000_000);
    expect(await outboxRows(s.ctx, before)).toEqual([]);
  });

  it('an order whose total cannot be represented exactly is refused (422): no order, no stock taken', async () => {
    const p = await seedProduct(s.api, { price: 4_000_000_000_000_000, stock: 100 });
    const before = await lastOutboxId(s.ctx);
    const res = await s.api.call('POST', '/orders', {
      user: 'u-limits',
      body: { items: [{ productId: p.id, quantity: 10 }] },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('ORDER_TOO_LARGE');
    const { rows } = await s.ctx.pool.query(
      `SELECT (SELECT stock FROM products WHERE id = $1) AS stock, (SELECT count(*)::int FROM orders) AS orders`,
      [p.id],
    );
    expect(rows[0]).toEqual({ stock: 100, orders: 0 });
    expect(await outboxRows(s.ctx, before)).toEqual([]);
  });
});
