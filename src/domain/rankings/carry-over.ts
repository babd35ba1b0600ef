import type { Redis } from 'ioredis';
import { carryOver, type CarryOverResult } from '../../lib/ranking/live-ranking.js';
import { dateInZone } from '../../lib/time/dates.js';

/** The weight of a day's scores in the next day's key, unless the operator gives another. */
export const DEFAULT_CARRY_WEIGHT = 0.1;

/**
 * Seeds the day after `date` (default: today in `timeZone`) with `date`'s scores times `weight`,
 * once: a second run changes nothing. `verify` and `rebuild` count the weight in when the day was seeded.
 */
export async function carryOverRanking(
  redis: Redis,
  timeZone: string,
  options: { date?: string; weight: number },
): Promise<CarryOverResult> {
  return carryOver(redis, options.date ?? dateInZone(new Date(), timeZone), options.weight);
}
