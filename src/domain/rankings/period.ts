import { parseDate } from '../../lib/time/dates.js';
import { periodContaining } from '../../lib/time/periods.js';

export type RankingPeriod = 'daily' | 'weekly' | 'monthly';

/** The period containing `date`: the day itself, or its ISO week / calendar month (the aggregate job's). */
export function periodOf(period: RankingPeriod, date: string): { start: string; end: string } {
  if (period === 'daily') return { start: parseDate(date), end: date };
  const { start, end } = periodContaining(period, date);
  return { start, end };
}
