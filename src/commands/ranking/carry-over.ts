import { Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { UsageError } from '../../lib/errors.js';
import { dateInZone, parseDate } from '../../lib/time/dates.js';
import { carryOver, type CarryOverResult } from '../../lib/ranking/live-ranking.js';

export default class RankingCarryOver extends BaseCommand<typeof RankingCarryOver> {
  static override summary = "Seed tomorrow's live ranking with today's scores times a small weight (once).";
  static override description =
    "ZUNIONSTORE of the next day's key (weight 1) and the given day's key (--weight) into the next " +
    "day's key, guarded by a mark key: running it twice changes nothing the second time.";
  static override examples = [
    '<%= config.bin %> ranking carry-over',
    '<%= config.bin %> ranking carry-over --date 2024-05-01 --weight 0.1 --json',
  ];
  static override flags = {
    date: Flags.string({ summary: 'The day to carry over from, YYYY-MM-DD (default: today in TIMEZONE).' }),
    weight: Flags.string({ summary: "Weight of the day's scores in the next day's key.", default: '0.1' }),
  };

  public async run(): Promise<CarryOverResult> {
    const weight = Number(this.flags.weight);
    if (!Number.isFinite(weight) || weight < 0 || weight > 1) {
      throw new UsageError('--weight must be a number from 0 to 1');
    }
    let date: string;
    try {
      date = this.flags.date ? parseDate(this.flags.date) : dateInZone(new Date(), this.appConfig.timezone);
    } catch (err) {
      throw new UsageError(`--date: ${(err as Error).message}`);
    }
    const result = await carryOver(this.redis(), date, weight);
    this.log(
      result.carried
        ? `Carried ${date} into ${result.to} with weight ${weight}: ${result.members} product(s).`
        : `Already carried into ${result.to}; nothing changed (${result.members} product(s)).`,
    );
    return result;
  }
}
