import { score, type RankingWeights } from '../../lib/ranking/score.js';

/** One product's totals over a period, its score and (once ranked) its place. */
export interface Candidate {
  productId: number;
  score: number;
  views: number;
  likes: number;
  units: number;
  salesAmount: number;
}

export interface RankedProduct extends Candidate {
  rank: number;
}

/** A row of sumPeriodMetrics (bigints arrive as numbers, see db/pool.ts). */
export interface PeriodSumRow {
  product_id: number;
  views: number;
  likes: number;
  units: number;
  sales_amount: number;
}

/**
 * The shared score, rounded to 12 significant digits: 0.1 * 7 views and 0.7 * 1 unit are the same
 * score and must tie (and fall to product_id) rather than differ in the 16th digit.
 */
export function candidateOf(row: PeriodSumRow, weights: RankingWeights): Candidate {
  const raw = score({ views: row.views, likes: row.likes, units: row.units }, weights);
  return {
    productId: row.product_id,
    score: Number(raw.toPrecision(12)),
    views: row.views,
    likes: row.likes,
    units: row.units,
    salesAmount: row.sales_amount,
  };
}

/** Score descending, then product id ascending: a total order, so ranks are deterministic. */
export function compareCandidates(a: Candidate, b: Candidate): number {
  return b.score - a.score || a.productId - b.productId;
}

export function withRanks(sorted: Candidate[]): RankedProduct[] {
  return sorted.map((c, i) => ({ rank: i + 1, ...c }));
}
