import type pg from 'pg';

/** [metric_date, product_id, views, likes, units, sales_amount] */
export type DailyRow = [string, number, number, number, number, number];

/** Inserts daily metrics in one set-based statement. */
export async function insertDaily(pool: pg.Pool, rows: DailyRow[]): Promise<void> {
  const column = (i: number) => rows.map((r) => r[i]);
  await pool.query(
    `INSERT INTO product_metrics_daily (metric_date, product_id, view_count, like_count, sales_count, sales_amount)
     SELECT * FROM unnest($1::date[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[])`,
    [column(0), column(1), column(2), column(3), column(4), column(5)],
  );
}

export interface RankRow {
  period_start: string;
  period_end: string;
  rank: number;
  product_id: number;
  score: number;
  view_count: number;
  like_count: number;
  sales_count: number;
  sales_amount: number;
  job_run_id: number;
}

/** A period's stored ranking, best first (everything but computed_at). */
export async function storedRanking(
  pool: pg.Pool,
  table: 'mv_product_rank_weekly' | 'mv_product_rank_monthly',
  start: string,
): Promise<RankRow[]> {
  const { rows } = await pool.query<RankRow>(
    `SELECT period_start, period_end, rank, product_id, score, view_count, like_count, sales_count,
            sales_amount, job_run_id
       FROM ${table} WHERE period_start = $1 ORDER BY rank`,
    [start],
  );
  return rows;
}

/** Rows without the run that wrote them: what a re-run must reproduce exactly. */
export function withoutRun(rows: RankRow[]): Omit<RankRow, 'job_run_id'>[] {
  return rows.map(({ job_run_id: _ignored, ...rest }) => rest);
}
