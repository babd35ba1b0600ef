import { addDays, dateInZone, parseDate } from './dates.js';

/**
 * Aggregation periods as closed ranges of calendar dates ('YYYY-MM-DD', both ends included):
 * weekly = ISO week (Monday to Sunday), monthly = calendar month. Pure: no clock, no zone inside;
 * the zone only decides which date "now" is (lastCompletePeriod).
 */
export type PeriodKind = 'weekly' | 'monthly';
export const PERIOD_KINDS: readonly PeriodKind[] = ['weekly', 'monthly'];

export interface Period {
  kind: PeriodKind;
  start: string;
  end: string;
  /** ISO week '2020-W53' or month '2021-02'. */
  label: string;
}

function utc(date: string): Date {
  return new Date(`${parseDate(date)}T00:00:00Z`);
}

export function periodContaining(kind: PeriodKind, date: string): Period {
  const d = utc(date);
  if (kind === 'weekly') {
    const sinceMonday = (d.getUTCDay() + 6) % 7; // getUTCDay: Sunday = 0
    const start = addDays(date, -sinceMonday);
    return { kind, start, end: addDays(start, 6), label: isoWeekLabel(start) };
  }
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth();
  const start = new Date(Date.UTC(year, month, 1)).toISOString().slice(0, 10);
  const end = new Date(Date.UTC(year, month + 1, 0)).toISOString().slice(0, 10); // day 0 = last of previous
  return { kind, start, end, label: start.slice(0, 7) };
}

/** The most recent period that has fully ended before today (today taken in `timeZone`). */
export function lastCompletePeriod(kind: PeriodKind, now: Date, timeZone: string): Period {
  const current = periodContaining(kind, dateInZone(now, timeZone));
  return periodContaining(kind, addDays(current.start, -1));
}

/** ISO 8601 week label of the week starting on `monday`: the week belongs to the year of its Thursday. */
function isoWeekLabel(monday: string): string {
  const thursday = utc(addDays(monday, 3));
  const year = thursday.getUTCFullYear();
  const dayOfYear = (thursday.getTime() - Date.UTC(year, 0, 1)) / 86_400_000;
  const week = Math.floor(dayOfYear / 7) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}
