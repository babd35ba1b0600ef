import type { Kafka, KafkaMessage } from 'kafkajs';
import { withAdmin } from './admin.js';
import { CliError } from '../errors.js';

export interface RangeMessage {
  topic: string;
  partition: number;
  message: KafkaMessage;
}

export interface ReadRangeOptions {
  topic: string;
  /** The consumer group the reader joins. It never commits unless `handle` does. */
  groupId: string;
  /** Where to start per partition; omitted partitions start at the group's committed offset (or the earliest). */
  startOffsets?: Map<number, string>;
  signal?: AbortSignal;
  /** Called once per message in offset order per partition; returns false to stop reading. */
  handle: (m: RangeMessage, commit: () => Promise<void>) => Promise<boolean>;
}

/**
 * Reads a topic from a start position up to the end offsets seen when the read began, then stops:
 * it never waits for messages that do not exist yet (an empty topic returns at once). Auto-commit is
 * off; `commit` stores offset+1 of the message being handled, for callers that keep progress.
 */
export async function readRange(kafka: Kafka, options: ReadRangeOptions): Promise<{ read: number }> {
  const { topic, groupId } = options;
  const starts = await startPositions(kafka, topic, groupId, options.startOffsets);
  const pending = new Set([...starts].filter(([, p]) => BigInt(p.start) < BigInt(p.end)).map(([n]) => n));
  if (pending.size === 0 || options.signal?.aborted) return { read: 0 };

  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 500 });
  let read = 0;
  let finished = false;
  let finish!: (err?: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = (err) => {
      finished = true;
      if (err) reject(err);
      else resolve();
    };
  });
  const onAbort = () => finish();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  consumer.on(consumer.events.CRASH, (e) => finish(e.payload.error));
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const position = starts.get(partition);
        if (finished || !position || !pending.has(partition)) return;
        const offset = BigInt(message.offset);
        if (offset < BigInt(position.start)) return; // delivered before a seek took effect
        try {
          if (offset >= BigInt(position.end)) {
            pending.delete(partition);
          } else {
            read++;
            const commit = () =>
              consumer.commitOffsets([{ topic, partition, offset: (offset + 1n).toString() }]);
            const more = await options.handle({ topic, partition, message }, commit);
            if (offset + 1n >= BigInt(position.end)) pending.delete(partition);
            if (!more) return finish();
          }
          if (pending.size === 0 || options.signal?.aborted) finish();
        } catch (err) {
          finish(err);
        }
      },
    });
    for (const [partition, p] of starts) {
      if (options.startOffsets?.has(partition)) consumer.seek({ topic, partition, offset: p.start });
    }
    await done;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await consumer.disconnect();
  }
  return { read };
}

/** Per partition: where reading starts and the end offset (high watermark) at the start of the read. */
async function startPositions(
  kafka: Kafka,
  topic: string,
  groupId: string,
  explicit: Map<number, string> | undefined,
): Promise<Map<number, { start: string; end: string }>> {
  return withAdmin(kafka, async (admin) => {
    if (!(await admin.listTopics()).includes(topic))
      throw new CliError(`topic "${topic}" does not exist`, 'NO_TOPIC');
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const result = new Map<number, { start: string; end: string }>();
    for (const p of ends) {
      const stored = committed?.partitions.find((c) => c.partition === p.partition)?.offset ?? '-1';
      let start = explicit?.get(p.partition) ?? (stored === '-1' ? p.low : stored);
      if (BigInt(start) < BigInt(p.low)) start = p.low;
      result.set(p.partition, { start, end: p.high });
    }
    return result;
  });
}
