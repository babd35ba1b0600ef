import { Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { topicsFlag } from '../../lib/cli/flags.js';
import { prefixedTopic } from '../../lib/config/config.js';
import { consumerLag, type GroupLag } from '../../lib/kafka/consumer-lag.js';

export default class CollectorLag extends BaseCommand<typeof CollectorLag> {
  static override summary = "The collector group's committed offset, end offset and lag per partition.";
  static override description =
    'Read through the admin API: the group is not joined or disturbed. A partition the group has ' +
    'never committed on counts its lag from the low watermark (everything still on the log).';
  static override examples = [
    '<%= config.bin %> collector lag',
    '<%= config.bin %> collector lag --group commerce-collector --topics catalog-events --json',
  ];
  static override flags = {
    group: Flags.string({ summary: 'Consumer group (default KAFKA_GROUP_ID).' }),
    topics: topicsFlag({
      multiple: true,
      summary: 'Topics to check, without KAFKA_TOPIC_PREFIX (default: the two event topics).',
    }),
  };

  public async run(): Promise<GroupLag> {
    const { kafka } = this.appConfig;
    const named = this.flags.topics?.flat().map((t) => prefixedTopic(kafka, t));
    const topics = named ? [...new Set(named)] : [kafka.topics.catalog, kafka.topics.order];
    const lag = await consumerLag(this.kafka(), this.flags.group ?? kafka.groupId, topics);
    this.table(lag.partitions, [
      { header: 'Topic', get: (p) => p.topic },
      { header: 'Partition', get: (p) => p.partition, align: 'right' },
      { header: 'Committed', get: (p) => p.committed ?? '-', align: 'right' },
      { header: 'End', get: (p) => p.end, align: 'right' },
      { header: 'Lag', get: (p) => p.lag, align: 'right' },
    ]);
    this.log(`Group ${lag.groupId}: total lag ${lag.total}`);
    return lag;
  }
}
