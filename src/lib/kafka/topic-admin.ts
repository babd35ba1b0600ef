import type { Admin } from 'kafkajs';
import { ConfigResourceTypes, ConfigSource } from './kafkajs.js';
import { kafkaErrorKind } from './errors.js';
import type { ObservedTopic, TopicSpec } from './topic-state.js';

/**
 * The admin calls of `kafka topics`, one request each, no waiting: topics.ts repeats them until the
 * cluster has settled. Each can fail while a fresh or changing cluster's brokers catch up with its
 * metadata; isTransientTopicError says which failures are worth another attempt.
 */

/** Creates one topic with its configs; false when it already exists (a concurrent run made it). */
export async function createTopic(admin: Admin, spec: TopicSpec): Promise<boolean> {
  return admin.createTopics({
    // Its leaders are waited for by the caller (with every other condition, on every broker's answer).
    waitForLeaders: false,
    topics: [
      {
        topic: spec.name,
        numPartitions: spec.partitions,
        replicationFactor: spec.replicationFactor,
        configEntries: Object.entries(spec.configs).map(([name, value]) => ({ name, value })),
      },
    ],
  });
}

/** Partitions (leaders, replicas, in-sync replicas) and configs of the topics, as the cluster says now. */
export async function observeTopics(admin: Admin, names: string[]): Promise<Map<string, ObservedTopic>> {
  const metadata = await admin.fetchTopicMetadata({ topics: names });
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: names.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
  });
  const observed = new Map<string, ObservedTopic>();
  for (const t of metadata.topics) {
    const resource = described.resources.find((r) => r.resourceName === t.name);
    const entries = resource?.configEntries ?? [];
    observed.set(t.name, {
      name: t.name,
      partitions: t.partitions.map((p) => ({
        partitionId: p.partitionId,
        leader: p.leader,
        replicas: p.replicas,
        isr: p.isr,
      })),
      configs: Object.fromEntries(entries.map((e) => [e.configName, e.configValue])),
      topicConfigs: Object.fromEntries(
        entries
          .filter((e) => e.configSource === ConfigSource.TOPIC_CONFIG)
          .map((e) => [e.configName, e.configValue]),
      ),
    });
  }
  return observed;
}

/** Sets each topic's configs to exactly these (see alteredConfigs: the legacy request replaces them all). */
export async function alterTopicConfigs(
  admin: Admin,
  configs: Map<string, Record<string, string>>,
): Promise<void> {
  await admin.alterConfigs({
    validateOnly: false,
    resources: [...configs].map(([name, entries]) => ({
      type: ConfigResourceTypes.TOPIC,
      name,
      configEntries: Object.entries(entries).map(([n, value]) => ({ name: n, value })),
    })),
  });
}

/**
 * Kafka protocol errors a fresh or changing cluster answers until its brokers agree, besides every
 * outage: a broker that has not applied the topic yet ("This server does not host this
 * topic-partition"), a topic a concurrent run created first, fewer brokers registered than the
 * replication factor (a cluster still starting), a controller or leader that moved.
 */
const SETTLING = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'TOPIC_ALREADY_EXISTS',
  'INVALID_REPLICATION_FACTOR',
  'LEADER_NOT_AVAILABLE',
  'NOT_CONTROLLER',
]);

/** Worth another attempt before the deadline (kafkajs' `retriable` flag, an outage or SETTLING). */
export function isTransientTopicError(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 8; depth++) {
    const k = e as {
      type?: string;
      retriable?: boolean;
      errors?: unknown[];
      cause?: unknown;
      originalError?: unknown;
    };
    if (
      k.retriable === true ||
      kafkaErrorKind(e) === 'unavailable' ||
      (k.type !== undefined && SETTLING.has(k.type))
    )
      return true;
    // createTopics' KafkaJSAggregateError: one error per topic.
    if (Array.isArray(k.errors) && k.errors.length > 0) return k.errors.every(isTransientTopicError);
    e = k.cause ?? k.originalError;
  }
  return false;
}
