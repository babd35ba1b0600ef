import { AssignerProtocol, type Admin, type Kafka } from 'kafkajs';
import { withAdmin } from './admin.js';
import { messageTimestamps, openPartitionFetcher, type PartitionFetcher } from './partition-fetch.js';
import { retry } from '../retry.js';

export interface PartitionLag {
  topic: string;
  partition: number;
  /** The group's committed offset, or null when it has never committed on this partition. */
  committed: string | null;
  low: string;
  end: string;
  /** end - committed; without a committed offset, end - low (everything still on the log is unread). */
  lag: number;
  /**
   * How far behind in time: the age in seconds of the oldest unconsumed message (the one at the
   * committed offset, its Kafka timestamp); 0 when caught up; null when its time could not be read.
   */
  lagSeconds: number | null;
}

export interface GroupLag {
  groupId: string;
  partitions: PartitionLag[];
  total: number;
  /** The largest lagSeconds of its partitions (null when none could be read and some lag). */
  maxLagSeconds: number | null;
}

/** A group's lag per partition, read through the admin API: it does not join or disturb the group. */
export async function consumerLag(kafka: Kafka, groupId: string, topics: string[]): Promise<GroupLag> {
  return withAdmin(kafka, (admin) =>
    withFetcher(kafka, (fetcher) => consumerLagWith(admin, groupId, topics, fetcher)),
  );
}

/** Runs `fn` with a connected partition fetcher (the lag's message times) and always closes it. */
export async function withFetcher<T>(
  kafka: Kafka,
  fn: (fetcher: PartitionFetcher) => Promise<T>,
): Promise<T> {
  const fetcher = await openPartitionFetcher(kafka);
  try {
    return await fn(fetcher);
  } finally {
    await fetcher.close().catch(() => undefined);
  }
}

/**
 * Every consumer group that consumes any of `topics` (it has committed an offset on one, or a member
 * is subscribed to one right now), with its lag on those of the topics it consumes; sorted by group.
 */
export async function allGroupsLag(kafka: Kafka, topics: string[]): Promise<GroupLag[]> {
  return withAdmin(kafka, (admin) =>
    withFetcher(kafka, (fetcher) => allGroupsLagWith(admin, fetcher, topics)),
  );
}

/** How many groups' committed offsets allGroupsLagWith asks for at once. */
const GROUPS_AT_ONCE = 10;

/** allGroupsLag on clients the caller holds (doctor, trace). */
export async function allGroupsLagWith(
  admin: Admin,
  fetcher: PartitionFetcher | undefined,
  topics: string[],
): Promise<GroupLag[]> {
  const { groups } = await admin.listGroups();
  const ids = groups
    .filter((g) => g.protocolType === 'consumer' || g.protocolType === '')
    .map((g) => g.groupId)
    .sort();
  const subscribed = await subscriptions(admin, ids);
  // One OffsetFetch per group, a few at once: a shared broker may hold hundreds of groups (measured
  // here: 4 ms each one after the other, under load).
  const offsets = new Map<string, Awaited<ReturnType<Admin['fetchOffsets']>>>();
  for (let i = 0; i < ids.length; i += GROUPS_AT_ONCE) {
    const slice = ids.slice(i, i + GROUPS_AT_ONCE);
    const fetched = await Promise.all(
      slice.map((groupId) => fetchOffsetsRetrying(() => admin.fetchOffsets({ groupId, topics }))),
    );
    slice.forEach((groupId, j) => offsets.set(groupId, fetched[j]!));
  }
  const result: GroupLag[] = [];
  for (const groupId of ids) {
    const committed = offsets.get(groupId)!;
    const consumed = topics.filter(
      (t) =>
        subscribed.get(groupId)?.has(t) ||
        committed.some((c) => c.topic === t && c.partitions.some((p) => p.offset !== '-1')),
    );
    if (consumed.length > 0) result.push(await consumerLagWith(admin, groupId, consumed, fetcher));
  }
  return result;
}

/** The topics each group's current members subscribe to (from their join metadata). */
async function subscriptions(admin: Admin, groupIds: string[]): Promise<Map<string, Set<string>>> {
  const result = new Map<string, Set<string>>();
  if (groupIds.length === 0) return result;
  const { groups } = await admin.describeGroups(groupIds);
  for (const g of groups) {
    const topics = new Set<string>();
    for (const m of g.members) {
      try {
        for (const t of AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.topics ?? []) topics.add(t);
      } catch {
        // Not kafkajs' consumer protocol metadata: its committed offsets still tell.
      }
    }
    result.set(g.groupId, topics);
  }
  return result;
}

/**
 * consumerLag on an admin client the caller keeps connected (the metrics exporter, scrape after scrape).
 * With a fetcher, each lagging partition's lagSeconds is read from the timestamp of the message at
 * its committed offset (one Fetch per leader for all of them); without one it is null.
 */
export async function consumerLagWith(
  admin: Admin,
  groupId: string,
  topics: string[],
  fetcher?: PartitionFetcher,
  now: () => number = Date.now,
): Promise<GroupLag> {
  const committed = await fetchOffsetsRetrying(() => admin.fetchOffsets({ groupId, topics }));
  const partitions: PartitionLag[] = [];
  const oldest: Array<{ topic: string; partition: number; offset: string }> = [];
  for (const topic of topics) {
    const stored = new Map(
      (committed.find((c) => c.topic === topic)?.partitions ?? []).map((p) => [p.partition, p.offset]),
    );
    for (const p of (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition)) {
      const offset = stored.get(p.partition);
      const has = offset !== undefined && offset !== '-1';
      const from = has && BigInt(offset) > BigInt(p.low) ? BigInt(offset) : BigInt(p.low);
      const lag = BigInt(p.high) > from ? Number(BigInt(p.high) - from) : 0;
      partitions.push({
        topic,
        partition: p.partition,
        committed: has ? offset : null,
        low: p.low,
        end: p.high,
        lag,
        lagSeconds: lag === 0 ? 0 : null,
      });
      if (lag > 0) oldest.push({ topic, partition: p.partition, offset: from.toString() });
    }
  }
  if (fetcher && oldest.length > 0) {
    const times = await messageTimestamps(fetcher, oldest);
    const at = now();
    for (const p of partitions) {
      const time = times.get(`${p.topic}:${p.partition}`);
      if (p.lag > 0 && time != null) p.lagSeconds = Math.max(0, Math.round(at - time) / 1000);
    }
  }
  return {
    groupId,
    partitions,
    total: partitions.reduce((sum, p) => sum + p.lag, 0),
    maxLagSeconds: maxLagSeconds(partitions),
  };
}

/** The largest lag in seconds; null when a lagging partition's time is unknown and none is known. */
export function maxLagSeconds(partitions: Pick<PartitionLag, 'lagSeconds'>[]): number | null {
  const known = partitions.map((p) => p.lagSeconds).filter((s): s is number => s !== null);
  if (known.length === 0) return partitions.length === 0 ? 0 : null;
  return Math.max(...known);
}

/**
 * kafkajs' admin fetchOffsets has no retrier of its own: a coordinator that moved or is still loading
 * the group (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS: `retriable` errors) failed the command.
 */
function fetchOffsetsRetrying<T>(fetch: () => Promise<T>, attempts = 5): Promise<T> {
  // kafkajs' own flag: its retrier already spent its retries on an error it no longer marks retriable.
  const retriable = (err: unknown) => (err as { retriable?: boolean }).retriable === true;
  return retry(fetch, { attempts, backoff: { baseMs: 200, maxMs: 1_000, jitter: 0.5 }, retryIf: retriable });
}
