import { sql } from '../../lib/db/query.js';

/**
 * The demo's statements. Its events are the outbox rows written since it started (id above the
 * watermark taken before seeding); these measure how far the pipeline has carried them.
 */
export const selectOutboxWatermark = () =>
  sql('demo.select-outbox-watermark', `SELECT coalesce(max(id), 0)::bigint AS id FROM outbox_event`);

// "Consumed" = the metrics handler's mark (the demo's collector runs the default handlers), whichever
// group wrote it: marks belong to handlers, not groups.
export const selectProgress = (watermark: string) =>
  sql(
    'demo.select-progress',
    `SELECT count(*)::int AS written,
            count(*) FILTER (WHERE o.status = 'PENDING')::int AS pending,
            count(*) FILTER (WHERE o.status = 'PUBLISHED')::int AS published,
            count(*) FILTER (WHERE o.status = 'FAILED')::int AS failed,
            count(h.event_id)::int AS consumed
       FROM outbox_event o
       LEFT JOIN event_inbox h ON h.event_id = o.event_id AND 'metrics' = ANY (h.handlers)
      WHERE o.id > $1`,
    [watermark],
  );

/** Commit (outbox created_at) to effect (event_log received_at, the collector's transaction). */
export const selectLatency = (watermark: string) =>
  sql(
    'demo.select-latency',
    `SELECT percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY ms) AS p
       FROM (SELECT extract(epoch FROM l.received_at - o.created_at) * 1000 AS ms
               FROM outbox_event o
               JOIN event_log l ON l.event_id = o.event_id
              WHERE o.id > $1) t`,
    [watermark],
  );

export const selectWeeklyTop = (periodStart: string, productIds: number[]) =>
  sql(
    'demo.select-weekly-top',
    `SELECT w.rank, w.product_id::int AS "productId", p.name, w.score
       FROM mv_product_rank_weekly w JOIN products p ON p.id = w.product_id
      WHERE w.period_start = $1::date AND w.product_id = ANY($2::bigint[])
      ORDER BY w.rank LIMIT 10`,
    [periodStart, productIds],
  );

export const selectMetrics = (productIds: number[]) =>
  sql(
    'demo.select-metrics',
    `SELECT product_id::int AS "productId", view_count::int AS "viewCount", like_count::int AS "likeCount",
            sales_count::int AS "salesCount", sales_amount::bigint AS "salesAmount", stock
       FROM product_metrics WHERE product_id = ANY($1::bigint[])`,
    [productIds],
  );

/** The payments of the demo's users (user ids start with the run's prefix), with their OrderPaid count. */
export const selectDemoPayments = (userPrefix: string) =>
  sql(
    'demo.select-demo-payments',
    `SELECT p.id, p.order_id, p.status, p.payment_key, o.status AS order_status,
            (SELECT count(*)::int FROM outbox_event e
              WHERE e.aggregate_type = 'order' AND e.aggregate_id = p.order_id::text
                AND e.event_type = 'OrderPaid') AS order_paid_events
       FROM payments p JOIN orders o ON o.id = p.order_id
      WHERE o.user_id LIKE $1 || '%'`,
    [userPrefix],
  );

/** How long until this run's last unpaid order reaches its deadline (0 when none is left or all have). */
export const selectDemoLastDeadline = (userPrefix: string) =>
  sql(
    'demo.select-demo-last-deadline',
    `SELECT coalesce(greatest(0, extract(epoch FROM max(expires_at) - now()) * 1000), 0)::int AS wait_ms
       FROM orders WHERE user_id LIKE $1 || '%' AND status = 'CREATED'`,
    [userPrefix],
  );

/** This run's orders by final status, with their items (the expired ones go into the ledger). */
export const selectDemoOrders = (userPrefix: string) =>
  sql(
    'demo.select-demo-orders',
    `SELECT o.id, o.status, o.expires_at <= now() AS past_deadline,
            (SELECT json_agg(json_build_object('productId', i.product_id, 'quantity', i.quantity,
               'unitPrice', i.unit_price)) FROM order_items i WHERE i.order_id = o.id) AS items,
            (SELECT count(*)::int FROM outbox_event e WHERE e.aggregate_type = 'order'
                AND e.aggregate_id = o.id::text AND e.event_type = 'OrderExpired') AS expired_events
       FROM orders o WHERE o.user_id LIKE $1 || '%'`,
    [userPrefix],
  );

/**
 * This run's users' loyalty points: what the rule gives on their PAID orders (SUCCEEDED payments, at
 * `rateBasisPoints`), the balance the points handler wrote, and its ledger entries summed.
 */
export const selectDemoPoints = (userPrefix: string, rateBasisPoints: number) =>
  sql(
    'demo.select-demo-points',
    `WITH expected AS (
       SELECT o.user_id, sum(p.amount * $2::bigint / 10000) AS points
         FROM orders o JOIN payments p ON p.order_id = o.id AND p.status = 'SUCCEEDED'
        WHERE o.user_id LIKE $1 || '%' AND o.status = 'PAID' GROUP BY o.user_id
     ), ledger AS (
       SELECT user_id, sum(delta) AS points, count(*) AS entries FROM points_ledger
        WHERE user_id LIKE $1 || '%' GROUP BY user_id
     ), users AS (
       SELECT user_id FROM expected UNION SELECT user_id FROM ledger
       UNION SELECT user_id FROM points_balances WHERE user_id LIKE $1 || '%'
     )
     SELECT u.user_id, coalesce(e.points, 0)::bigint::text AS expected, coalesce(b.balance, 0)::text AS balance,
            coalesce(l.points, 0)::text AS ledger, coalesce(l.entries, 0)::int AS entries
       FROM users u LEFT JOIN expected e USING (user_id) LEFT JOIN ledger l USING (user_id)
       LEFT JOIN points_balances b USING (user_id)
      ORDER BY u.user_id`,
    [userPrefix, rateBasisPoints],
  );

/** The late payment's order: its state and what a payment of it costs. */
export const selectLateOrder = (orderId: number) =>
  sql(
    'demo.select-late-order',
    `SELECT id::int, status, total_amount::int AS total_amount FROM orders WHERE id = $1`,
    [orderId],
  );

/**
 * What the late payment's order left behind: its events by type, the stock moves it caused on its
 * product summed (taken, then given back by the expiry: 0), and its loyalty points entries (the
 * refund of a never-paid order: one entry of 0).
 */
export const selectLateTrail = (orderId: number, productId: number) =>
  sql(
    'demo.select-late-trail',
    `WITH events AS (
       SELECT event_type FROM outbox_event WHERE aggregate_type = 'order' AND aggregate_id = $1::text
     ), stock AS (
       SELECT (payload->'payload'->>'delta')::int AS delta FROM outbox_event
        WHERE aggregate_type = 'product' AND aggregate_id = $2::text AND event_type = 'StockAdjusted'
          AND payload->'payload'->>'orderId' = $1::text
     )
     SELECT (SELECT count(*) FILTER (WHERE event_type = 'OrderPaid')::int FROM events) AS order_paid,
            (SELECT count(*) FILTER (WHERE event_type = 'PaymentRefunded')::int FROM events) AS payment_refunded,
            (SELECT count(*) FILTER (WHERE event_type = 'OrderExpired')::int FROM events) AS order_expired,
            (SELECT count(*)::int FROM stock) AS stock_moves,
            (SELECT coalesce(sum(delta), 0)::int FROM stock) AS stock_delta,
            (SELECT count(*)::int FROM points_ledger WHERE order_id = $1::bigint) AS points_entries,
            (SELECT coalesce(sum(delta), 0)::int FROM points_ledger WHERE order_id = $1::bigint) AS points`,
    [orderId, productId],
  );
