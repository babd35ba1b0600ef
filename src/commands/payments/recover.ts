import { Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { durationFlag } from '../../lib/cli/flags.js';
import { ExitCode } from '../../lib/errors.js';
import type { RecoverResult } from '../../jobs/payments-recover/recover.js';
import { runPaymentsRecover } from '../../jobs/payments-recover/run.js';

export default class PaymentsRecover extends BaseCommand<typeof PaymentsRecover> {
  static override summary =
    'Settle payments left REQUESTED or PENDING from the gateway; resend the ones it never got.';
  static override description =
    'Oldest first, at most --limit; finishes refunds the gateway did not confirm. One run at a time ' +
    '(exit 5), recorded in job_run. Stops early when the circuit breaker opens (gateway down). ' +
    'Exit 1 when some payments could not be settled, 4 when PostgreSQL is unreachable.';
  static override examples = [
    '<%= config.bin %> payments recover',
    '<%= config.bin %> payments recover --older-than 5m --limit 500 --json',
  ];
  static override flags = {
    'older-than': durationFlag({
      default: 60_000,
      summary: 'Only payments unchanged for this long (1m, 30s, 2h).',
    }),
    limit: Flags.integer({
      default: 1000,
      min: 1,
      max: 100_000,
      summary: 'At most this many payments per run.',
    }),
  };

  static override exitCodes = ['UNAVAILABLE', 'LOCKED'] as const;

  public async run(): Promise<RecoverResult> {
    const progress = this.progress('recovering payments', 'payments recover failed');
    const result = await runPaymentsRecover(
      { pool: this.db(), config: this.appConfig, logger: this.logger },
      {
        olderThanMs: this.flags['older-than'],
        limit: this.flags.limit,
        signal: this.signal,
        onProgress: (t) => progress.update(t),
      },
    );
    progress.succeed(`${result.examined} payment(s) examined`);
    this.table(
      Object.entries(result.counts).map(([action, n]) => ({ action, n })),
      [
        { header: 'Action', get: (r) => r.action },
        { header: 'Payments', get: (r) => r.n, align: 'right' },
      ],
      `Run ${result.jobRunId}:`,
    );
    if (result.stoppedEarly === 'breaker-open')
      this.log('Stopped early: the gateway is down (circuit breaker open); the rest waits for the next run.');
    else if (result.stoppedEarly) this.log(`Stopped early (${result.stoppedEarly}).`);
    if (result.unsettled > 0) {
      process.stderr.write(`${result.unsettled} payment(s) could not be settled in this run\n`);
      process.exitCode = ExitCode.FAILURE;
    }
    return result;
  }
}
