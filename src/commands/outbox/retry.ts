import { Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { retryFailed, type RetriedRow } from '../../lib/outbox/retry.js';

export default class OutboxRetry extends BaseCommand<typeof OutboxRetry> {
  static override summary = 'Put FAILED outbox rows back to PENDING so the relay publishes them again.';
  static override description =
    'Attempts restart at 0, the row is due now, its lease and last_error are cleared (the old error ' +
    'is printed). With --id, every id must be a FAILED row or nothing changes (exit 1).';
  static override examples = [
    '<%= config.bin %> outbox retry --id 42 --id 43',
    '<%= config.bin %> outbox retry --all-failed --json',
  ];
  static override flags = {
    id: Flags.integer({
      multiple: true,
      min: 1,
      exactlyOne: ['id', 'all-failed'],
      summary: 'Outbox row id (repeatable).',
    }),
    'all-failed': Flags.boolean({ exactlyOne: ['id', 'all-failed'], summary: 'Every FAILED row.' }),
  };

  static override exitCodes = ['UNAVAILABLE'] as const;

  public async run(): Promise<{ retried: RetriedRow[] }> {
    const retried = await retryFailed(this.db(), this.flags.id ?? null);
    this.log(`${retried.length} row(s) put back to PENDING.`);
    this.table(retried, [
      { header: 'Id', get: (r) => r.id, align: 'right' },
      { header: 'Event type', get: (r) => r.eventType },
      { header: 'Attempts before', get: (r) => r.attempts, align: 'right' },
      { header: 'Last error', get: (r) => r.lastError },
    ]);
    return { retried };
  }
}
