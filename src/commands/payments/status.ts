import { BaseCommand } from '../../lib/cli/base-command.js';
import { formatDuration } from '../../lib/duration.js';
import { paymentsStatus, type PaymentsStatus } from '../../domain/payments/status.js';

export default class PaymentsStatusCommand extends BaseCommand<typeof PaymentsStatusCommand> {
  static override summary = 'Payments by status and the oldest payment not settled yet.';
  static override examples = [
    '<%= config.bin %> payments status',
    '<%= config.bin %> payments status --json',
  ];

  static override exitCodes = ['UNAVAILABLE'] as const;

  public async run(): Promise<PaymentsStatus> {
    const status = await paymentsStatus(this.db());
    this.table(
      Object.entries(status.counts).map(([name, value]) => ({ name, value })),
      [
        { header: 'Status', get: (r) => r.name },
        { header: 'Payments', get: (r) => r.value, align: 'right' },
      ],
    );
    const o = status.oldestUnsettled;
    this.log(
      o
        ? `Oldest unsettled: payment ${o.id} (order ${o.orderId}, ${o.status}), ${formatDuration(o.ageMs)} old`
        : 'Nothing unsettled.',
    );
    return status;
  }
}
