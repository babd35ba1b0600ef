import type pg from 'pg';
import { exec, one, type Sql } from '../../lib/db/query.js';
import { CliError } from '../../lib/errors.js';
import {
  countChangedDaily,
  countChangedMetrics,
  countUnaudited,
  createRebuiltDaily,
  createRebuiltMetrics,
  deleteStaleDaily,
  deleteStaleMetrics,
  insertRebuiltDaily,
  insertRebuiltMetrics,
  lockDailyMetrics,
  lockProductMetrics,
  upsertRebuiltDaily,
  upsertRebuiltMetrics,
} from './sql.js';

export interface TableRebuild {
  /** Rows of the rebuilt table (or of the day). */
  rows: number;
  /** Rows added, removed or changed by the swap (the differences a verify would report, by row). */
  changed: number;
}

/**
 * Recomputes product_metrics or product_metrics_daily (all days, or `date`) into a temporary table and,
 * unless `dryRun`, swaps it in: all in `client`'s one transaction, which first takes a lock the
 * collector's upserts wait for. A collector transaction that claimed its (event, 'metrics') marks
 * before the lock has not committed them, so its events are not in the fold; it upserts after the
 * commit, on top of the rebuilt rows. Nothing is lost, nothing counted twice. A dry run takes no lock.
 */
export async function rebuildTable(
  client: pg.PoolClient,
  target: 'metrics' | 'daily',
  options: { date: string | null; timeZone: string; dryRun: boolean },
): Promise<TableRebuild> {
  const steps: Record<
    typeof target,
    { lock: Sql; create: Sql; insert: Sql; changed: Sql; remove: Sql; upsert: Sql }
  > = {
    metrics: {
      lock: lockProductMetrics(),
      create: createRebuiltMetrics(),
      insert: insertRebuiltMetrics(),
      changed: countChangedMetrics(),
      remove: deleteStaleMetrics(),
      upsert: upsertRebuiltMetrics(),
    },
    daily: {
      lock: lockDailyMetrics(),
      create: createRebuiltDaily(),
      insert: insertRebuiltDaily(options.date, options.timeZone),
      changed: countChangedDaily(options.date),
      remove: deleteStaleDaily(options.date),
      upsert: upsertRebuiltDaily(),
    },
  };
  const s = steps[target];
  if (!options.dryRun) await exec(client, s.lock);
  const unaudited = Number((await one<{ n: string }>(client, countUnaudited()))!.n);
  if (unaudited > 0)
    throw new CliError(
      `${unaudited} event(s) applied by the metrics handler are not in event_log yet (the audit handler is ` +
        'behind, or not run): a rebuild from event_log would lose them; let it catch up and run again',
      'UNAUDITED',
    );
  await exec(client, s.create);
  const rows = await exec(client, s.insert);
  const changed = Number((await one<{ n: string }>(client, s.changed))!.n);
  if (!options.dryRun && changed > 0) {
    await exec(client, s.remove);
    await exec(client, s.upsert);
  }
  return { rows, changed };
}
