import { Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { durationFlag } from '../../lib/cli/flags.js';
import { runOutboxCleanup, type CleanupResult } from '../../jobs/outbox-cleanup/outbox-cleanup.js';

export default class OutboxCleanup extends BaseCommand<typeof OutboxCleanup> {
  static override summary = 'Delete old PUBLISHED outbox rows and expired idempotency marks, in batches.';
  static override description =
    'Never touches PENDING or FAILED rows. Each batch is one short statement; two cleanups never ' +
    'overlap (exit 5) and every run is recorded in job_run. --dry-run only counts.';
  static override examples = [
    '<%= config.bin %> outbox cleanup --older-than 7d',
    '<%= config.bin %> outbox cleanup --older-than 12h --batch-size 5000 --dry-run --json',
  ];
  static override flags = {
    'older-than': durationFlag({ required: true, summary: 'Retention of PUBLISHED rows: 7d, 12h, 30m.' }),
    'handled-older-than': durationFlag({
      summary:
        'Retention of the collector inbox rows without an audit row (default EVENT_HANDLED_RETENTION).',
    }),
    'batch-size': Flags.integer({ default: 1000, min: 1, max: 100_000, summary: 'Rows per delete.' }),
    'dry-run': Flags.boolean({ default: false, summary: 'Count what would be deleted; delete nothing.' }),
  };

  static override exitCodes = ['UNAVAILABLE', 'LOCKED'] as const;

  public async run(): Promise<CleanupResult> {
    const progress = this.progress('cleaning up', 'cleanup failed');
    const result = await runOutboxCleanup(this.db(), {
      olderThanMs: this.flags['older-than'],
      handledOlderThanMs: this.flags['handled-older-than'] ?? this.appConfig.eventHandledRetentionMs,
      batchSize: this.flags['batch-size'],
      dryRun: this.flags['dry-run'],
      signal: this.signal,
      onProgress: (t) => progress.update(t),
    });
    progress.succeed(result.interrupted ? 'cleanup interrupted' : 'cleanup done');
    this.table(
      result.tables,
      [
        { header: 'Table', get: (t) => t.table },
        { header: 'Older than', get: (t) => t.cutoff },
        { header: result.dryRun ? 'Would delete' : 'Deleted', get: (t) => t.deleted, align: 'right' },
        { header: 'Batches', get: (t) => t.batches, align: 'right' },
      ],
      result.dryRun ? 'Dry run: nothing was deleted.' : undefined,
    );
    if (result.interrupted)
      this.log('Interrupted by a signal: stopped between batches; run it again to finish.');
    return result;
  }
}
