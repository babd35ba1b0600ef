import { Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { topicsFlag } from '../../lib/cli/flags.js';
import { prefixedTopic } from '../../lib/config/config.js';
import { allGroupsLag, consumerLag, type GroupLag } from '../../lib/kafka/consumer-lag.js';

export default class CollectorLag extends BaseCommand<typeof CollectorLag> {
  static override summary = "The collector group's committed offset, end offset and lag per partition.";
  static override description =
    'Read through the admin API: the group is not joined or disturbed. A partition the group has ' +
    'never committed on counts its lag from the low watermark (everything still on the log). ' +
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

  public async run(): Promise<GroupLag | { groups: GroupLag[]; total: number }> {
    const { kafka } = this.appConfig;
    const named = this.flags.topics?.flat().map((t) => prefixedTopic(kafka, t));
    const topics = named ? [...new Set(named)] : [kafka.topics.catalog, kafka.topics.order];
    if (this.flags['all-groups']) {
      const groups = await allGroupsLag(this.kafka(), topics);
      this.table(
        groups.flatMap((g) => g.partitions.map((p) => ({ group: g.groupId, ...p }))),
        [{ header: 'Group', get: (p) => p.group }, ...COLUMNS],
      );
      for (const g of groups) this.log(`Group ${g.groupId}: total lag ${g.total}`);
      if (groups.length === 0) this.log('No consumer group consumes these topics.');
      return { groups, total: groups.reduce((sum, g) => sum + g.total, 0) };
    }
    const lag = await consumerLag(this.kafka(), this.flags.group ?? kafka.groupId, topics);
    this.table(lag.partitions, COLUMNS);
    this.log(`Group ${lag.groupId}: total lag ${lag.total}`);
    return lag;
  }
}

const COLUMNS = [
  { header: 'Topic', get: (p: GroupLag['partitions'][number]) => p.topic },
  { header: 'Partition', get: (p: GroupLag['partitions'][number]) => p.partition, align: 'right' as const },
  {
    header: 'Committed',
    get: (p: GroupLag['partitions'][number]) => p.committed ?? '-',
    align: 'right' as const,
  },
  { header: 'End', get: (p: GroupLag['partitions'][number]) => p.end, align: 'right' as const },
  { header: 'Lag', get: (p: GroupLag['partitions'][number]) => p.lag, align: 'right' as const },
];
