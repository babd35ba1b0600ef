import { Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { runOrdersExpire, type ExpireResult } from '../../jobs/orders-expire/expire.js';

export default class OrdersExpire extends BaseCommand<typeof OrdersExpire> {
  static override summary = 'Expire unpaid orders past their payment window: EXPIRED, stock given back.';
  static override description =
    'Orders not paid by created_at + ORDER_PAYMENT_TTL become EXPIRED in batches (stock back, ' +
    'StockAdjusted + OrderExpired in the same transaction). An order with a payment in flight waits ' +
    'for it. One run at a time (exit 5), recorded in job_run; --dry-run lists what would expire.';
  static override examples = [
    '<%= config.bin %> orders expire',
    '<%= config.bin %> orders expire --dry-run --json',
    '<%= config.bin %> orders expire --batch-size 200 --limit 20000',
  ];
  static override flags = {
    'batch-size': Flags.integer({ default: 100, min: 1, max: 10_000, summary: 'Orders per transaction.' }),
    limit: Flags.integer({
      default: 10_000,
      min: 1,
      max: 1_000_000,
      summary: 'At most this many orders per run.',
    }),
    'dry-run': Flags.boolean({ default: false, summary: 'List what would expire; change nothing.' }),
  };

  static override exitCodes = ['UNAVAILABLE', 'LOCKED'] as const;

  public async run(): Promise<ExpireResult> {
    const progress = this.progress('expiring unpaid orders', 'orders expire failed');
    const dryRun = this.flags['dry-run'];
    const result = await runOrdersExpire(
      { config: this.appConfig, pool: this.db(), redis: this.redis(), logger: this.logger },
      {
        batchSize: this.flags['batch-size'],
        limit: this.flags.limit,
        dryRun,
        signal: this.signal,
        onProgress: (t) => progress.update(t),
      },
    );
    progress.succeed(`${result.expired} order(s) ${dryRun ? 'would expire' : 'expired'}`);
    this.table(
      result.orders,
      [
        { header: 'Order', get: (o) => o.orderId, align: 'right' },
        { header: 'User', get: (o) => o.userId },
        { header: 'Amount', get: (o) => o.totalAmount, align: 'right' },
        { header: 'Expired at', get: (o) => o.expiresAt },
      ],
      dryRun ? 'Dry run: nothing was changed. These orders would expire:' : `Run ${result.jobRunId}:`,
    );
    if (result.waitingForPayment > 0)
      this.log(`${result.waitingForPayment} order(s) past their window wait for a payment in flight.`);
    if (result.interrupted)
      this.log('Interrupted by a signal: stopped between batches; the next run takes the rest.');
    return result;
  }
}
