import type { Kafka, KafkaMessage } from 'kafkajs';

/**
 * Reads chosen partitions from chosen offsets with plain Fetch requests to their leaders: no consumer
 * group at all, so no join (a new group costs group.initial.rebalance.delay.ms, 3 s by default), no
 * member, nothing committed, nothing to clean up, and no rebalance of any running group. kafkajs has
 * no public assign-style reader; its Cluster and Broker.fetch are what its own consumer uses. They are
 * reached through the client's private createCluster (kafkajs 2.2.x, the final release): this module
 * is the only place that does, and it fails with a plain message if a kafkajs upgrade moves them.
 */
export interface PartitionPosition {
  topic: string;
  partition: number;
  /** The first offset wanted. */
  offset: string;
}

export interface FetchedPartition extends PartitionPosition {
  /** Messages at or after `offset` (a fetch returns whole record batches: earlier ones are dropped). */
  messages: KafkaMessage[];
  /** The partition's high watermark at the time of the fetch. */
  highWatermark?: string;
}

export interface PartitionFetcher {
  /** One Fetch per leader, all leaders at once; waits at most `maxWaitMs` for data (0: answer now). */
  fetch(
    positions: PartitionPosition[],
    options?: { maxWaitMs?: number; maxBytesPerPartition?: number },
  ): Promise<FetchedPartition[]>;
  close(): Promise<void>;
}

interface FetchResponse {
  responses: Array<{
    topicName: string;
    partitions: Array<{
      partition: number;
      highWatermark: string;
      messages: Array<KafkaMessage & { isControlRecord?: boolean }>;
    }>;
  }>;
}
interface Broker {
  fetch(request: {
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    isolationLevel: number;
    topics: Array<{
      topic: string;
      partitions: Array<{ partition: number; fetchOffset: string; maxBytes: number }>;
    }>;
  }): Promise<FetchResponse>;
}
interface Cluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  refreshMetadata(): Promise<void>;
  addMultipleTargetTopics(topics: string[]): Promise<void>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(args: { nodeId: string }): Promise<Broker>;
}

const CREATE_CLUSTER = 'private:Kafka:createCluster';
const READ_COMMITTED = 1;

function createCluster(kafka: Kafka): Cluster {
  const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === CREATE_CLUSTER);
  const create = symbol && (kafka as unknown as Record<symbol, unknown>)[symbol];
  if (typeof create !== 'function')
    throw new Error('this kafkajs version has no createCluster: partition reads need kafkajs 2.2.x');
  return (create as (o: object) => Cluster)({ allowAutoTopicCreation: false, metadataMaxAge: 300_000 });
}

/** A connected fetcher; `close` disconnects it. */
export async function openPartitionFetcher(kafka: Kafka): Promise<PartitionFetcher> {
  const cluster = createCluster(kafka);
  await cluster.connect();
  const known = new Set<string>();

  const fetchOnce = async (
    positions: PartitionPosition[],
    maxWaitMs: number,
    maxBytes: number,
  ): Promise<FetchedPartition[]> => {
    const topics = [...new Set(positions.map((p) => p.topic))];
    if (topics.some((t) => !known.has(t))) {
      await cluster.addMultipleTargetTopics(topics);
      for (const t of topics) known.add(t);
    }
    const byLeader = new Map<string, PartitionPosition[]>();
    for (const topic of topics) {
      const mine = positions.filter((p) => p.topic === topic);
      const leaders = cluster.findLeaderForPartitions(
        topic,
        mine.map((p) => p.partition),
      );
      for (const [nodeId, partitions] of Object.entries(leaders)) {
        const list = byLeader.get(nodeId) ?? [];
        list.push(...mine.filter((p) => partitions.includes(p.partition)));
        byLeader.set(nodeId, list);
      }
    }
    const answers = await Promise.all(
      [...byLeader].map(async ([nodeId, list]) => {
        const broker = await cluster.findBroker({ nodeId });
        const request = new Map<string, PartitionPosition[]>();
        for (const p of list) request.set(p.topic, [...(request.get(p.topic) ?? []), p]);
        const response = await broker.fetch({
          maxWaitTime: maxWaitMs,
          minBytes: 1,
          maxBytes: maxBytes * Math.max(1, list.length),
          isolationLevel: READ_COMMITTED,
          topics: [...request].map(([topic, ps]) => ({
            topic,
            partitions: ps.map((p) => ({ partition: p.partition, fetchOffset: p.offset, maxBytes })),
          })),
        });
        return list.map((p): FetchedPartition => {
          const answer = response.responses
            .find((r) => r.topicName === p.topic)
            ?.partitions.find((x) => x.partition === p.partition);
          const from = BigInt(p.offset);
          return {
            ...p,
            highWatermark: answer?.highWatermark,
            messages: (answer?.messages ?? []).filter((m) => !m.isControlRecord && BigInt(m.offset) >= from),
          };
        });
      }),
    );
    return answers.flat();
  };

  return {
    async fetch(positions, options = {}) {
      if (positions.length === 0) return [];
      const maxWaitMs = options.maxWaitMs ?? 0;
      const maxBytes = options.maxBytesPerPartition ?? 256 * 1024;
      try {
        return await fetchOnce(positions, maxWaitMs, maxBytes);
      } catch {
        // A leader that moved (NOT_LEADER_OR_FOLLOWER) or a broker that went: fresh metadata, once.
        await cluster.refreshMetadata();
        return fetchOnce(positions, maxWaitMs, maxBytes);
      }
    },
    close: () => cluster.disconnect(),
  };
}

/**
 * The timestamp (ms since the epoch) of the message at each position, or null where there is none
 * yet (the position is the end of the log). Keyed `${topic}:${partition}`.
 */
export async function messageTimestamps(
  fetcher: PartitionFetcher,
  positions: PartitionPosition[],
): Promise<Map<string, number | null>> {
  const fetched = await fetcher.fetch(positions, { maxWaitMs: 0, maxBytesPerPartition: 64 * 1024 });
  return new Map(
    fetched.map((f) => [`${f.topic}:${f.partition}`, f.messages[0] ? Number(f.messages[0].timestamp) : null]),
  );
}
