import { sql } from '../../lib/db/query.js';
import type { Period, PeriodKind } from '../../lib/time/periods.js';
import type { RankedProduct } from './rank.js';

/**
 * The aggregate job's SQL. Table names come from this fixed map (never from input): one materialized
 * ranking table per period kind, same shape (migration 005).
 */
export const RANK_TABLES: Record<PeriodKind, string> = {
  weekly: 'mv_product_rank_weekly',
  monthly: 'mv_product_rank_monthly',
};

/** Per-product sums over the period; PostgreSQL aggregates, the job streams the result with a cursor. */
export function sumPeriodMetrics(period: Period) {
  return sql(
    'aggregate.sum-period-metrics',
    `SELECT product_id,
            sum(view_count)::bigint   AS views,
            sum(like_count)::bigint   AS likes,
            sum(sales_count)::bigint  AS units,
            sum(sales_amount)::bigint AS sales_amount
       FROM product_metrics_daily
      WHERE metric_date BETWEEN $1::date AND $2::date
      GROUP BY product_id`,
    [period.start, period.end],
  );
}

export function deleteRanks(period: Period) {
  return sql(
    `aggregate.delete-ranks-${period.kind}`,
    `DELETE FROM ${RANK_TABLES[period.kind]} WHERE period_start = $1`,
    [period.start],
  );
}

/** One set-based insert of a batch of ranked rows (parallel arrays through unnest). */
export function insertRanks(period: Period, jobRunId: number, batch: RankedProduct[]) {
  return sql(
    `aggregate.insert-ranks-${period.kind}`,
    `INSERT INTO ${RANK_TABLES[period.kind]}
            (period_start, period_end, job_run_id, rank, product_id, score,
             view_count, like_count, sales_count, sales_amount)
     SELECT $1::date, $2::date, $3::bigint, r.*
       FROM unnest($4::int[], $5::bigint[], $6::float8[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[])
         AS r(rank, product_id, score, view_count, like_count, sales_count, sales_amount)`,
    [
      period.start,
      period.end,
      jobRunId,
      batch.map((r) => r.rank),
      batch.map((r) => r.productId),
      batch.map((r) => r.score),
      batch.map((r) => r.views),
      batch.map((r) => r.likes),
      batch.map((r) => r.units),
      batch.map((r) => r.salesAmount),
    ],
  );
}
