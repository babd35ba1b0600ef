import type { Kafka, ITopicConfig } from 'kafkajs';
import { prefixedTopic, type AppConfig } from '../config/config.js';
import { withAdmin } from './admin.js';

/** The dead-letter topic of a topic. */
export function dlqTopic(topic: string): string {
  return `${topic}.dlq`;
}

/** The dead-letter topic a `--topic` flag names (unprefixed, like every flag's topic); catalog-events' by default. */
export function deadLetterTopicOf(config: AppConfig['kafka'], flag: string | undefined): string {
  return flag ? prefixedTopic(config, flag) : dlqTopic(config.topics.catalog);
}

export interface TopicSpec {
  name: string;
  partitions: number;
  replicationFactor: number;
  role: 'events' | 'dead-letter';
}

/** The pipeline's topics: each event topic and its dead-letter topic. */
export function pipelineTopics(config: AppConfig['kafka']): TopicSpec[] {
  const specs: TopicSpec[] = [];
  for (const name of [config.topics.catalog, config.topics.order]) {
    specs.push({
      name,
      partitions: config.partitions,
      replicationFactor: config.replicationFactor,
      role: 'events',
    });
    // Dead letters are few and replayed by hand: one partition keeps them in failure order.
    specs.push({
      name: dlqTopic(name),
      partitions: 1,
      replicationFactor: config.replicationFactor,
      role: 'dead-letter',
    });
  }
  return specs;
}

export interface TopicState extends TopicSpec {
  created: boolean;
  actualPartitions: number;
}

/** Creates missing topics (idempotent) and reports every topic with its real partition count. */
export async function ensureTopics(kafka: Kafka, specs: TopicSpec[]): Promise<TopicState[]> {
  return withAdmin(kafka, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.name));
    if (missing.length > 0) {
      const topics: ITopicConfig[] = missing.map((s) => ({
        topic: s.name,
        numPartitions: s.partitions,
        replicationFactor: s.replicationFactor,
      }));
      await admin.createTopics({ topics, waitForLeaders: true });
    }
    const metadata = await admin.fetchTopicMetadata({ topics: specs.map((s) => s.name) });
    const partitions = new Map(metadata.topics.map((t) => [t.name, t.partitions.length]));
    return specs.map((s) => ({
      ...s,
      created: missing.some((m) => m.name === s.name),
      actualPartitions: partitions.get(s.name) ?? 0,
    }));
  });
}
