import { sql, type Sql } from '../../lib/db/query.js';
import { ENVELOPE_PRODUCTS, METRICS_CUTOFF, metricsApplied } from '../../domain/metrics/event-log.js';

/**
 * `commerce rebuild`: each read model recomputed from event_log into a temporary table, then swapped
 * in inside the same transaction, under a lock the collector's metrics upserts wait for.
 *
 * The events folded are those the metrics handler has applied: marked (event, 'metrics'), or older
 * than the oldest mark kept (`outbox cleanup` removed their marks; they were applied long ago).
 */
const APPLIED = `
  SELECT l.event_id, l.event_type, l.version, l.occurred_at, x.env, x.env->'payload' AS p
    FROM event_inbox l, LATERAL (SELECT l.envelope::jsonb) AS x(env), ${METRICS_CUTOFF}
   WHERE 'audit' = ANY (l.handlers) AND (l.received_at < cutoff.t OR ${metricsApplied('l')})`;

/** The additive contributions of the applied events, as the collector folds them (fold.ts). */
const CONTRIBUTIONS = `
  SELECT event_id, occurred_at, (p->>'productId')::bigint AS product_id,
         (p->>'count')::bigint AS views, 0::bigint AS likes, 0::bigint AS units, 0::bigint AS amount
    FROM applied WHERE event_type = 'ProductViewed'
  UNION ALL
  SELECT event_id, occurred_at, (p->>'productId')::bigint, 0,
         CASE WHEN (p->>'liked')::boolean THEN 1 ELSE -1 END, 0, 0
    FROM applied WHERE event_type = 'LikeChanged'
  UNION ALL
  SELECT event_id, occurred_at, (i->>'productId')::bigint, 0, 0,
         s.sign * (i->>'quantity')::bigint, s.sign * (i->>'quantity')::bigint * (i->>'unitPrice')::bigint
    FROM applied, LATERAL (SELECT CASE WHEN event_type = 'OrderCreated' THEN 1 ELSE -1 END AS sign) s,
         jsonb_array_elements(p->'items') i
   WHERE event_type IN ('OrderCreated', 'OrderCancelled', 'OrderExpired')`;

/** Makes the collector's upserts of product_metrics wait until the rebuild commits (reads go on). */
export function lockProductMetrics(): Sql {
  return sql('rebuild.lock-product-metrics', `LOCK TABLE product_metrics IN EXCLUSIVE MODE`);
}

export function lockDailyMetrics(): Sql {
  return sql('rebuild.lock-daily-metrics', `LOCK TABLE product_metrics_daily IN EXCLUSIVE MODE`);
}

/** Holds the daily rows still (the collector's metrics transactions wait) while the ranking is replaced. */
export function lockDailyMetricsShared(): Sql {
  return sql('rebuild.lock-daily-metrics-shared', `LOCK TABLE product_metrics_daily IN SHARE MODE`);
}

/** Events the metrics handler applied that event_log lacks (an audit handler behind, in another group). */
export function countUnaudited(): Sql {
  return sql(
    'rebuild.count-unaudited',
    `SELECT count(*)::bigint AS n FROM event_inbox h WHERE ${metricsApplied('h')} AND NOT ('audit' = ANY (h.handlers))`,
  );
}

export function createRebuiltMetrics(): Sql {
  return sql(
    'rebuild.create-rebuilt-metrics',
    `CREATE TEMP TABLE rebuilt_metrics (LIKE product_metrics INCLUDING DEFAULTS) ON COMMIT DROP`,
  );
}

/** product_metrics as the collector would have written it from the applied events (counters + versioned state). */
export function insertRebuiltMetrics(): Sql {
  return sql(
    'rebuild.insert-rebuilt-metrics',
    `INSERT INTO rebuilt_metrics (product_id, view_count, like_count, like_version, sales_count, sales_amount,
                                  stock, stock_version)
     WITH applied AS (${APPLIED}),
     contributions AS (${CONTRIBUTIONS}
       UNION ALL
       SELECT event_id, occurred_at, (p->>'productId')::bigint, 0, 0, 0, 0
         FROM applied WHERE event_type IN ('StockAdjusted', 'ProductCreated')),
     totals AS (
       SELECT product_id, sum(views) AS views, sum(units) AS units, sum(amount) AS amount
         FROM contributions GROUP BY product_id),
     liked AS (
       SELECT DISTINCT ON (1) (p->>'productId')::bigint AS product_id, (p->>'likeCount')::bigint AS n, version
         FROM applied WHERE event_type = 'LikeChanged' ORDER BY 1, version DESC),
     stocked AS (
       SELECT DISTINCT ON (1) (p->>'productId')::bigint AS product_id,
              CASE WHEN event_type = 'StockAdjusted' THEN (p->>'newStock')::int ELSE (p->>'stock')::int END AS stock,
              version
         FROM applied WHERE event_type IN ('StockAdjusted', 'ProductCreated') ORDER BY 1, version DESC)
     SELECT t.product_id, t.views, coalesce(l.n, 0), coalesce(l.version, 0), t.units, t.amount,
            s.stock, coalesce(s.version, 0)
       FROM totals t LEFT JOIN liked l USING (product_id) LEFT JOIN stocked s USING (product_id)`,
  );
}

const METRIC_COLUMNS =
  'view_count, like_count, like_version, sales_count, sales_amount, stock, stock_version';

export function countChangedMetrics(): Sql {
  return sql(
    'rebuild.count-changed-metrics',
    `SELECT count(*)::bigint AS n FROM rebuilt_metrics r FULL JOIN product_metrics m USING (product_id)
      WHERE r.product_id IS NULL OR m.product_id IS NULL
         OR (${prefixed('r', METRIC_COLUMNS)}) IS DISTINCT FROM (${prefixed('m', METRIC_COLUMNS)})`,
  );
}

export function deleteStaleMetrics(): Sql {
  return sql(
    'rebuild.delete-stale-metrics',
    `DELETE FROM product_metrics m WHERE NOT EXISTS (SELECT 1 FROM rebuilt_metrics r WHERE r.product_id = m.product_id)`,
  );
}

export function upsertRebuiltMetrics(): Sql {
  return sql(
    'rebuild.upsert-rebuilt-metrics',
    `INSERT INTO product_metrics AS m (product_id, ${METRIC_COLUMNS})
     SELECT product_id, ${METRIC_COLUMNS} FROM rebuilt_metrics ORDER BY product_id
     ON CONFLICT (product_id) DO UPDATE SET
       ${assignments(METRIC_COLUMNS)}, updated_at = now()
     WHERE (${prefixed('m', METRIC_COLUMNS)}) IS DISTINCT FROM (${prefixed('excluded', METRIC_COLUMNS)})`,
  );
}

export function createRebuiltDaily(): Sql {
  return sql(
    'rebuild.create-rebuilt-daily',
    `CREATE TEMP TABLE rebuilt_daily (LIKE product_metrics_daily INCLUDING DEFAULTS) ON COMMIT DROP`,
  );
}

/** product_metrics_daily from the applied events, days in `timeZone`; only `date` when given. */
export function insertRebuiltDaily(date: string | null, timeZone: string): Sql {
  return sql(
    'rebuild.insert-rebuilt-daily',
    `INSERT INTO rebuilt_daily (metric_date, product_id, view_count, like_count, sales_count, sales_amount)
     WITH applied AS (${APPLIED}), contributions AS (${CONTRIBUTIONS})
     SELECT (occurred_at AT TIME ZONE $2::text)::date AS day, product_id,
            sum(views), sum(likes), sum(units), sum(amount)
       FROM contributions
      WHERE $1::date IS NULL OR (occurred_at AT TIME ZONE $2::text)::date = $1::date
      GROUP BY 1, 2`,
    [date, timeZone],
  );
}

const DAILY_COLUMNS = 'view_count, like_count, sales_count, sales_amount';

export function countChangedDaily(date: string | null): Sql {
  return sql(
    'rebuild.count-changed-daily',
    `SELECT count(*)::bigint AS n
       FROM rebuilt_daily r
       FULL JOIN (SELECT * FROM product_metrics_daily WHERE $1::date IS NULL OR metric_date = $1::date) m
         USING (metric_date, product_id)
      WHERE r.product_id IS NULL OR m.product_id IS NULL
         OR (${prefixed('r', DAILY_COLUMNS)}) IS DISTINCT FROM (${prefixed('m', DAILY_COLUMNS)})`,
    [date],
  );
}

export function deleteStaleDaily(date: string | null): Sql {
  return sql(
    'rebuild.delete-stale-daily',
    `DELETE FROM product_metrics_daily d
      WHERE ($1::date IS NULL OR d.metric_date = $1::date)
        AND NOT EXISTS (SELECT 1 FROM rebuilt_daily r
                         WHERE r.metric_date = d.metric_date AND r.product_id = d.product_id)`,
    [date],
  );
}

export function upsertRebuiltDaily(): Sql {
  return sql(
    'rebuild.upsert-rebuilt-daily',
    `INSERT INTO product_metrics_daily AS d (metric_date, product_id, ${DAILY_COLUMNS})
     SELECT metric_date, product_id, ${DAILY_COLUMNS} FROM rebuilt_daily ORDER BY 1, 2
     ON CONFLICT (metric_date, product_id) DO UPDATE SET
       ${assignments(DAILY_COLUMNS)}, updated_at = now()
     WHERE (${prefixed('d', DAILY_COLUMNS)}) IS DISTINCT FROM (${prefixed('excluded', DAILY_COLUMNS)})`,
  );
}

/**
 * A day's live ranking by the score rule on its daily rows, plus the previous day's times
 * `carryWeight` when the day was carried over (0 otherwise). Ordered, for a cursor.
 */
export function selectDayScores(
  day: { date: string; previous: string; carryWeight: number },
  weights: { view: number; like: number; order: number },
): Sql {
  return sql(
    'rebuild.select-day-scores',
    `SELECT product_id::text AS product_id,
            sum(CASE WHEN metric_date = $1::date THEN 1 ELSE $3::float8 END
                * ($4::float8 * view_count + $5::float8 * like_count + $6::float8 * sales_count))::float8 AS score
       FROM product_metrics_daily
      WHERE metric_date = $1::date OR ($3::float8 > 0 AND metric_date = $2::date)
      GROUP BY product_id ORDER BY product_id`,
    [day.date, day.previous, day.carryWeight, weights.view, weights.like, weights.order],
  );
}

/**
 * The (event, product) pairs of the applied events of a day (in `timeZone`): the ranking marks the
 * collector checks before an increment. Setting them makes its late Redis step for these events,
 * already counted in the rebuilt key, a no-op.
 */
export function selectDayContributions(date: string, timeZone: string): Sql {
  return sql(
    'rebuild.select-day-contributions',
    `WITH applied AS (${APPLIED})
     SELECT DISTINCT a.event_id::text, x.product_id::text
       FROM applied a, LATERAL (${ENVELOPE_PRODUCTS}) AS x
      WHERE a.event_type IN ('ProductViewed', 'LikeChanged', 'OrderCreated', 'OrderCancelled', 'OrderExpired')
        AND (a.occurred_at AT TIME ZONE $2::text)::date = $1::date`,
    [date, timeZone],
  );
}

function prefixed(alias: string, columns: string): string {
  return columns
    .split(', ')
    .map((c) => `${alias}.${c}`)
    .join(', ');
}

function assignments(columns: string): string {
  return columns
    .split(', ')
    .map((c) => `${c} = excluded.${c}`)
    .join(', ');
}
