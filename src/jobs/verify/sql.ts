import { sql, type Sql } from '../../lib/db/query.js';
import { ENVELOPE_PRODUCTS, METRICS_CUTOFF, metricsApplied } from '../../domain/metrics/event-log.js';

/**
 * The read-only statements of `commerce verify`: each read model next to its source of truth.
 * Run in one REPEATABLE READ snapshot, so "in flight" and "the values compared" describe one instant.
 */

/**
 * Products with an event in flight: not yet published (PENDING, or FAILED awaiting `outbox retry`),
 * published but not yet handled by the metrics handler, audited but not yet handled by it, or
 * handled by it but not yet audited (another group's audit handler behind). Their read models may
 * legitimately lag their domain tables, so they are not compared. One row per (reason, product).
 */
export function selectInFlightProducts(): Sql {
  return sql(
    'verify.select-in-flight-products',
    `WITH events AS (
       SELECT 'unpublished' AS reason, o.payload AS env FROM outbox_event o WHERE o.status <> 'PUBLISHED'
       UNION ALL
       SELECT 'not-collected', o.payload FROM outbox_event o, ${METRICS_CUTOFF}
        WHERE o.status = 'PUBLISHED' AND o.published_at >= cutoff.t
          AND NOT EXISTS (SELECT 1 FROM event_inbox h WHERE h.event_id = o.event_id AND ${metricsApplied('h')})
       UNION ALL
       SELECT 'not-collected', l.envelope::jsonb FROM event_inbox l, ${METRICS_CUTOFF}
        WHERE 'audit' = ANY (l.handlers) AND l.received_at >= cutoff.t AND NOT ${metricsApplied('l')}
       UNION ALL
       SELECT 'not-audited', o.payload FROM event_inbox h JOIN outbox_event o USING (event_id)
        WHERE ${metricsApplied('h')} AND NOT ('audit' = ANY (h.handlers))
     )
     SELECT DISTINCT e.reason, p.product_id::text AS product_id
       FROM events e, LATERAL (${ENVELOPE_PRODUCTS}) AS p`,
  );
}

/**
 * Per product, the metrics row beside what its sources say: likes rows, products.stock, order items
 * of orders neither cancelled nor expired, the ProductViewed events in event_log, and the daily rows summed.
 * `since` (a date in `timeZone`) keeps products with an event since then; `ids` keeps those products. Ordered, for a cursor.
 */
export function selectProductChecks(ids: number[] | null, since: string | null, timeZone: string): Sql {
  return sql(
    'verify.select-product-checks',
    `WITH recent AS (
       SELECT DISTINCT p.product_id FROM event_log l, LATERAL (SELECT l.envelope::jsonb) AS x(env),
              LATERAL (${ENVELOPE_PRODUCTS}) AS p
        WHERE $2::date IS NOT NULL AND l.occurred_at >= ($2::date::timestamp AT TIME ZONE $3::text)
     ),
     likes_n AS (SELECT product_id, count(*) AS n FROM likes GROUP BY product_id),
     sold AS (
       SELECT i.product_id, sum(i.quantity) AS units, sum(i.quantity * i.unit_price) AS amount
         FROM order_items i JOIN orders o ON o.id = i.order_id
        WHERE o.status NOT IN ('CANCELLED', 'EXPIRED') GROUP BY i.product_id
     ),
     viewed AS (
       SELECT (envelope->'payload'->>'productId')::bigint AS product_id,
              sum((envelope->'payload'->>'count')::bigint) AS views
         FROM event_log WHERE event_type = 'ProductViewed' GROUP BY 1
     ),
     daily AS (
       SELECT product_id, sum(view_count) AS views, sum(like_count) AS likes,
              sum(sales_count) AS units, sum(sales_amount) AS amount
         FROM product_metrics_daily GROUP BY product_id
     )
     SELECT p.id::text AS product_id, m.product_id IS NOT NULL AS has_metrics,
            m.like_count::text, m.stock, m.sales_count::text, m.sales_amount::text, m.view_count::text,
            p.stock AS expected_stock, coalesce(l.n, 0)::text AS expected_likes,
            coalesce(s.units, 0)::text AS expected_units, coalesce(s.amount, 0)::text AS expected_amount,
            coalesce(v.views, 0)::text AS expected_views,
            coalesce(d.views, 0)::text AS daily_views, coalesce(d.likes, 0)::text AS daily_likes,
            coalesce(d.units, 0)::text AS daily_units, coalesce(d.amount, 0)::text AS daily_amount
       FROM products p
       LEFT JOIN product_metrics m ON m.product_id = p.id
       LEFT JOIN likes_n l ON l.product_id = p.id
       LEFT JOIN sold s ON s.product_id = p.id
       LEFT JOIN viewed v ON v.product_id = p.id
       LEFT JOIN daily d ON d.product_id = p.id
      WHERE ($1::bigint[] IS NULL OR p.id = ANY($1::bigint[]))
        AND ($2::date IS NULL OR p.id IN (SELECT product_id FROM recent))
      ORDER BY p.id`,
    [ids, since, timeZone],
  );
}

/**
 * A day's expected live ranking by the score rule: views, net likes and units of the day's daily
 * rows times the weights, plus, when the day was seeded by carry-over, the previous day's times
 * `carryWeight`. With `ids`, exactly those products (0 for one without rows); else every product
 * with a row. `has_rows` says whether the product has daily rows for these days.
 */
export function selectExpectedRanking(
  day: { date: string; previous: string; carryWeight: number },
  weights: { view: number; like: number; order: number },
  ids: number[] | null,
): Sql {
  return sql(
    'verify.select-expected-ranking',
    `WITH scores AS (
       SELECT product_id,
              sum(CASE WHEN metric_date = $1::date THEN 1 ELSE $3::float8 END
                  * ($4::float8 * view_count + $5::float8 * like_count + $6::float8 * sales_count)) AS expected
         FROM product_metrics_daily
        WHERE (metric_date = $1::date OR ($3::float8 > 0 AND metric_date = $2::date))
          AND ($7::bigint[] IS NULL OR product_id = ANY($7::bigint[]))
        GROUP BY product_id
     ),
     wanted AS (
       SELECT product_id FROM scores WHERE $7::bigint[] IS NULL
       UNION SELECT unnest($7::bigint[])
     )
     SELECT w.product_id::text AS product_id, coalesce(s.expected, 0)::float8 AS expected,
            s.product_id IS NOT NULL AS has_rows
       FROM wanted w LEFT JOIN scores s USING (product_id)
      ORDER BY w.product_id`,
    [day.date, day.previous, day.carryWeight, weights.view, weights.like, weights.order, ids],
  );
}

/**
 * PUBLISHED outbox events published before `before` (when the collector's offsets were read) and
 * absent from event_log, with the key that chose their partition. Ordered by id, for a cursor.
 */
export function selectUncollectedPublished(before: Date, since: string | null, timeZone: string): Sql {
  return sql(
    'verify.select-uncollected-published',
    `SELECT o.id::text, o.event_id::text, o.event_type, o.topic, o.partition_key, o.published_at
       FROM outbox_event o
      WHERE o.status = 'PUBLISHED' AND o.published_at < $1
        AND ($2::date IS NULL OR o.created_at >= ($2::date::timestamp AT TIME ZONE $3::text))
        AND NOT EXISTS (SELECT 1 FROM event_log l WHERE l.event_id = o.event_id)
      ORDER BY o.id`,
    [before, since, timeZone],
  );
}

export function selectDatabaseNow(): Sql {
  return sql('verify.select-database-now', `SELECT now() AS now`);
}
