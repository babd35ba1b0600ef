import type { Admin, Kafka } from 'kafkajs';
import type { AppConfig } from '../../lib/config/config.js';
import { errorMessage } from '../../lib/errors.js';
import { allGroupsLagWith } from '../../lib/kafka/consumer-lag.js';
import { openPartitionFetcher, type PartitionFetcher } from '../../lib/kafka/partition-fetch.js';
import { observeTopics } from '../../lib/kafka/topic-admin.js';
import { MIN_INSYNC_REPLICAS, differences, replicationFactorOf } from '../../lib/kafka/topic-state.js';
import { dlqTopic, pipelineTopics } from '../../lib/kafka/topics.js';
import { age, fail, ok, warn, type CheckResult } from './check.js';

const F = 'kafka';
/** A group this far behind (its oldest unconsumed event) is late; the alert CommerceCollectorLagging pages at 5 minutes. */
const LAG_WARN_SECONDS = 60;
const LAG_FAIL_SECONDS = 300;

/**
 * Reachable; every pipeline topic present with its partitions, replication factor and
 * min.insync.replicas (the spec `kafka topics` creates); the consumer groups of the event topics and
 * their lag in messages and seconds; dead letters. `connect` failing is the one FAIL that names Kafka
 * unreachable; the caller bounds the whole family with its timeout and closes the clients after.
 */
export async function kafkaChecks(
  kafka: Kafka,
  config: AppConfig['kafka'],
  holder: { admin?: Admin; fetcher?: PartitionFetcher },
): Promise<CheckResult[]> {
  const admin = kafka.admin();
  holder.admin = admin;
  try {
    await admin.connect();
    const { brokers } = await admin.describeCluster();
    holder.fetcher = await openPartitionFetcher(kafka);
    const out = [ok(F, 'Kafka reachable', `${brokers.length} broker(s) at ${config.brokers.join(',')}`)];
    const existing = new Set(await admin.listTopics());
    out.push(...(await topicChecks(admin, config, existing)));
    const events = [config.topics.catalog, config.topics.order].filter((t) => existing.has(t));
    out.push(...(await groupChecks(admin, holder.fetcher, events)));
    out.push(await deadLetterCheck(admin, config, existing));
    return out;
  } catch (err) {
    return [
      fail(
        F,
        'Kafka reachable',
        `Kafka is unreachable at ${config.brokers.join(',')}: ${errorMessage(err)}`,
        'start Kafka or set KAFKA_BROKERS (--kafka-brokers) to reachable brokers (use 127.0.0.1, not localhost)',
      ),
    ];
  }
}

async function topicChecks(
  admin: Admin,
  config: AppConfig['kafka'],
  existing: Set<string>,
): Promise<CheckResult[]> {
  const specs = pipelineTopics(config);
  const present = specs.filter((s) => existing.has(s.name));
  const observed =
    present.length > 0
      ? await observeTopics(
          admin,
          present.map((s) => s.name),
        )
      : new Map();
  const out: CheckResult[] = [];
  for (const spec of specs) {
    const name = `topic ${spec.name}`;
    const topic = observed.get(spec.name);
    if (!topic) {
      out.push(
        fail(F, name, 'missing', 'commerce kafka topics (creates the missing topics with their configs)'),
      );
      continue;
    }
    const rf = replicationFactorOf(topic);
    const isr = topic.configs[MIN_INSYNC_REPLICAS] ?? '?';
    const detail = `${topic.partitions.length} partition(s), RF ${rf}, min.insync.replicas ${isr}`;
    const diffs = differences(spec, topic).filter((d) => d.setting !== 'replication-factor' || rf > 1);
    if (diffs.some((d) => d.setting === 'partitions'))
      out.push(
        warn(
          F,
          name,
          `${detail}; KAFKA_PARTITIONS is ${spec.partitions}`,
          "set KAFKA_PARTITIONS to the topic's count (adding partitions moves keys: kafka-topics.sh --alter --partitions only with every consumer caught up)",
        ),
      );
    else if (diffs.length > 0)
      out.push(
        warn(
          F,
          name,
          `${detail}; wanted ${diffs.map((d) => `${d.setting} ${d.wanted}`).join(', ')}`,
          'commerce kafka topics --alter-configs (configs); replicas: kafka-reassign-partitions.sh',
        ),
      );
    else if (rf === 1)
      out.push(
        warn(
          F,
          name,
          `${detail}: one broker's loss loses its events`,
          'in production: KAFKA_REPLICATION_FACTOR=3 on 3+ brokers (existing topics: kafka-reassign-partitions.sh)',
        ),
      );
    else out.push(ok(F, name, detail));
  }
  return out;
}

async function groupChecks(
  admin: Admin,
  fetcher: PartitionFetcher,
  topics: string[],
): Promise<CheckResult[]> {
  if (topics.length === 0) return []; // the missing topics are reported above
  const groups = await allGroupsLagWith(admin, fetcher, topics);
  if (groups.length === 0)
    return [
      warn(
        F,
        'consumer groups',
        'no consumer group consumes the event topics: no effect (metrics, ranking, webhooks) happens',
        'commerce collector run',
      ),
    ];
  return groups.map((g) => {
    const name = `group ${g.groupId}`;
    const behind = g.maxLagSeconds === null ? 'behind by an unknown time' : `${age(g.maxLagSeconds)} behind`;
    const detail = g.total === 0 ? 'caught up' : `lag ${g.total} message(s), ${behind}`;
    const fix = `commerce collector lag --group ${g.groupId} (which partitions); start or scale its collectors (commerce collector run), check their state`;
    const seconds = g.maxLagSeconds ?? 0;
    if (seconds > LAG_FAIL_SECONDS) return fail(F, name, detail, fix);
    if (seconds > LAG_WARN_SECONDS) return warn(F, name, detail, fix);
    return ok(F, name, detail);
  });
}

async function deadLetterCheck(
  admin: Admin,
  config: AppConfig['kafka'],
  existing: Set<string>,
): Promise<CheckResult> {
  const counts: string[] = [];
  let total = 0;
  for (const topic of [config.topics.catalog, config.topics.order]) {
    if (!existing.has(dlqTopic(topic))) continue;
    const retained = (await admin.fetchTopicOffsets(dlqTopic(topic))).reduce(
      (sum, p) => sum + Number(p.high) - Number(p.low),
      0,
    );
    total += retained;
    if (retained > 0) counts.push(`${retained} on ${dlqTopic(topic)}`);
  }
  if (total === 0) return ok(F, 'dead letters', 'none');
  return warn(
    F,
    'dead letters',
    counts.join(', '),
    'commerce dlq list --topic <topic>.dlq (their errors); fix the cause, then commerce dlq replay',
  );
}
