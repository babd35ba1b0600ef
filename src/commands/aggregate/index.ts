import { Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { PERIOD_KINDS } from '../../lib/time/periods.js';
import { AGGREGATE_LIMITS, runAggregate, type AggregateSummary } from '../../jobs/aggregate/aggregate.js';

const { top, chunkSize } = AGGREGATE_LIMITS;

export default class Aggregate extends BaseCommand<typeof Aggregate> {
  static override summary = 'Compute the weekly or monthly product ranking from the daily metrics.';
  static override description =
    'Replaces the period in mv_product_rank_weekly / mv_product_rank_monthly in one transaction. ' +
    'One run per period kind at a time (exit 5 if another holds the lock). Dates are in TIMEZONE.';
  static override examples = [
    '<%= config.bin %> aggregate --period weekly',
    '<%= config.bin %> aggregate --period monthly --date 2024-02-10 --top 500 --json',
  ];

  static override flags = {
    period: Flags.option({
      options: PERIOD_KINDS,
      required: true,
      summary: 'weekly (ISO week) or monthly.',
    })(),
    date: Flags.string({ summary: 'A date (YYYY-MM-DD) in the period. Default: the last complete period.' }),
    top: Flags.integer({ ...top, summary: 'How many products to rank.' }),
    'chunk-size': Flags.integer({ ...chunkSize, summary: 'Rows fetched per cursor read.' }),
  };

  static override exitCodes = ['UNAVAILABLE', 'LOCKED'] as const;

  public async run(): Promise<AggregateSummary> {
    const progress = this.progress('rows read: 0');
    const summary = await runAggregate({
      pool: this.db(),
      config: this.appConfig,
      logger: this.logger,
      period: this.flags.period,
      date: this.flags.date,
      top: this.flags.top,
      chunkSize: this.flags['chunk-size'],
      signal: this.signal,
      onProgress: (n) => progress.update(`rows read: ${n}`),
    });
    progress.succeed(`rows read: ${summary.rowsRead}`);
    this.log(
      `${summary.label} (${summary.start}..${summary.end}, ${summary.timezone})${summary.complete ? '' : ' [provisional]'}: ` +
        `${summary.rowsRead} products read, ${summary.rowsWritten} ranked in ${summary.durationMs} ms (run #${summary.jobRunId})`,
    );
    this.table(
      summary.top10,
      [
        { header: 'Rank', get: (r) => r.rank, align: 'right' },
        { header: 'Product', get: (r) => r.productId, align: 'right' },
        { header: 'Score', get: (r) => r.score.toFixed(2), align: 'right' },
        { header: 'Views', get: (r) => r.views, align: 'right' },
        { header: 'Likes', get: (r) => r.likes, align: 'right' },
        { header: 'Units', get: (r) => r.units, align: 'right' },
        { header: 'Sales', get: (r) => r.salesAmount, align: 'right' },
      ],
      'Top 10',
    );
    return summary;
  }
}
