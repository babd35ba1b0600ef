import { createEvent, orderCreatedFromV1, type DomainEvent } from '../../src/lib/events/index.js';
import { productCacheKeys } from '../../src/lib/cache/product-cache.js';
import { dailyRankingKey } from '../../src/lib/ranking/score.js';
import { compactDate } from '../../src/lib/time/dates.js';
import type { TestContext } from './context.js';
import { committedOffsets, endOffsets } from './collector.js';

/**
 * One scenario's events: three products (created, viewed, liked, sold out, unliked, viewed again)
 * and two orders (one paid, one cancelled), all on `day`, with ids offset by `base` so scenarios in
 * one database never share a product, an order or a ranking day, and can be compared with each other.
 */
export function scenarioEvents(base: number, day: string): DomainEvent[] {
  const at = new Date(`${day}T10:00:00Z`);
  const events: DomainEvent[] = [];
  for (let i = 1; i <= 3; i++) {
    const p = base + i;
    let v = 0;
    events.push(
      createEvent(
        'ProductCreated',
        p,
        ++v,
        { productId: p, brandId: 1, name: `p${i}`, price: 100 * i, stock: 10 },
        at,
      ),
      createEvent('ProductViewed', p, ++v, { productId: p, count: 3 * i }, at),
      createEvent('LikeChanged', p, ++v, { productId: p, userId: 'u1', liked: true, likeCount: 1 }, at),
      createEvent(
        'StockAdjusted',
        p,
        ++v,
        { productId: p, delta: -10, newStock: 0, reason: 'order', orderId: base },
        at,
      ),
      createEvent('LikeChanged', p, ++v, { productId: p, userId: 'u1', liked: false, likeCount: 0 }, at),
    );
    for (let k = 0; k < 10; k++)
      events.push(createEvent('ProductViewed', p, ++v, { productId: p, count: 1 }, at));
  }
  const items = [
    { productId: base + 1, quantity: 2, unitPrice: 100 },
    { productId: base + 2, quantity: 1, unitPrice: 200 },
  ];
  const cancelled = [{ productId: base + 3, quantity: 4, unitPrice: 300 }];
  const o1 = base + 100;
  const o2 = base + 101;
  events.push(
    createEvent(
      'OrderCreated',
      o1,
      1,
      orderCreatedFromV1({ orderId: o1, userId: 'u1', items, totalAmount: 400 }),
      at,
    ),
    createEvent('OrderPaid', o1, 2, { orderId: o1, userId: 'u1', paymentId: o1, amount: 400 }, at),
    createEvent(
      'OrderCreated',
      o2,
      1,
      orderCreatedFromV1({ orderId: o2, userId: 'u2', items: cancelled, totalAmount: 1200 }),
      at,
    ),
    createEvent(
      'OrderCancelled',
      o2,
      2,
      { orderId: o2, userId: 'u2', items: cancelled, totalAmount: 1200, previousStatus: 'CREATED' },
      at,
    ),
  );
  return events;
}

/** Caches the three products' details, so the cache handler's evictions can be seen. */
export async function seedCache(ctx: TestContext, base: number): Promise<void> {
  for (let i = 1; i <= 3; i++) await ctx.redis.set(productCacheKeys.detail(base + i), '{}');
}

/**
 * Every effect of a scenario, product ids relative to `base` so two scenarios compare: metrics
 * (total and daily), audit rows and marks per handler (count and distinct events), the points ledger
 * of its orders, the live ranking of the day, and which cached details are left.
 */
export async function effectsOf(ctx: TestContext, base: number, day: string, events: DomainEvent[]) {
  const ids = events.map((e) => e.eventId);
  const q = async (text: string, values: unknown[]) => (await ctx.pool.query(text, values)).rows;
  const ranking = await ctx.redis.zrange(dailyRankingKey(compactDate(day)), 0, -1, 'WITHSCORES');
  const scores: Record<string, number> = {};
  for (let i = 0; i < ranking.length; i += 2)
    scores[String(Number(ranking[i]) - base)] = Math.round(Number(ranking[i + 1]) * 1e6) / 1e6;
  const cached: number[] = [];
  for (let i = 1; i <= 3; i++) if (await ctx.redis.exists(productCacheKeys.detail(base + i))) cached.push(i);
  return {
    metrics: await q(
      `SELECT product_id - $1 AS product, view_count::int, like_count::int, like_version::int,
              sales_count::int, sales_amount::int, stock, stock_version::int
         FROM product_metrics WHERE product_id BETWEEN $1 AND $1 + 99 ORDER BY 1`,
      [base],
    ),
    daily: await q(
      `SELECT metric_date::text = $2 AS on_day, product_id - $1 AS product, view_count::int,
              like_count::int, sales_count::int, sales_amount::int
         FROM product_metrics_daily WHERE product_id BETWEEN $1 AND $1 + 99 ORDER BY 2`,
      [base, day],
    ),
    audit: (
      await q(
        `SELECT count(*)::int AS rows, count(DISTINCT event_id)::int AS events
           FROM event_log WHERE event_id = ANY($1::uuid[])`,
        [ids],
      )
    )[0],
    marks: await q(
      // One entry per (event, handler) in the event's inbox row; a handler twice would count twice.
      `SELECT handler, count(*)::int AS rows, count(DISTINCT event_id)::int AS events
         FROM event_inbox, unnest(handlers) AS handler
        WHERE event_id = ANY($1::uuid[]) AND handler <> 'audit' GROUP BY 1 ORDER BY 1`,
      [ids],
    ),
    // Loyalty points of the scenario's orders (user balances are shared by every scenario).
    points: await q(
      `SELECT order_id - $1 AS order, reason, delta::int FROM points_ledger
        WHERE order_id BETWEEN $1 AND $1 + 999 ORDER BY 1, 2`,
      [base],
    ),
    ranking: scores,
    cached,
  };
}

/** True when the group has committed, on every partition of the event topics, up to the end. */
export async function caughtUp(ctx: TestContext, groupId: string): Promise<boolean> {
  for (const topic of Object.values(ctx.config.kafka.topics)) {
    const [committed, end] = [await committedOffsets(ctx, groupId, topic), await endOffsets(ctx, topic)];
    if (!committed.every((c, i) => c === end[i] || end[i] === 0)) return false;
  }
  return true;
}

/** The group's total lag on the event topics (a partition never committed counts from 0). */
export async function groupLag(ctx: TestContext, groupId: string): Promise<number> {
  let lag = 0;
  for (const topic of Object.values(ctx.config.kafka.topics)) {
    const [committed, end] = [await committedOffsets(ctx, groupId, topic), await endOffsets(ctx, topic)];
    end.forEach((e, i) => (lag += e - Math.max(committed[i]!, 0)));
  }
  return lag;
}
