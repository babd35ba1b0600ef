import { Args } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { TRACE_DESCRIPTION, traceFlags } from '../../lib/cli/trace-flags.js';
import { traceCommand, type TraceReport } from '../../jobs/trace/trace.js';

export default class TraceOrder extends BaseCommand<typeof TraceOrder> {
  static override summary =
    "Where an order's events are: outbox, Kafka, each group and handler, dead letters, payments.";
  static override description = TRACE_DESCRIPTION;
  static override examples = [
    '<%= config.bin %> trace order 8123',
    '<%= config.bin %> trace order 8123 --json',
  ];
  static override args = { id: Args.string({ required: true, description: 'The order id.' }) };
  static override flags = traceFlags;

  static override exitCodes = ['UNAVAILABLE'] as const;

  public async run(): Promise<TraceReport> {
    const deps = { config: this.appConfig, logger: this.logger, log: (text: string) => this.log(text) };
    return traceCommand(deps, { kind: 'order', id: this.args.id }, this.flags);
  }
}
