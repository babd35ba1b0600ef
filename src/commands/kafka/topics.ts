import { Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { durationFlag } from '../../lib/cli/flags.js';
import { ExitCode } from '../../lib/errors.js';
import { ensureTopics, pipelineTopics, type TopicState } from '../../lib/kafka/topics.js';

export default class KafkaTopics extends BaseCommand<typeof KafkaTopics> {
  static override summary =
    "Create the pipeline's topics and their dead-letter topics if missing, wait until they serve, and list them.";
  static override description =
    'Idempotent and safe to run concurrently. Partition count and replication come from ' +
    'KAFKA_PARTITIONS and KAFKA_REPLICATION_FACTOR; names are prefixed with KAFKA_TOPIC_PREFIX. Created ' +
    'topics get min.insync.replicas (KAFKA_MIN_INSYNC_REPLICAS, default replication factor minus one, at ' +
    'least 1) and unclean.leader.election.enable=false. Waits until every partition has a leader and ' +
    'enough in-sync replicas (exit 4 past --timeout). An existing topic is never changed unless ' +
    '--alter-configs, which sets those two configs only; partitions and replicas are never changed. A ' +
    'topic that still differs from what the command would set is reported and the exit code is 6.';
  static override examples = [
    '<%= config.bin %> kafka topics',
    'KAFKA_PARTITIONS=6 KAFKA_REPLICATION_FACTOR=3 <%= config.bin %> kafka topics --json',
    '<%= config.bin %> kafka topics --min-insync-replicas 2 --alter-configs',
  ];
  static override flags = {
    'min-insync-replicas': Flags.integer({
      summary:
        'min.insync.replicas of the topics (env KAFKA_MIN_INSYNC_REPLICAS; default replication factor - 1).',
      min: 1,
      max: 10,
    }),
    'alter-configs': Flags.boolean({
      summary: 'Set min.insync.replicas and unclean.leader.election.enable on existing topics that differ.',
      default: false,
    }),
    timeout: durationFlag({ summary: 'How long to wait for the cluster to settle, e.g. 2m (default 60s).' }),
  };

  static override exitCodes = ['UNAVAILABLE', 'VERIFY'] as const;

  public async run(): Promise<{ topics: TopicState[] }> {
    const { kafka } = this.appConfig;
    const topics = await ensureTopics(
      this.kafka(),
      pipelineTopics(kafka, this.flags['min-insync-replicas']),
      {
        timeoutMs: this.flags.timeout,
        alterConfigs: this.flags['alter-configs'],
        signal: this.signal,
        logger: this.logger,
      },
    );
    this.table(topics, [
      { header: 'Topic', get: (t) => t.name },
      { header: 'Role', get: (t) => t.role },
      { header: 'Partitions', get: (t) => t.actualPartitions, align: 'right' },
      { header: 'Replicas', get: (t) => t.actualReplicationFactor, align: 'right' },
      { header: 'Min ISR', get: (t) => t.actualConfigs['min.insync.replicas'], align: 'right' },
      { header: 'Created now', get: (t) => (t.created ? 'yes' : 'no') },
      { header: 'Altered', get: (t) => t.altered.join(', ') },
      {
        header: 'Differs from what it would set',
        get: (t) => t.differences.map((d) => `${d.setting} ${d.actual} (wants ${d.wanted})`).join('; '),
      },
    ]);
    const differing = topics.filter((t) => t.differences.length > 0);
    if (differing.length > 0) {
      this.log(
        `${differing.length} topic(s) differ from what kafka topics would set. --alter-configs sets ` +
          'min.insync.replicas and unclean.leader.election.enable; partitions and replicas are yours to change.',
      );
      process.exitCode = ExitCode.VERIFY; // the topics (with their differences) are the output
    }
    return { topics };
  }
}
