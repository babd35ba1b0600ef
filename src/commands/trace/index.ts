import { Args } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { TRACE_DESCRIPTION, traceFlags } from '../../lib/cli/trace-flags.js';
import { traceCommand, type TraceReport } from '../../jobs/trace/trace.js';
import type { TraceKind } from '../../jobs/trace/types.js';

/** `trace <kind> <id>`: the same as `trace order|product|event <id>`; an unknown kind is a usage error naming it. */
export default class Trace extends BaseCommand<typeof Trace> {
  static override summary =
    'Where is my event? trace order <id> | trace product <id> | trace event <event-id>.';
  static override description = TRACE_DESCRIPTION;
  static override examples = [
    '<%= config.bin %> trace order 8123',
    '<%= config.bin %> trace event 3f0c2a9e-... --json',
  ];
  static override args = {
    kind: Args.string({
      required: true,
      options: ['order', 'product', 'event'],
      description: 'What to trace.',
    }),
    id: Args.string({ required: true, description: 'Its id (an event id is a uuid).' }),
  };
  static override flags = traceFlags;

  static override exitCodes = ['UNAVAILABLE'] as const;

  public async run(): Promise<TraceReport> {
    const deps = { config: this.appConfig, logger: this.logger, log: (text: string) => this.log(text) };
    return traceCommand(deps, { kind: this.args.kind as TraceKind, id: this.args.id }, this.flags);
  }
}
