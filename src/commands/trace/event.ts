import { Args } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { TRACE_DESCRIPTION, traceFlags } from '../../lib/cli/trace-flags.js';
import { traceCommand, type TraceReport } from '../../jobs/trace/trace.js';

export default class TraceEvent extends BaseCommand<typeof TraceEvent> {
  static override summary = 'Where one event is: outbox, Kafka, each group and handler, dead letters.';
  static override description = TRACE_DESCRIPTION;
  static override examples = [
    '<%= config.bin %> trace event 3f0c2a9e-5b1d-4c8e-9f00-1a2b3c4d5e6f',
    '<%= config.bin %> trace event 3f0c2a9e-5b1d-4c8e-9f00-1a2b3c4d5e6f --json',
  ];
  static override args = { id: Args.string({ required: true, description: 'The event id (a uuid).' }) };
  static override flags = traceFlags;

  static override exitCodes = ['UNAVAILABLE'] as const;

  public async run(): Promise<TraceReport> {
    const deps = { config: this.appConfig, logger: this.logger, log: (text: string) => this.log(text) };
    return traceCommand(deps, { kind: 'event', id: this.args.id }, this.flags);
  }
}
