import { Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { formatDuration } from '../../lib/duration.js';
import { outboxStatus, type OutboxStatus } from '../../lib/outbox/status.js';

export default class OutboxStatusCommand extends BaseCommand<typeof OutboxStatusCommand> {
  static override summary = 'Outbox rows by status, relay lag (oldest pending age) and recent failures.';
  static override examples = [
    '<%= config.bin %> outbox status',
    '<%= config.bin %> outbox status --limit 50 --json',
  ];
  static override flags = {
    limit: Flags.integer({ default: 10, min: 1, max: 1000, summary: 'How many recent FAILED rows to show.' }),
  };

  static override exitCodes = ['UNAVAILABLE'] as const;

  public async run(): Promise<OutboxStatus> {
    const status = await outboxStatus(this.db(), this.flags.limit);
    const { counts, oldestPendingAgeMs, dueNow, blocked } = status;
    this.table(
      [
        { name: 'pending', value: counts.pending },
        { name: 'due now', value: dueNow },
        { name: 'blocked (behind FAILED/backoff)', value: blocked },
        {
          name: 'oldest pending age',
          value: oldestPendingAgeMs === null ? '-' : formatDuration(oldestPendingAgeMs),
        },
        { name: 'published', value: counts.published },
        { name: 'failed', value: counts.failed },
      ],
      [
        { header: 'Outbox', get: (r) => r.name },
        { header: 'Value', get: (r) => r.value, align: 'right' },
      ],
    );
    this.table(
      status.recentFailed,
      [
        { header: 'Id', get: (r) => r.id, align: 'right' },
        { header: 'Event type', get: (r) => r.eventType },
        { header: 'Aggregate', get: (r) => r.aggregate },
        { header: 'Attempts', get: (r) => r.attempts, align: 'right' },
        { header: 'Last error', get: (r) => r.lastError },
      ],
      'Recent FAILED rows:',
    );
    return status;
  }
}
