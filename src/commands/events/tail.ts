import { Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { durationFlag } from '../../lib/cli/flags.js';
import { EVENT_TYPES } from '../../lib/events/index.js';
import { formatTailed, tailEvents } from '../../jobs/events-tail/tail.js';

export default class EventsTail extends BaseCommand<typeof EventsTail> {
  static override summary = 'Decoded events from the event topics, as they arrive or from a time.';
  static override description =
    'A readable line per event on a terminal, NDJSON otherwise (one {topic, partition, offset, timestamp, ' +
    'key, event} per line). Reads without any consumer group: it never takes a partition from a collector, ' +
    'commits nothing, leaves nothing behind. Runs until SIGINT/SIGTERM, --max events or, with ' +
    '--until-idle, the end of every partition. Exit 2 for an unknown --type or a malformed --since.';
  static override examples = [
    '<%= config.bin %> events tail',
    '<%= config.bin %> events tail --type OrderCreated --since 10m',
    '<%= config.bin %> events tail --aggregate order --key 8123 --from-beginning --until-idle',
    '<%= config.bin %> events tail --type OrderPaid --type OrderCancelled --max 10 | jq .event.payload',
  ];
  // NDJSON is the machine output; an envelope at the end would not stream.
  static override enableJsonFlag = false;
  static override flags = {
    type: Flags.string({
      multiple: true,
      delimiter: ',',
      summary: `Only these event types (repeatable or comma-separated): ${EVENT_TYPES.join(', ')}.`,
    }),
    aggregate: Flags.string({
      options: ['product', 'order'],
      summary: 'Only this aggregate type (and its topic).',
    }),
    key: Flags.string({ summary: "Only this message key: the aggregate's id, e.g. an order id." }),
    since: durationFlag({
      summary: 'Start this long ago (Kafka timestamps), e.g. 10m.',
      exclusive: ['from-beginning'],
    }),
    'from-beginning': Flags.boolean({
      default: false,
      summary: 'Start at the oldest event still on the topics.',
    }),
    max: Flags.integer({ min: 1, summary: 'Stop after this many events.' }),
    'until-idle': Flags.boolean({
      default: false,
      summary: 'Stop once every partition has been read to its end.',
    }),
  };

  static override exitCodes = ['UNAVAILABLE'] as const;

  public async run(): Promise<void> {
    const tty = process.stdout.isTTY === true;
    await tailEvents(this.kafka(), this.appConfig.kafka, {
      types: this.flags.type,
      aggregate: this.flags.aggregate as 'product' | 'order' | undefined,
      key: this.flags.key,
      sinceMs: this.flags.since,
      fromBeginning: this.flags['from-beginning'],
      max: this.flags.max,
      untilIdle: this.flags['until-idle'],
      signal: this.signal,
      logger: this.logger,
      emit: (e) => process.stdout.write(`${tty ? formatTailed(e) : JSON.stringify(e)}\n`),
    });
  }
}
