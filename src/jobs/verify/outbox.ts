import type pg from 'pg';
import { Partitioners, type Kafka } from 'kafkajs';
import { forEachChunk } from '../../lib/db/cursor.js';
import { withAdmin } from '../../lib/kafka/admin.js';
import type { Difference } from './report.js';
import { selectUncollectedPublished } from './sql.js';

/** Per topic: its partition count, and the partitions the group has committed up to their end. */
export interface CollectorPosition {
  partitions: Map<string, number>;
  caughtUp: Set<string>; // `${topic}:${partition}`
}

/**
 * Reads the group's committed offsets, then the end offsets. A partition whose committed offset had
 * reached the end read after it held, when read, every message acknowledged before the committed
 * offsets were read: the collector had handled (or dead-lettered) each of them.
 */
export async function collectorPosition(
  kafka: Kafka,
  groupId: string,
  topics: string[],
): Promise<CollectorPosition> {
  return withAdmin(kafka, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t)); // a topic never created holds nothing yet
    const committed = present.length > 0 ? await admin.fetchOffsets({ groupId, topics: present }) : [];
    const partitions = new Map<string, number>();
    const caughtUp = new Set<string>();
    for (const topic of present) {
      const done = new Map(
        (committed.find((c) => c.topic === topic)?.partitions ?? []).map((p) => [
          p.partition,
          BigInt(p.offset),
        ]),
      );
      const ends = await admin.fetchTopicOffsets(topic);
      partitions.set(topic, ends.length);
      for (const p of ends) {
        // Never committed (-1): caught up only if the partition holds nothing.
        const at = done.get(p.partition) ?? -1n;
        if ((at < 0n ? BigInt(p.low) : at) >= BigInt(p.high)) caughtUp.add(`${topic}:${p.partition}`);
      }
    }
    return { partitions, caughtUp };
  });
}

interface PublishedRow {
  id: string;
  event_id: string;
  event_type: string;
  topic: string;
  partition_key: string;
}

/**
 * PUBLISHED events published before the offsets were read and absent from event_log: a difference
 * when the collector had committed past their partition's end (dead letters are among them: see
 * `dlq list`), in flight otherwise. The partition is the relay producer's (kafkajs' default partitioner).
 */
export async function checkOutbox(
  client: pg.PoolClient,
  position: CollectorPosition,
  options: { before: Date; since: string | null; timeZone: string; chunkSize: number },
): Promise<{ checked: number; behind: number; differences: Difference[] }> {
  const partitioner = Partitioners.DefaultPartitioner();
  const differences: Difference[] = [];
  let behind = 0;
  const checked = await forEachChunk<PublishedRow>(
    client,
    selectUncollectedPublished(options.before, options.since, options.timeZone),
    options.chunkSize,
    (chunk) => {
      for (const r of chunk) {
        const count = position.partitions.get(r.topic);
        const partition =
          count === undefined
            ? -1
            : partitioner({
                topic: r.topic,
                partitionMetadata: Array.from({ length: count }, (_, i) => ({
                  partitionId: i,
                  leader: 0,
                  replicas: [0],
                  isr: [0],
                  partitionErrorCode: 0,
                })),
                message: { key: r.partition_key, value: null },
              });
        if (!position.caughtUp.has(`${r.topic}:${partition}`)) behind += 1;
        else
          differences.push({
            check: 'outbox',
            eventId: r.event_id,
            field: `event_log (${r.event_type}, ${r.topic}[${partition}], outbox id ${r.id})`,
            expected: 'present',
            actual: null,
          });
      }
    },
  );
  return { checked, behind, differences };
}
