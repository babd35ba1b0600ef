import type { Redis } from 'ioredis';
import { carryOverMarkKey } from '../../lib/ranking/live-ranking.js';
import { dailyRankingKey } from '../../lib/ranking/score.js';
import { addDays, compactDate } from '../../lib/time/dates.js';

/**
 * A day of the live Redis ranking as its readers (verify) and writers (rebuild) see it: which key,
 * and which days of product_metrics_daily explain its scores.
 */

/** Scores are sums of weighted floats: equal within this. */
export const SCORE_EPSILON = 1e-6;

export interface RankingDay {
  date: string;
  previous: string;
  key: string;
  carriedOver: boolean;
  /** The previous day's weight in this day's key (0 when it was not carried over). */
  carryWeight: number;
}

/** The day's key and whether `ranking carry-over` seeded it (then its weight counts the previous day in). */
export async function rankingDay(redis: Redis, date: string, carryWeight: number): Promise<RankingDay> {
  const carriedOver = (await redis.exists(carryOverMarkKey(compactDate(date)))) === 1;
  return {
    date,
    previous: addDays(date, -1),
    key: dailyRankingKey(compactDate(date)),
    carriedOver,
    carryWeight: carriedOver ? carryWeight : 0,
  };
}
