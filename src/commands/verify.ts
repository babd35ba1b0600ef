import { Flags } from '@oclif/core';
import { BaseCommand } from '../lib/cli/base-command.js';
import { dateFlag, weightFlag } from '../lib/cli/flags.js';
import { ExitCode } from '../lib/errors.js';
import { DEFAULT_CARRY_WEIGHT } from '../domain/rankings/carry-over.js';
import { runVerify, type VerifyReport } from '../jobs/verify/verify.js';

export default class Verify extends BaseCommand<typeof Verify> {
  static override summary = 'Compare every read model with its source of truth; list each difference.';
  static override description =
    'product_metrics against likes, products.stock, order items of orders not cancelled and the ' +
    'ProductViewed events in event_log; product_metrics_daily summed against the same; the live Redis ' +
    "ranking of a day against the score rule on that day's daily metrics; PUBLISHED outbox events " +
    "against event_log where the collector's group has committed past them. Products with events in " +
    'flight are counted, not compared. Reads only. Exit 0 when consistent, 6 with the differences.';
  static override examples = [
    '<%= config.bin %> verify',
    '<%= config.bin %> verify --products 12 13 --json',
    '<%= config.bin %> verify --since 2024-05-01 --date 2024-05-02',
  ];
  static override flags = {
    products: Flags.integer({
      multiple: true,
      min: 1,
      delimiter: ',',
      summary: 'Only these product ids (space- or comma-separated).',
    }),
    since: dateFlag({
      summary: 'Only products with an event since this date (YYYY-MM-DD), and outbox rows created since.',
    }),
    date: dateFlag({ summary: "The live ranking's day, YYYY-MM-DD (default: today in TIMEZONE)." }),
    'carry-weight': weightFlag({
      summary: 'The weight `ranking carry-over` used, counted when the day was carried over.',
      default: DEFAULT_CARRY_WEIGHT,
    }),
  };

  static override exitCodes = ['UNAVAILABLE', 'VERIFY'] as const;

  public async run(): Promise<VerifyReport> {
    const progress = this.progress('verifying', 'verify did not finish');
    const report = await runVerify({
      pool: this.db(),
      redis: this.redis(),
      kafka: this.kafka(),
      config: this.appConfig,
      products: this.flags.products ? [...new Set(this.flags.products)] : undefined,
      since: this.flags.since,
      date: this.flags.date,
      carryWeight: this.flags['carry-weight'],
      onProgress: (text) => progress.update(text),
    });
    const { checked, inFlight } = report;
    progress.succeed(
      `${checked.products} product(s) checked, ${checked.rankingMembers} ranking member(s), ` +
        `${report.differences.length} difference(s) in ${report.durationMs} ms`,
    );
    this.log(
      `In flight (not compared): ${inFlight.products} product(s) ${JSON.stringify(inFlight.byReason)}, ` +
        `${inFlight.outboxEventsBehindCollector} published event(s) the collector has not reached.`,
    );
    if (!report.ranking.keyExists) this.log(`The live ranking key ${report.ranking.key} does not exist.`);
    this.table(report.differences, [
      { header: 'Check', get: (d) => d.check },
      { header: 'Product', get: (d) => d.productId ?? '', align: 'right' },
      { header: 'Event', get: (d) => d.eventId ?? '' },
      { header: 'Field', get: (d) => d.field },
      { header: 'Expected', get: (d) => String(d.expected), align: 'right' },
      { header: 'Actual', get: (d) => String(d.actual), align: 'right' },
    ]);
    this.log(report.consistent ? 'Consistent.' : `${report.differences.length} difference(s).`);
    if (!report.consistent) process.exitCode = ExitCode.VERIFY; // the report (the differences) is the output
    return report;
  }
}
