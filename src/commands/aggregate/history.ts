import { Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import type { JobRunRow } from '../../lib/db/job-runs.js';
import { AGGREGATE_JOBS, recentAggregateRuns } from '../../jobs/aggregate/aggregate.js';

export default class AggregateHistory extends BaseCommand<typeof AggregateHistory> {
  static override summary = 'List recent runs of the ranking jobs, newest first.';
  static override examples = [
    '<%= config.bin %> aggregate history',
    '<%= config.bin %> aggregate history --job aggregate-weekly --limit 5 --json',
  ];

  static override flags = {
    job: Flags.option({ options: AGGREGATE_JOBS, summary: 'Only this job (default: both).' })(),
    limit: Flags.integer({ default: 20, min: 1, max: 1000, summary: 'How many runs to list.' }),
  };

  static override exitCodes = ['UNAVAILABLE'] as const;

  public async run(): Promise<{ runs: JobRunRow[] }> {
    const runs = await recentAggregateRuns(this.db(), this.flags.job, this.flags.limit);
    this.table(runs, [
      { header: 'Run', get: (r) => r.id, align: 'right' },
      { header: 'Job', get: (r) => r.job_name },
      { header: 'Period', get: (r) => `${r.params.start ?? '?'}..${r.params.end ?? '?'}` },
      { header: 'Status', get: (r) => r.status },
      { header: 'Started', get: (r) => r.started_at },
      { header: 'ms', get: (r) => r.duration_ms, align: 'right' },
      { header: 'Read', get: (r) => r.rows_read, align: 'right' },
      { header: 'Written', get: (r) => r.rows_written, align: 'right' },
      { header: 'Error', get: (r) => r.error },
    ]);
    return { runs };
  }
}
