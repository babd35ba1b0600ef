import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { eventually } from '../support/wait.js';
import { metricsRow, publish, startTestCollector } from '../support/collector.js';
import { createEvent, orderCreatedFromV1, type DomainEvent } from '../../src/lib/events/index.js';

const at = new Date('2024-05-01T10:00:00Z');
const product1: DomainEvent[] = [
  createEvent('ProductCreated', 1, 1, { productId: 1, brandId: 1, name: 'a', price: 500, stock: 10 }, at),
  createEvent('LikeChanged', 1, 2, { productId: 1, userId: 'u1', liked: true, likeCount: 1 }, at),
  createEvent('ProductViewed', 1, 3, { productId: 1, count: 5 }, at),
  createEvent(
    'StockAdjusted',
    1,
    4,
    { productId: 1, delta: -3, newStock: 7, reason: 'order', orderId: 100 },
    at,
  ),
  createEvent('LikeChanged', 1, 5, { productId: 1, userId: 'u2', liked: true, likeCount: 2 }, at),
];
const items100 = [
  { productId: 1, quantity: 3, unitPrice: 500 },
  { productId: 2, quantity: 1, unitPrice: 200 },
];
const items101 = [{ productId: 1, quantity: 1, unitPrice: 500 }];
const others: DomainEvent[] = [
  createEvent('ProductCreated', 2, 1, { productId: 2, brandId: 1, name: 'b', price: 200, stock: 1 }, at),
  createEvent(
    'StockAdjusted',
    2,
    2,
    { productId: 2, delta: -1, newStock: 0, reason: 'order', orderId: 100 },
    at,
  ),
  createEvent(
    'OrderCreated',
    100,
    1,
    orderCreatedFromV1({ orderId: 100, userId: 'u1', items: items100, totalAmount: 1700 }),
    at,
  ),
  createEvent('OrderPaid', 100, 2, { orderId: 100, userId: 'u1', paymentId: 1, amount: 1700 }, at),
  createEvent(
    'OrderCreated',
    101,
    1,
    orderCreatedFromV1({ orderId: 101, userId: 'u2', items: items101, totalAmount: 500 }),
    at,
  ),
  createEvent(
    'OrderCancelled',
    101,
    2,
    {
      orderId: 101,
      userId: 'u2',
      items: items101,
      totalAmount: 500,
      previousStatus: 'CREATED',
    },
    at,
  ),
];
const all = [...product1, ...others];

describe('collector: redelivery and out-of-order delivery', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx?.close());

  it('three deliveries, the first out of order for one product, leave the state of one in-order delivery', async () => {
    // First delivery: product 1's events newest first; then everything twice more, in order.
    await publish(ctx, [...[...product1].reverse(), ...others, ...all, ...all]);
    // One event per transaction, so the version guards in SQL (not only the in-batch fold) are exercised.
    const collector = await startTestCollector(ctx, { batchSize: 1 });
    try {
      await eventually(() => collector.stats.consumed + collector.stats.duplicates === 3 * all.length);
    } finally {
      await collector.stop();
    }
    expect(collector.stats).toMatchObject({
      consumed: all.length,
      duplicates: 2 * all.length,
      deadLettered: 0,
    });

    expect(await metricsRow(ctx, 1)).toEqual({
      view_count: 5,
      like_count: 2,
      like_version: 5,
      sales_count: 3, // 3 (order 100) + 1 (order 101) - 1 (101 cancelled)
      sales_amount: 1500,
      stock: 7,
      stock_version: 4,
    });
    expect(await metricsRow(ctx, 2)).toEqual({
      view_count: 0,
      like_count: 0,
      like_version: 0,
      sales_count: 1,
      sales_amount: 200,
      stock: 0,
      stock_version: 2,
    });
    const daily = await ctx.pool.query(
      `SELECT metric_date::text, product_id::int, view_count::int, like_count::int, sales_count::int,
              sales_amount::int FROM product_metrics_daily ORDER BY product_id`,
    );
    expect(daily.rows).toEqual([
      {
        metric_date: '2024-05-01',
        product_id: 1,
        view_count: 5,
        like_count: 2,
        sales_count: 3,
        sales_amount: 1500,
      },
      {
        metric_date: '2024-05-01',
        product_id: 2,
        view_count: 0,
        like_count: 0,
        sales_count: 1,
        sales_amount: 200,
      },
    ]);
    const log = await ctx.pool.query(`SELECT event_id::text, count(*)::int AS n FROM event_log GROUP BY 1`);
    expect(log.rows.length).toBe(all.length);
    expect(log.rows.every((r) => r.n === 1)).toBe(true);
    const audited = await ctx.pool.query(`SELECT topic, envelope FROM event_log WHERE event_id = $1`, [
      others[2]!.eventId,
    ]);
    expect(audited.rows[0]).toEqual({ topic: ctx.config.kafka.topics.order, envelope: others[2] });

    // 0.1 * 5 views + 0.2 * 2 likes + 0.7 * 3 units; product 2: 0.7 * 1 unit.
    const ranking = await ctx.redis.zrange('ranking:all:20240501', 0, -1, 'WITHSCORES');
    expect(ranking[0]).toBe('2');
    expect(Number(ranking[1])).toBeCloseTo(0.7, 9);
    expect(ranking[2]).toBe('1');
    expect(Number(ranking[3])).toBeCloseTo(3.0, 9);
    expect(await ctx.redis.ttl('ranking:all:20240501')).toBeGreaterThan(24 * 3600);
  });
});
