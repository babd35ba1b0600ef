import { BaseCommand } from '../../lib/cli/base-command.js';
import { migrate } from '../../lib/db/migrations.js';

export default class DbMigrate extends BaseCommand<typeof DbMigrate> {
  static override summary =
    'Apply pending schema migrations (safe to run twice, or from two processes at once).';
  static override examples = ['<%= config.bin %> db migrate', '<%= config.bin %> db migrate --json'];

  static override exitCodes = ['UNAVAILABLE'] as const;

  public async run(): Promise<{ applied: Array<{ version: number; name: string }> }> {
    const applied = await migrate(this.db());
    this.log(
      applied.length === 0
        ? 'Schema is up to date.'
        : `Applied ${applied.length} migration(s): ${applied.map((m) => `${m.version}_${m.name}`).join(', ')}`,
    );
    return { applied: applied.map(({ version, name }) => ({ version, name })) };
  }
}
