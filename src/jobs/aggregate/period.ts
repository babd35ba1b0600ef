import { UsageError } from '../../lib/errors.js';
import { dateInZone } from '../../lib/time/dates.js';
import {
  lastCompletePeriod,
  periodContaining,
  type Period,
  type PeriodKind,
} from '../../lib/time/periods.js';

/**
 * The period a run computes: the one containing `date`, or the last complete one. A bad date, or a
 * period that has not started yet (today taken in TIMEZONE), is a usage error raised before anything
 * is locked or recorded.
 */
export function resolvePeriod(
  kind: PeriodKind,
  date: string | undefined,
  now: Date,
  timeZone: string,
): Period {
  if (date === undefined) return lastCompletePeriod(kind, now, timeZone);
  let period: Period;
  try {
    period = periodContaining(kind, date);
  } catch (err) {
    throw new UsageError(`--date: ${(err as Error).message}`);
  }
  const today = dateInZone(now, timeZone);
  if (period.start > today) {
    throw new UsageError(
      `--date ${date}: the ${kind} period ${period.start}..${period.end} has not started (today is ${today} in ${timeZone})`,
    );
  }
  return period;
}

/** Whether the period is still running today: its ranking is then provisional. */
export function isComplete(period: Period, now: Date, timeZone: string): boolean {
  return period.end < dateInZone(now, timeZone);
}
