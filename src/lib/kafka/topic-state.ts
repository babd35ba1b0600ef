/**
 * What `kafka topics` wants a topic to be, what the cluster says it is, and the two questions asked of
 * them: has the cluster settled (every partition led, enough replicas in sync), and what differs.
 * Pure: the admin calls are in topic-admin.ts.
 */

/** min.insync.replicas: with acks=all, a write is acknowledged once this many replicas have it. */
export const MIN_INSYNC_REPLICAS = 'min.insync.replicas';
/** unclean.leader.election.enable: false, or an out-of-sync replica may lead and drop acknowledged writes. */
export const UNCLEAN_LEADER_ELECTION = 'unclean.leader.election.enable';
/** The topic configs `kafka topics` sets, compares and (with --alter-configs) alters. */
export const MANAGED_CONFIGS = [MIN_INSYNC_REPLICAS, UNCLEAN_LEADER_ELECTION] as const;
export type ManagedConfig = (typeof MANAGED_CONFIGS)[number];

export interface TopicSpec {
  name: string;
  partitions: number;
  replicationFactor: number;
  role: 'events' | 'dead-letter';
  /** Topic-level configs, as Kafka spells their values; set on the topic, never left to broker defaults. */
  configs: Record<ManagedConfig, string>;
}

export interface ObservedPartition {
  partitionId: number;
  /** -1: no leader. */
  leader: number;
  replicas: number[];
  isr: number[];
}

export interface ObservedTopic {
  name: string;
  partitions: ObservedPartition[];
  /** Effective values of every config the broker describes (topic-level or inherited). */
  configs: Record<string, string>;
  /** Only the configs set on the topic itself (the rest are broker defaults). */
  topicConfigs: Record<string, string>;
}

/** One setting where the topic differs from its spec: partitions, replication-factor or a managed config. */
export interface TopicDifference {
  setting: 'partitions' | 'replication-factor' | ManagedConfig;
  actual: string;
  wanted: string;
}

/** The smallest replica count over the partitions: the replication factor the topic really has. */
export function replicationFactorOf(topic: ObservedTopic): number {
  return topic.partitions.length === 0 ? 0 : Math.min(...topic.partitions.map((p) => p.replicas.length));
}

/**
 * Why the topic cannot take acks=all writes yet, or undefined once it can: every partition has a leader
 * and at least the topic's own min.insync.replicas in sync (capped at its replicas, so a topic that
 * differs from its spec settles too and is reported instead of waited for).
 */
export function unsettled(name: string, topic: ObservedTopic | undefined): string | undefined {
  if (!topic || topic.partitions.length === 0) return `${name}: no metadata yet`;
  const required = Number(topic.configs[MIN_INSYNC_REPLICAS] ?? '1');
  for (const p of [...topic.partitions].sort((a, b) => a.partitionId - b.partitionId)) {
    if (p.leader < 0) return `${name}/${p.partitionId}: no leader`;
    const needed = Math.min(required, p.replicas.length);
    if (p.isr.length < needed)
      return `${name}/${p.partitionId}: ${p.isr.length} in-sync replica(s) of ${needed} needed`;
  }
  return undefined;
}

/** Every setting where the topic differs from its spec (empty: it is as asked). */
export function differences(spec: TopicSpec, topic: ObservedTopic): TopicDifference[] {
  const out: TopicDifference[] = [];
  if (topic.partitions.length !== spec.partitions)
    out.push({ setting: 'partitions', actual: `${topic.partitions.length}`, wanted: `${spec.partitions}` });
  const rf = replicationFactorOf(topic);
  if (rf !== spec.replicationFactor)
    out.push({ setting: 'replication-factor', actual: `${rf}`, wanted: `${spec.replicationFactor}` });
  for (const name of MANAGED_CONFIGS) {
    const actual = topic.configs[name] ?? '(unknown)';
    if (actual !== spec.configs[name]) out.push({ setting: name, actual, wanted: spec.configs[name] });
  }
  return out;
}

/** The differences an alteration of the topic's configs can fix (partitions and replicas it never changes). */
export function configDifferences(diffs: TopicDifference[]): TopicDifference[] {
  return diffs.filter((d) => (MANAGED_CONFIGS as readonly string[]).includes(d.setting));
}

/**
 * The full set of topic-level configs to send with kafkajs' alterConfigs: kafkajs 2.2.4 has only the
 * legacy AlterConfigs request, which replaces a topic's configs with the ones sent (it has no
 * IncrementalAlterConfigs), so the topic's own configs are sent again with ours on top; anything else
 * an operator set on the topic (retention.ms, ...) is kept.
 */
export function alteredConfigs(spec: TopicSpec, topic: ObservedTopic): Record<string, string> {
  return { ...topic.topicConfigs, ...spec.configs };
}
