import type pg from 'pg';
import type { Redis } from 'ioredis';
import { rows } from '../../lib/db/query.js';
import { selectWeeklyTop } from './sql.js';
import { dailyRankingKey } from '../../lib/ranking/score.js';
import { compactDate } from '../../lib/time/dates.js';

export interface RankRow {
  rank: number;
  productId: number;
  name: string;
  score: number;
}

/** Live scores of the given products in the day's Redis ranking (absent members score 0). */
export async function liveScores(
  redis: Redis,
  day: string,
  productIds: number[],
): Promise<Map<number, number>> {
  const key = dailyRankingKey(compactDate(day));
  const pipeline = redis.pipeline();
  for (const id of productIds) pipeline.zscore(key, String(id));
  const results = (await pipeline.exec()) ?? [];
  const scores = new Map<number, number>();
  results.forEach(([err, value], i) => {
    if (err) throw err;
    if (value !== null) scores.set(productIds[i]!, Number(value));
  });
  return scores;
}

/** The top 10 of the given products by live score. */
export function liveTop10(scores: Map<number, number>, names: Map<number, string>): RankRow[] {
  return [...scores]
    .filter(([, score]) => score > 0)
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, 10)
    .map(([productId, score], i) => ({ rank: i + 1, productId, name: names.get(productId) ?? '?', score }));
}

/** The given products' places in the weekly ranking the aggregation wrote (their rank among all products). */
export async function weeklyTop10(
  pool: pg.Pool,
  periodStart: string,
  productIds: number[],
): Promise<RankRow[]> {
  return rows<RankRow>(pool, selectWeeklyTop(periodStart, productIds));
}
