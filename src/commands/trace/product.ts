import { Args } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { TRACE_DESCRIPTION, traceFlags } from '../../lib/cli/trace-flags.js';
import { traceCommand, type TraceReport } from '../../jobs/trace/trace.js';

export default class TraceProduct extends BaseCommand<typeof TraceProduct> {
  static override summary =
    "Where a product's events are: outbox, Kafka, each group and handler, dead letters.";
  static override description = TRACE_DESCRIPTION;
  static override examples = [
    '<%= config.bin %> trace product 42',
    '<%= config.bin %> trace product 42 --json',
  ];
  static override args = { id: Args.string({ required: true, description: 'The product id.' }) };
  static override flags = traceFlags;

  static override exitCodes = ['UNAVAILABLE'] as const;

  public async run(): Promise<TraceReport> {
    const deps = { config: this.appConfig, logger: this.logger, log: (text: string) => this.log(text) };
    return traceCommand(deps, { kind: 'product', id: this.args.id }, this.flags);
  }
}
