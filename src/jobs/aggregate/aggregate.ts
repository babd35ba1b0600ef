import type pg from 'pg';
import type { AppConfig } from '../../lib/config/config.js';
import { runExclusiveJob } from '../../lib/db/job-runs.js';
import { InterruptedError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import type { PeriodKind } from '../../lib/time/periods.js';
import { AGGREGATE_JOB, type AggregateJob } from './history.js';
import { isComplete, resolvePeriod } from './period.js';
import { withRanks, type RankedProduct } from './rank.js';
import { RANKING_UNCHANGED, readTopProducts } from './read.js';
import { replaceRanking } from './write.js';

export type { RankedProduct } from './rank.js';
export { AGGREGATE_JOBS, recentAggregateRuns, type AggregateJob } from './history.js';

/** The flags' ranges: the command's `Flags.integer({min, max})` enforces them (exit 2). */
export const AGGREGATE_LIMITS = {
  top: { default: 100, min: 1, max: 10_000 },
  chunkSize: { default: 10_000, min: 1, max: 100_000 },
} as const;

export interface AggregateOptions {
  pool: pg.Pool;
  config: AppConfig;
  logger: Logger;
  period: PeriodKind;
  /** Any date in the period (YYYY-MM-DD); default: the last complete period in config.timezone. */
  date?: string;
  top?: number;
  chunkSize?: number;
  /** After every chunk read, with the rows read so far; a throw from it fails the run (nothing written). */
  onProgress?: (rowsRead: number) => void;
  /** Aborting stops the read between chunks; nothing is written and the run is recorded FAILED. */
  signal?: AbortSignal;
  /** The clock, for "last complete period" (tests). */
  now?: Date;
}

export interface AggregateSummary {
  job: AggregateJob;
  period: PeriodKind;
  label: string;
  start: string;
  end: string;
  timezone: string;
  complete: boolean;
  rowsRead: number;
  rowsWritten: number;
  durationMs: number;
  jobRunId: number;
  top10: RankedProduct[];
}

/**
 * Computes one period's ranking from product_metrics_daily and replaces it atomically, as the
 * exclusive job of its period kind (registry: aggregate-weekly, aggregate-monthly; a concurrent run
 * of the same period kind gets LockedError).
 */
export async function runAggregate(options: AggregateOptions): Promise<AggregateSummary> {
  const { pool, config, logger, signal } = options;
  const now = options.now ?? new Date();
  const period = resolvePeriod(options.period, options.date, now, config.timezone);
  const top = options.top ?? AGGREGATE_LIMITS.top.default;
  const chunkSize = options.chunkSize ?? AGGREGATE_LIMITS.chunkSize.default;
  const complete = isComplete(period, now, config.timezone);
  const spec = AGGREGATE_JOB[options.period];
  const job: AggregateJob = spec.name;
  const params = { ...period, date: options.date ?? null, top, chunkSize, timezone: config.timezone };
  const weights = config.ranking;

  const { result, run } = await runExclusiveJob(pool, spec, { ...params, weights }, async (ctx) => {
    logger.info(
      { job, ...params, runId: ctx.run.id },
      `aggregating ${period.label} (${period.start}..${period.end})`,
    );
    if (!complete) logger.warn({ job }, `${period.label} is not over yet: this ranking is provisional`);
    const best = await readTopProducts(pool, period, {
      top,
      chunkSize,
      weights,
      signal,
      onRows: (n) => {
        ctx.rowsRead = n;
        options.onProgress?.(n);
      },
    });
    if (signal?.aborted) throw new InterruptedError(signal, RANKING_UNCHANGED);
    const ranked = withRanks(best);
    ctx.rowsWritten = await replaceRanking(pool, period, ctx.run.id, ranked);
    return ranked;
  });

  const summary: AggregateSummary = {
    job,
    period: period.kind,
    label: period.label,
    start: period.start,
    end: period.end,
    timezone: config.timezone,
    complete,
    rowsRead: run.rows_read,
    rowsWritten: run.rows_written,
    durationMs: run.duration_ms ?? 0,
    jobRunId: run.id,
    top10: result.slice(0, 10),
  };
  logger.info({ ...summary, top10: undefined }, `${period.label}: ranked ${summary.rowsWritten} products`);
  return summary;
}
