import type { AppConfig } from '../config/config.js';

/**
 * The one scoring rule, used by the live ranking (collector, per event) and by the weekly/monthly
 * aggregation (per period), so both rank products the same way:
 *
 *   score = RANKING_WEIGHT_VIEW * views + RANKING_WEIGHT_LIKE * net likes + RANKING_WEIGHT_ORDER * units ordered
 *
 * Orders count by quantity (units), not by amount: amounts would let one expensive product outrank
 * everything on a single sale, and the weights are then in comparable units (one interaction each).
 */
export type RankingWeights = AppConfig['ranking'];

export interface Activity {
  views: number;
  likes: number;
  units: number;
}

export function score(activity: Activity, weights: RankingWeights): number {
  return weights.view * activity.views + weights.like * activity.likes + weights.order * activity.units;
}

/** The Redis key of one day's live ranking (under REDIS_KEY_PREFIX): ranking:all:YYYYMMDD. */
export function dailyRankingKey(compactDate: string): string {
  return `ranking:all:${compactDate}`;
}

/** Daily ranking keys live two days: today's, and yesterday's for late readers and carry-over. */
export const DAILY_RANKING_TTL_SECONDS = 2 * 24 * 3600;
