import { Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { topicsFlag } from '../../lib/cli/flags.js';
import { collectorLag, describeCollectorLag, type CollectorLagResult } from '../../jobs/collector/lag.js';

export default class CollectorLag extends BaseCommand<typeof CollectorLag> {
  static override summary =
    "The collector group's committed offset, end offset and lag per partition, in messages and in seconds.";
  static override description =
    'Read through the admin API: the group is not joined or disturbed. A partition the group has ' +
    'never committed on counts its lag from the low watermark (everything still on the log). ' +
    'Lag in seconds (lagSeconds, "Behind") is the age of the oldest unconsumed message: the Kafka ' +
    'timestamp of the message at the committed offset, read without joining any group; 0 when caught up. ' +
    '--all-groups shows every consumer group that consumes the topics (committed offsets or live members).';
  static override examples = [
    '<%= config.bin %> collector lag',
    '<%= config.bin %> collector lag --all-groups --json',
    '<%= config.bin %> collector lag --group commerce-collector --topics catalog-events --json',
  ];
  static override flags = {
    group: Flags.string({ summary: 'Consumer group (default KAFKA_GROUP_ID).', exclusive: ['all-groups'] }),
    'all-groups': Flags.boolean({
      summary: 'Every consumer group that consumes the topics, e.g. one per handler set.',
      default: false,
    }),
    topics: topicsFlag({
      multiple: true,
      summary: 'Topics to check, without KAFKA_TOPIC_PREFIX (default: the two event topics).',
    }),
  };

  static override exitCodes = ['UNAVAILABLE'] as const;

  public async run(): Promise<CollectorLagResult> {
    const lag = await collectorLag(this.kafka(), this.appConfig.kafka, {
      group: this.flags.group,
      allGroups: this.flags['all-groups'],
      topics: this.flags.topics?.flat(),
    });
    const { rows, columns, lines } = describeCollectorLag(lag);
    this.table(rows, columns);
    for (const line of lines) this.log(line);
    return lag;
  }
}
