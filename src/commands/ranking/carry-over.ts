import { BaseCommand } from '../../lib/cli/base-command.js';
import { dateFlag, weightFlag } from '../../lib/cli/flags.js';
import { DEFAULT_CARRY_WEIGHT } from '../../domain/rankings/carry-over.js';
import { runCarryOver, type CarryOverRun } from '../../jobs/ranking-carry-over/carry-over.js';

export default class RankingCarryOver extends BaseCommand<typeof RankingCarryOver> {
  static override summary = "Seed tomorrow's live ranking with today's scores times a small weight (once).";
  static override description =
    "ZUNIONSTORE of the next day's key (weight 1) and the given day's key (--weight) into the next " +
    "day's key, guarded by a mark key: running it twice changes nothing the second time. A batch job: one run at a " +
    'time (its lock), each run recorded in job_run.';
  static override examples = [
    '<%= config.bin %> ranking carry-over',
    '<%= config.bin %> ranking carry-over --date 2024-05-01 --weight 0.1 --json',
  ];
  static override flags = {
    date: dateFlag({ summary: 'The day to carry over from, YYYY-MM-DD (default: today in TIMEZONE).' }),
    weight: weightFlag({
      summary: "Weight of the day's scores in the next day's key.",
      default: DEFAULT_CARRY_WEIGHT,
    }),
  };

  static override exitCodes = ['UNAVAILABLE', 'LOCKED'] as const;

  public async run(): Promise<CarryOverRun> {
    const deps = { pool: this.db(), redis: this.redis(), timeZone: this.appConfig.timezone };
    const result = await runCarryOver(deps, this.flags);
    this.log(
      result.carried
        ? `Carried ${result.from} into ${result.to} with weight ${result.weight}: ${result.members} product(s).`
        : `Already carried into ${result.to}; nothing changed (${result.members} product(s)).`,
    );
    return result;
  }
}
