import type { Kafka } from 'kafkajs';
import type { Column } from '../../lib/cli/table.js';
import { prefixedTopic, type AppConfig } from '../../lib/config/config.js';
import { formatDuration } from '../../lib/duration.js';
import { allGroupsLag, consumerLag, type GroupLag, type PartitionLag } from '../../lib/kafka/consumer-lag.js';

export type { GroupLag } from '../../lib/kafka/consumer-lag.js';

/** One group's lag, or every group's that consumes the topics (--all-groups). */
export type CollectorLagResult = GroupLag | { groups: GroupLag[]; total: number };

export interface CollectorLagOptions {
  /** Default KAFKA_GROUP_ID. */
  group?: string;
  allGroups: boolean;
  /** Topic names without KAFKA_TOPIC_PREFIX (default: the two event topics). */
  topics?: string[];
}

/** `collector lag`: read through the admin API, so the groups are neither joined nor disturbed. */
export async function collectorLag(
  kafka: Kafka,
  config: AppConfig['kafka'],
  options: CollectorLagOptions,
): Promise<CollectorLagResult> {
  const named = options.topics?.map((t) => prefixedTopic(config, t));
  const topics = named ? [...new Set(named)] : [config.topics.catalog, config.topics.order];
  if (!options.allGroups) return consumerLag(kafka, options.group ?? config.groupId, topics);
  const groups = await allGroupsLag(kafka, topics);
  return { groups, total: groups.reduce((sum, g) => sum + g.total, 0) };
}

type LagRow = PartitionLag & { group: string };

/** The result for people: one row per group and partition, then one line per group. */
export function describeCollectorLag(lag: CollectorLagResult): {
  rows: LagRow[];
  columns: Column<LagRow>[];
  lines: string[];
} {
  const all = 'groups' in lag;
  const groups = all ? lag.groups : [lag];
  const lines = groups.map((g) => `Group ${g.groupId}: total lag ${g.total}, ${behind(g.maxLagSeconds)}`);
  if (all && groups.length === 0) lines.push('No consumer group consumes these topics.');
  return {
    rows: groups.flatMap((g) => g.partitions.map((p) => ({ group: g.groupId, ...p }))),
    columns: all ? [{ header: 'Group', get: (p) => p.group }, ...COLUMNS] : COLUMNS,
    lines,
  };
}

const COLUMNS: Column<LagRow>[] = [
  { header: 'Topic', get: (p) => p.topic },
  { header: 'Partition', get: (p) => p.partition, align: 'right' },
  { header: 'Committed', get: (p) => p.committed ?? '-', align: 'right' },
  { header: 'End', get: (p) => p.end, align: 'right' },
  { header: 'Lag', get: (p) => p.lag, align: 'right' },
  { header: 'Behind', get: (p) => age(p.lagSeconds), align: 'right' },
];

/** "12.3s", or "?" when the oldest unconsumed message's time could not be read. */
function age(seconds: number | null): string {
  return seconds === null ? '?' : seconds === 0 ? '0' : formatDuration(seconds * 1000);
}

function behind(seconds: number | null): string {
  if (seconds === 0) return 'caught up';
  return `${age(seconds)} behind (age of the oldest unconsumed message)`;
}
