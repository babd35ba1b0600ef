import { BaseCommand } from '../../lib/cli/base-command.js';
import { ensureTopics, pipelineTopics, type TopicState } from '../../lib/kafka/topics.js';

export default class KafkaTopics extends BaseCommand<typeof KafkaTopics> {
  static override summary =
    "Create the pipeline's topics and their dead-letter topics if missing, and list them.";
  static override description =
    'Idempotent: existing topics are left as they are. Partition count and replication come from ' +
    'KAFKA_PARTITIONS and KAFKA_REPLICATION_FACTOR; names are prefixed with KAFKA_TOPIC_PREFIX.';
  static override examples = [
    '<%= config.bin %> kafka topics',
    'KAFKA_PARTITIONS=6 <%= config.bin %> kafka topics --json',
  ];

  public async run(): Promise<{ topics: TopicState[] }> {
    const topics = await ensureTopics(this.kafka(), pipelineTopics(this.appConfig.kafka));
    this.table(topics, [
      { header: 'Topic', get: (t) => t.name },
      { header: 'Role', get: (t) => t.role },
      { header: 'Partitions', get: (t) => t.actualPartitions, align: 'right' },
      { header: 'Created now', get: (t) => (t.created ? 'yes' : 'no') },
    ]);
    return { topics };
  }
}
