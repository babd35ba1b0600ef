import type pg from 'pg';
import { rows } from '../../lib/db/query.js';
import { score, type RankingWeights } from '../../lib/ranking/score.js';
import type { ExpectedMetrics } from './expected.js';
import { selectMetrics } from './sql.js';

export interface Mismatch {
  productId: number;
  field: keyof ExpectedMetrics | 'liveScore';
  expected: number;
  actual: number | null;
}

const FIELDS = ['viewCount', 'likeCount', 'salesCount', 'salesAmount', 'stock'] as const;

/** product_metrics against what the traffic implies, field by field; a missing row is a mismatch. */
export async function compareMetrics(pool: pg.Pool, expected: ExpectedMetrics[]): Promise<Mismatch[]> {
  const actual = new Map(
    (
      await rows<ExpectedMetrics & { salesAmount: string }>(
        pool,
        selectMetrics(expected.map((e) => e.productId)),
      )
    ).map((r) => [r.productId, { ...r, salesAmount: Number(r.salesAmount) }]),
  );
  const mismatches: Mismatch[] = [];
  for (const e of expected) {
    const a = actual.get(e.productId);
    for (const field of FIELDS) {
      const value = a ? a[field] : null;
      if (value !== e[field])
        mismatches.push({ productId: e.productId, field, expected: e[field], actual: value });
    }
  }
  return mismatches;
}

/** The live ranking score the collector must have added up for each product (all of it today). */
export function compareScores(
  expected: ExpectedMetrics[],
  scores: Map<number, number>,
  weights: RankingWeights,
): Mismatch[] {
  const mismatches: Mismatch[] = [];
  for (const e of expected) {
    const want = score({ views: e.viewCount, likes: e.likeCount, units: e.salesCount }, weights);
    const got = scores.get(e.productId) ?? 0;
    if (Math.abs(want - got) > 1e-6)
      mismatches.push({ productId: e.productId, field: 'liveScore', expected: want, actual: got });
  }
  return mismatches;
}
