import { Flags } from '@oclif/core';
import { BaseCommand } from '../lib/cli/base-command.js';
import { dateFlag, weightFlag } from '../lib/cli/flags.js';
import { UsageError } from '../lib/errors.js';
import { DEFAULT_CARRY_WEIGHT } from '../domain/rankings/carry-over.js';
import { REBUILD_TARGETS, runRebuild, type RebuildSummary } from '../jobs/rebuild/rebuild.js';

export default class Rebuild extends BaseCommand<typeof Rebuild> {
  static override summary = 'Recompute a read model from its source of truth and swap it in atomically.';
  static override description =
    'metrics: product_metrics from event_log; daily: product_metrics_daily from event_log (all days, or ' +
    "--date); ranking: a day's live Redis ranking from product_metrics_daily (--date, default today). " +
    'Safe while collectors run: their writes wait for the swap and apply on top of it. One run at a ' +
    'time (exit 5 if another holds the lock); recorded in job_run. --dry-run only counts what would change.';
  static override examples = [
    '<%= config.bin %> rebuild --target ranking',
    '<%= config.bin %> rebuild --target daily --date 2024-05-01 --dry-run --json',
  ];
  static override flags = {
    target: Flags.option({
      options: REBUILD_TARGETS,
      required: true,
      summary: 'The read model to rebuild.',
    })(),
    date: dateFlag({
      summary: 'daily: only this day; ranking: the day (default today in TIMEZONE). YYYY-MM-DD.',
    }),
    'dry-run': Flags.boolean({
      summary: 'Compute and count the differences; change nothing.',
      default: false,
    }),
    'carry-weight': weightFlag({
      summary: 'ranking: the weight `ranking carry-over` used, counted when the day was carried over.',
      default: DEFAULT_CARRY_WEIGHT,
    }),
  };

  static override exitCodes = ['UNAVAILABLE', 'LOCKED'] as const;

  public async run(): Promise<RebuildSummary> {
    const { target } = this.flags;
    if (this.flags.date !== undefined && target === 'metrics')
      throw new UsageError(
        '--date: product_metrics holds totals, not days; use it with --target daily or ranking',
      );
    const progress = this.progress(
      `rebuilding ${target}`,
      `rebuild of ${target} did not finish; nothing changed`,
    );
    const summary = await runRebuild({
      pool: this.db(),
      redis: this.redis(),
      config: this.appConfig,
      target,
      date: this.flags.date,
      dryRun: this.flags['dry-run'],
      carryWeight: this.flags['carry-weight'],
    });
    progress.succeed(
      `${target}${summary.date ? ` (${summary.date})` : ''}: ${summary.rows} row(s) rebuilt, ` +
        `${summary.changed} ${summary.dryRun ? 'would change (dry run)' : 'changed'} in ${summary.durationMs} ms ` +
        `(run #${summary.jobRunId})`,
    );
    return summary;
  }
}
