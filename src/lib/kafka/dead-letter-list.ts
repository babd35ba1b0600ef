import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { readRange } from './read-range.js';
import { deleteGroupQuietly, withAdmin } from './admin.js';
import { viewDeadLetter, type DeadLetterView } from './dead-letter-view.js';

export interface ListOptions {
  topic: string;
  limit: number;
  /** Start here on every partition instead of the earliest offset. */
  fromOffset?: string;
  /** Prefix of the throwaway group the read uses (deleted afterwards). */
  groupPrefix: string;
  signal?: AbortSignal;
}

/**
 * Reads up to `limit` dead letters without touching any real consumer group: the reader joins a
 * throwaway group that never commits, and that group is deleted when the read is over.
 */
export async function listDeadLetters(kafka: Kafka, options: ListOptions): Promise<DeadLetterView[]> {
  const groupId = `${options.groupPrefix}-dlq-list-${randomUUID()}`;
  const letters: DeadLetterView[] = [];
  const startOffsets = options.fromOffset
    ? await everyPartition(kafka, options.topic, options.fromOffset)
    : undefined;
  try {
    await readRange(kafka, {
      topic: options.topic,
      groupId,
      startOffsets,
      signal: options.signal,
      handle: async ({ partition, message }) => {
        letters.push(viewDeadLetter(partition, message));
        return letters.length < options.limit;
      },
    });
  } finally {
    await deleteGroupQuietly(kafka, groupId);
  }
  return letters.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}

async function everyPartition(kafka: Kafka, topic: string, offset: string): Promise<Map<number, string>> {
  const partitions = await withAdmin(kafka, (admin) => admin.fetchTopicOffsets(topic));
  return new Map(partitions.map((p) => [p.partition, offset]));
}
