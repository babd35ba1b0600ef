import type pg from 'pg';
import type { Redis } from 'ioredis';
import { runExclusiveJob } from '../../lib/db/job-runs.js';
import { batchJob } from '../../lib/jobs/registry.js';
import { carryOverRanking } from '../../domain/rankings/carry-over.js';
import type { CarryOverResult } from '../../lib/ranking/live-ranking.js';
import { dateInZone } from '../../lib/time/dates.js';

export type CarryOverRun = CarryOverResult & { jobRunId: number };

/**
 * `ranking carry-over` as a batch job: under its lock and recorded in job_run like the others, so the
 * exporter reports its last success and an alert fires when the nightly CronJob stops succeeding. The
 * Redis step is idempotent on its own (a mark key); the lock only keeps two runs from racing to it.
 */
export async function runCarryOver(
  deps: { pool: pg.Pool; redis: Redis; timeZone: string },
  options: { date?: string; weight: number },
): Promise<CarryOverRun> {
  const date = options.date ?? dateInZone(new Date(), deps.timeZone);
  const params = { date, weight: options.weight };
  const { result, run } = await runExclusiveJob(
    deps.pool,
    batchJob('ranking-carry-over'),
    params,
    async (ctx) => {
      const carried = await carryOverRanking(deps.redis, deps.timeZone, params);
      ctx.rowsRead = carried.members;
      ctx.rowsWritten = carried.carried ? carried.members : 0;
      return carried;
    },
  );
  return { ...result, jobRunId: run.id };
}
