import { BaseCommand } from '../../lib/cli/base-command.js';
import { migrationStatus, type MigrationState } from '../../lib/db/migrations.js';

export default class DbStatus extends BaseCommand<typeof DbStatus> {
  static override summary = 'Show which migrations are applied and which are pending.';
  static override examples = ['<%= config.bin %> db status', '<%= config.bin %> db status --json'];

  static override exitCodes = ['UNAVAILABLE'] as const;

  public async run(): Promise<{ migrations: MigrationState[]; pending: number; upToDate: boolean }> {
    const migrations = await migrationStatus(this.db());
    this.table(migrations, [
      { header: 'Version', get: (m) => m.version, align: 'right' },
      { header: 'Name', get: (m) => m.name },
      { header: 'Status', get: (m) => m.status },
      { header: 'Applied at', get: (m) => m.appliedAt },
    ]);
    const pending = migrations.filter((m) => m.status !== 'applied').length;
    return { migrations, pending, upToDate: pending === 0 };
  }
}
