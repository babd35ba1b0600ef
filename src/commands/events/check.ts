import { Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { CliError, ExitCode } from '../../lib/errors.js';
import { describeIncompatibility } from '../../lib/events/compat.js';
import { checkEvents, type EventsCheck } from '../../lib/events/published.js';

export default class EventsCheckCommand extends BaseCommand<typeof EventsCheckCommand> {
  static override summary = 'The compatibility gate: the event definitions against every released schema.';
  static override description =
    'Compares what the zod definitions generate with the committed schemas/events/<Type>/v<N>.json of every ' +
    'released version, and fails (exit 1, one line per change: type, version, field, rule) on a change that ' +
    'would break a reader of that version. A new optional field passes; a new version passes (publish it ' +
    'with `npm run schemas`). Needs no service; CI runs it before the tests.';
  static override examples = ['<%= config.bin %> events check', '<%= config.bin %> events check --json'];
  static override flags = {
    dir: Flags.string({ summary: "The committed schemas' folder (default: this package's schemas/)." }),
  };

  static override exitCodes = [] as const;

  public async run(): Promise<EventsCheck> {
    const result = await checkEvents(this.flags.dir);
    if (result.incompatible.length > 0)
      throw new CliError(
        `${result.incompatible.length} breaking change(s) to released event schemas ` +
          `(make a new version with an upcaster, docs/event-evolution.md):\n` +
          result.incompatible.map((i) => `  ${describeIncompatibility(i)}`).join('\n'),
        'EVENTS_INCOMPATIBLE',
        ExitCode.FAILURE,
      );
    if (!this.jsonEnabled()) {
      this.log(`${result.checked} released schema(s) compatible`);
      for (const u of result.unpublished)
        this.log(`${u.eventType} v${u.version}: new, not yet published (npm run schemas)`);
    }
    return result;
  }
}
