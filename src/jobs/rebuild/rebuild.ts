import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { AppConfig } from '../../lib/config/config.js';
import { runExclusiveJob } from '../../lib/db/job-runs.js';
import { batchJob } from '../../lib/jobs/registry.js';
import { withTransaction } from '../../lib/db/transaction.js';
import { dateInZone } from '../../lib/time/dates.js';
import { rankingDay } from '../../domain/rankings/live-day.js';
import { rebuildRanking } from './ranking.js';
import { rebuildTable, type TableRebuild } from './tables.js';
import { rebuildPoints } from './points.js';

export const REBUILD_TARGETS = ['metrics', 'daily', 'ranking', 'points'] as const;
export type RebuildTarget = (typeof REBUILD_TARGETS)[number];

/** One lock for every target: two rebuilds at once would wait on each other's table locks anyway. */
export const REBUILD_JOB = batchJob('rebuild');

export interface RebuildOptions {
  pool: pg.Pool;
  redis: Redis;
  config: AppConfig;
  target: RebuildTarget;
  /** daily: only this day (default all days); ranking: the day (default today in TIMEZONE). */
  date?: string;
  dryRun: boolean;
  carryWeight: number;
  chunkSize?: number;
}

export interface RebuildSummary {
  target: RebuildTarget;
  dryRun: boolean;
  date: string | null;
  /** Rows (or ranking members) of the rebuilt read model. */
  rows: number;
  /** Rows or members that differed from the rebuilt ones (replaced, unless a dry run). */
  changed: number;
  /** ranking: the (event, product) marks set so a late collector increment is not counted twice. */
  marks?: number;
  jobRunId: number;
  durationMs: number;
}

/**
 * Recomputes a read model from its source of truth and swaps it in atomically (see tables.ts and
 * ranking.ts for why the collector may keep running), one run at a time (lock, exit 5), in job_run.
 */
export async function runRebuild(options: RebuildOptions): Promise<RebuildSummary> {
  const { pool, redis, config, target, dryRun } = options;
  const started = Date.now();
  const date =
    target === 'ranking' ? (options.date ?? dateInZone(new Date(), config.timezone)) : (options.date ?? null);
  const { result, run } = await runExclusiveJob(pool, REBUILD_JOB, { target, date, dryRun }, async (ctx) => {
    const done = await withTransaction(pool, async (client): Promise<TableRebuild & { marks?: number }> => {
      if (target === 'points')
        return rebuildPoints(client, { rateBasisPoints: config.points.rateBasisPoints, dryRun });
      if (target !== 'ranking')
        return rebuildTable(client, target, {
          date,
          timeZone: config.timezone,
          dryRun,
        });
      const day = await rankingDay(redis, date!, options.carryWeight);
      return rebuildRanking(client, redis, day, {
        weights: config.ranking,
        timeZone: config.timezone,
        dryRun,
        chunkSize: options.chunkSize ?? 1_000,
        runId: ctx.run.id,
      });
    });
    ctx.rowsRead = done.rows;
    ctx.rowsWritten = dryRun ? 0 : done.changed;
    return done;
  });
  return {
    target,
    dryRun,
    date,
    rows: result.rows,
    changed: result.changed,
    ...(result.marks === undefined ? {} : { marks: result.marks }),
    jobRunId: run.id,
    durationMs: Date.now() - started,
  };
}
