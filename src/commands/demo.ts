import { Flags } from '@oclif/core';
import { BaseCommand } from '../lib/cli/base-command.js';
import { ExitCode, VerifyError } from '../lib/errors.js';
import { durationFlag } from '../lib/cli/flags.js';
import { DEMO_LIMITS, type DemoOptions } from '../jobs/demo/options.js';
import { renderReport } from '../jobs/demo/report.js';
import type { DemoResult } from '../jobs/demo/demo.js';
import { runQuietDemo } from '../jobs/demo/run.js';

const { users, products, orders, concurrency } = DEMO_LIMITS;

export default class Demo extends BaseCommand<typeof Demo> {
  static override summary = 'Run the whole pipeline on simulated traffic, report, and check the metrics.';
  static override description =
    'Seeds a run-unique brand and products, starts the API, a relay and a collector in this process, ' +
    'drives views, likes, orders, payments and cancellations over HTTP, expires the unpaid orders and ' +
    'refunds a payment that lands on one of them, waits for the pipeline, runs ' +
    'the weekly and monthly aggregation and prints the rankings and pipeline figures. Exit 6 when ' +
    "product_metrics differ from what the traffic implies. Only this run's products are checked, so it can run again.";
  static override examples = [
    '<%= config.bin %> demo',
    '<%= config.bin %> demo --users 50 --products 100 --orders 1000 --concurrency 16',
    '<%= config.bin %> demo --duration 20s --json',
  ];
  static override flags = {
    users: Flags.integer({ ...users, summary: `Simulated users (${users.min}-${users.max}).` }),
    products: Flags.integer({ ...products, summary: `Products to seed (${products.min}-${products.max}).` }),
    orders: Flags.integer({ ...orders, summary: `Orders to send (${orders.min}-${orders.max}).` }),
    duration: durationFlag({
      summary: 'Stop the traffic after this long (e.g. 20s), even if orders remain.',
    }),
    concurrency: Flags.integer({
      ...concurrency,
      summary: `Concurrent HTTP clients (${concurrency.min}-${concurrency.max}).`,
    }),
  };

  static override exitCodes = ['UNAVAILABLE', 'LOCKED', 'VERIFY'] as const;

  public async run(): Promise<DemoResult> {
    const f = this.flags;
    const options: DemoOptions = {
      users: f.users,
      products: f.products,
      orders: f.orders,
      concurrency: f.concurrency,
      durationMs: f.duration,
    };
    const progress = this.progress('starting', 'demo failed');
    const result = await runQuietDemo(
      {
        config: this.appConfig,
        pool: this.db(),
        redis: this.redis(),
        logger: this.logger,
        signal: this.signal,
        onStage: (text: string) => progress.update(text),
      },
      options,
    );
    progress.succeed(`done in ${(result.durationMs / 1000).toFixed(1)}s`);
    if (!this.jsonEnabled()) this.log(renderReport(result));
    if (!result.verified) {
      if (this.jsonEnabled()) {
        process.exitCode = ExitCode.VERIFY; // the result (verified: false, the mismatches) is the output
        return result;
      }
      throw new VerifyError('product_metrics differ from what the traffic implies (see above)');
    }
    return result;
  }
}
