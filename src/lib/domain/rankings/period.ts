import { addDays, parseDate } from '../../time/dates.js';

export type RankingPeriod = 'daily' | 'weekly' | 'monthly';

/** The period containing `date`: the day itself, its ISO week (Monday to Sunday), or its calendar month. */
export function periodOf(period: RankingPeriod, date: string): { start: string; end: string } {
  parseDate(date);
  if (period === 'daily') return { start: date, end: date };
  if (period === 'weekly') {
    const weekday = new Date(`${date}T00:00:00Z`).getUTCDay(); // 0 = Sunday
    const start = addDays(date, -((weekday + 6) % 7));
    return { start, end: addDays(start, 6) };
  }
  const start = `${date.slice(0, 8)}01`;
  const [y, m] = [Number(date.slice(0, 4)), Number(date.slice(5, 7))];
  const end = new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
  return { start, end };
}
