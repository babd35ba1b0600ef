import { describe, expect, it } from 'vitest';
import { lastOutboxId, outboxRows, seedProduct, useTestApi } from '../support/api.js';
import { runCli } from '../support/cli.js';
import { GATEWAY_SECRET } from '../support/gateway.js';
import { eventually } from '../support/wait.js';
import { signGatewayCallback } from '../../src/lib/payments/signature.js';

/**
 * Payments through a real, misbehaving simulator process: 30% of payment requests fail (500, hang,
 * reset), 20% of callbacks are lost, 10% are sent twice. Pay must answer 202, never charge twice,
 * and after one `payments recover` every payment is settled exactly as the gateway says.
 */
describe('payments through an unreliable gateway', () => {
  const s = useTestApi({
    gateway: [
      '--failure-rate',
      '0.3',
      '--callback-loss-rate',
      '0.2',
      '--callback-duplicate-rate',
      '0.1',
      '--settle-delay',
      '200ms-600ms',
      '--latency',
      '5ms-30ms',
      '--success-rate',
      '0.7',
    ],
    env: { GATEWAY_TIMEOUT: '300ms' },
  });

  const recoverEnv = () => ({
    ...s.ctx.env,
    GATEWAY_URL: s.gateway.url,
    GATEWAY_SECRET,
    GATEWAY_TIMEOUT: '300ms',
    PAYMENT_CALLBACK_URL: `${s.api.url}/api/v1/payments/callback`,
  });

  it('200 orders paid by concurrent clients (each twice at once): one payment each, none charged twice, all settled as the gateway says after one recover', async () => {
    const product = await seedProduct(s.api, { price: 1234, stock: 1000 });
    const orders: Array<{ id: number; user: string }> = [];
    const statuses: number[] = [];
    const clients = 10;
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        const user = `payer-${c}`;
        for (let i = 0; i < 200 / clients; i++) {
          const order = await s.api.call('POST', '/orders', {
            user,
            body: { items: [{ productId: product.id, quantity: 1 }] },
          });
          expect(order.status).toBe(201);
          orders.push({ id: order.body.id, user });
          // Two pay requests at once for the same order: one payment.
          const pays = await Promise.all([
            s.api.call('POST', `/orders/${order.body.id}/pay`, { user }),
            s.api.call('POST', `/orders/${order.body.id}/pay`, { user }),
          ]);
          statuses.push(...pays.map((p) => p.status));
          expect(pays[0]!.body.id).toBe(pays[1]!.body.id);
        }
      }),
    );
    expect(orders).toHaveLength(200);
    // Never a 5xx because of the gateway; a pay racing a callback that already paid the order is 409.
    expect(statuses.every((st) => st === 202 || st === 409)).toBe(true);
    const perOrder = await s.ctx.pool.query(
      `SELECT order_id, count(*)::int AS n FROM payments GROUP BY order_id`,
    );
    expect(perOrder.rows).toHaveLength(200);
    expect(perOrder.rows.every((r) => r.n === 1)).toBe(true);

    // Let the gateway settle what it has (its callbacks, some lost), then recover the rest. Settled
    // and every callback sent: each transaction's callback was lost or sent, duplicates sent twice.
    await eventually(async () => {
      const { transactions, callbacks } = await s.gateway.stats();
      return callbacks.lost + callbacks.sent >= transactions + callbacks.duplicated;
    }, 30_000);
    const recover = await runCli(
      ['payments', 'recover', '--older-than', '1ms', '--json'],
      recoverEnv(),
      120_000,
    );
    expect(recover.code, recover.stderr).toBe(0);
    expect(recover.json.unsettled).toBe(0);
    expect(recover.json.examined).toBeGreaterThan(0); // lost callbacks and failed requests left work
    // Resent payments settle by callback (or by a second run, if that callback is lost too).
    await eventually(
      async () => {
        const again = await runCli(
          ['payments', 'recover', '--older-than', '1ms', '--json'],
          recoverEnv(),
          120_000,
        );
        expect(again.code, again.stderr).toBe(0);
        const left = await s.ctx.pool.query(
          `SELECT count(*)::int AS n FROM payments WHERE status NOT IN ('SUCCEEDED', 'FAILED')`,
        );
        expect(left.rows[0].n).toBe(0);
        return true;
      },
      30_000,
      1000,
    );

    const payments = (
      await s.ctx.pool.query(
        `SELECT p.id, p.order_id, p.status, p.payment_key, o.status AS order_status FROM payments p JOIN orders o ON o.id = p.order_id`,
      )
    ).rows;
    const stats = await s.gateway.stats();
    expect(Object.values(stats.charges).every((n) => n === 1)).toBe(true);
    expect(stats.callbacks.lost).toBeGreaterThan(0);
    expect(stats.failuresInjected).toBeGreaterThan(0);
    const paid = await s.ctx.pool.query(
      `SELECT aggregate_id, count(*)::int AS n FROM outbox_event WHERE event_type = 'OrderPaid' GROUP BY aggregate_id`,
    );
    const paidCount = new Map(paid.rows.map((r) => [Number(r.aggregate_id), r.n]));
    for (const p of payments) {
      const truth = await s.gateway.byOrder(p.order_id);
      expect(truth).toHaveLength(1);
      expect(truth[0]!.paymentId).toBe(p.payment_key);
      expect(p.status).toBe(truth[0]!.status === 'SUCCESS' ? 'SUCCEEDED' : 'FAILED');
      expect(p.order_status).toBe(p.status === 'SUCCEEDED' ? 'PAID' : 'CREATED');
      expect(paidCount.get(p.order_id) ?? 0).toBe(p.status === 'SUCCEEDED' ? 1 : 0);
    }
    expect(payments.some((p) => p.status === 'FAILED')).toBe(true);
  }, 240_000);

  it('a FAILED payment leaves the order payable; history shows both payments', async () => {
    const failed = await s.ctx.pool.query(
      `SELECT p.order_id, o.user_id FROM payments p JOIN orders o ON o.id = p.order_id WHERE p.status = 'FAILED' LIMIT 1`,
    );
    const { order_id: orderId, user_id: user } = failed.rows[0];
    const again = await s.api.call('POST', `/orders/${orderId}/pay`, { user });
    expect(again.status).toBe(202);
    const history = await s.api.call('GET', `/orders/${orderId}/payments`, { user });
    expect(history.body.items.map((p: { status: string }) => p.status)[0]).toBe('FAILED');
    expect(history.body.items).toHaveLength(2);
  });

  it('forged and stale callbacks are 401 and change nothing; a duplicate or out-of-order valid one changes nothing', async () => {
    const product = await seedProduct(s.api, { price: 500, stock: 5 });
    const order = (
      await s.api.call('POST', '/orders', {
        user: 'cb',
        body: { items: [{ productId: product.id, quantity: 1 }] },
      })
    ).body;
    const { rows } = await s.ctx.pool.query(
      `INSERT INTO payments (order_id, amount, status) VALUES ($1, 500, 'PENDING') RETURNING payment_key`,
      [order.id],
    );
    const body = JSON.stringify({
      transactionKey: 'tx-forged',
      paymentId: rows[0].payment_key,
      orderId: order.id,
      amount: 500,
      status: 'SUCCESS',
      settledAt: new Date().toISOString(),
    });
    const send = (ts: number, signature: string, raw = body) =>
      s.api.call('POST', '/payments/callback', {
        raw,
        headers: { 'x-gateway-timestamp': String(ts), 'x-gateway-signature': signature },
      });
    const now = Math.floor(Date.now() / 1000);
    // This order's events only: the gateway simulator may still settle the earlier tests' payments now.
    const orderEvents = async (afterId: number) =>
      (await outboxRows(s.ctx, afterId)).filter(
        (r) => r.aggregate_type === 'order' && r.aggregate_id === String(order.id),
      );
    const mark = await lastOutboxId(s.ctx);
    const forged = await send(now, signGatewayCallback('not-the-secret', now, body));
    expect(forged.status).toBe(401);
    const stale = await send(now - 3600, signGatewayCallback(GATEWAY_SECRET, now - 3600, body));
    expect(stale.status).toBe(401);
    const tampered = await send(
      now,
      signGatewayCallback(GATEWAY_SECRET, now, body),
      body.replace('500', '5'),
    );
    expect(tampered.status).toBe(401);
    const unsigned = await s.api.call('POST', '/payments/callback', { raw: body });
    expect(unsigned.status).toBe(401);
    expect(await orderEvents(mark)).toEqual([]);
    expect(
      (await s.ctx.pool.query('SELECT status FROM payments WHERE order_id = $1', [order.id])).rows[0].status,
    ).toBe('PENDING');

    const valid = await send(now, signGatewayCallback(GATEWAY_SECRET, now, body));
    expect(valid.status).toBe(200);
    expect(valid.body.outcome).toBe('succeeded');
    const afterFirst = await lastOutboxId(s.ctx);
    const duplicate = await send(now, signGatewayCallback(GATEWAY_SECRET, now, body));
    expect(duplicate.body.outcome).toBe('unchanged');
    const lateFailed = body.replace('"SUCCESS"', '"FAILED"');
    const outOfOrder = await send(now, signGatewayCallback(GATEWAY_SECRET, now, lateFailed), lateFailed);
    expect(outOfOrder.body.outcome).toBe('unchanged');
    expect(await orderEvents(afterFirst)).toEqual([]);
    const final = await s.api.call('GET', `/orders/${order.id}`, { user: 'cb' });
    expect(final.body.status).toBe('PAID');
  });
});
