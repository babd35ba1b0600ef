import { sql } from '../../lib/db/query.js';

/** The materialized ranking tables, by period; a fixed map, never user text in SQL. */
const TABLES = { weekly: 'mv_product_rank_weekly', monthly: 'mv_product_rank_monthly' } as const;
export type MaterializedPeriod = keyof typeof TABLES;

export const selectRankPage = (period: MaterializedPeriod, start: string, limit: number, offset: number) =>
  sql(
    `rankings.select-rank-page-${period}`,
    `SELECT rank, product_id, score FROM ${TABLES[period]} WHERE period_start = $1
     ORDER BY rank LIMIT $2 OFFSET $3`,
    [start, limit, offset],
  );

export const countRanks = (period: MaterializedPeriod, start: string) =>
  sql(
    `rankings.count-ranks-${period}`,
    `SELECT count(*)::int AS total FROM ${TABLES[period]} WHERE period_start = $1`,
    [start],
  );
