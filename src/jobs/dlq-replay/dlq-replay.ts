import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { createIdempotentProducer } from '../../lib/kafka/client.js';
import { sendAcknowledged } from '../../lib/kafka/acknowledged-send.js';
import { readRange } from '../../lib/kafka/read-range.js';
import { deleteGroupQuietly, withAdmin } from '../../lib/kafka/admin.js';
import { replayMessage, viewDeadLetter, type DeadLetterView } from '../../lib/kafka/dead-letter-view.js';

export type ReplayAction = 'replayed' | 'would-replay' | 'skipped' | 'would-skip';

export interface ReplayedLetter extends DeadLetterView {
  action: ReplayAction;
  /** Why a letter was skipped (it is never guessed where to send it). */
  reason?: string;
}

export interface ReplayOptions {
  topic: string;
  /** The consumer group that holds replay progress (committed offsets of the DLQ topic). */
  group: string;
  limit: number;
  eventId?: string;
  dryRun: boolean;
  signal?: AbortSignal;
  onProgress?: (text: string) => void;
}

export interface ReplayResult {
  topic: string;
  group: string;
  dryRun: boolean;
  replayed: number;
  skipped: number;
  letters: ReplayedLetter[];
}

/**
 * Republishes dead letters to their original topic (same key and value, x-replay-count + 1) with the
 * idempotent producer. Progress is the replay group's committed offset, stored only after the publish
 * is acknowledged: a crash re-sends at most the letter in flight (harmless: the collector is
 * idempotent) and never skips one. A letter without x-original-topic is skipped and progress moves
 * past it (no run could ever replay it). With --event-id, letters that do not match are passed over
 * and progress stops advancing at the first of them, so a later full replay still sees them.
 * A dry run reads from the same position through a throwaway group and changes nothing.
 */
export async function replayDeadLetters(kafka: Kafka, options: ReplayOptions): Promise<ReplayResult> {
  const result: ReplayResult = {
    topic: options.topic,
    group: options.group,
    dryRun: options.dryRun,
    replayed: 0,
    skipped: 0,
    letters: [],
  };
  const producer = options.dryRun ? undefined : createIdempotentProducer(kafka);
  const readGroup = options.dryRun ? `${options.group}-dry-run-${randomUUID()}` : options.group;
  let progressContiguous = true;
  try {
    await producer?.connect();
    await readRange(kafka, {
      topic: options.topic,
      groupId: readGroup,
      startOffsets: options.dryRun ? await committedOffsets(kafka, options.group, options.topic) : undefined,
      signal: options.signal,
      handle: async ({ partition, message }, commit) => {
        const letter = viewDeadLetter(partition, message);
        if (options.eventId && letter.eventId !== options.eventId) {
          progressContiguous = false;
          return true;
        }
        if (!letter.originalTopic) {
          result.letters.push({
            ...letter,
            action: options.dryRun ? 'would-skip' : 'skipped',
            reason: 'no x-original-topic header',
          });
          result.skipped++;
        } else if (producer) {
          await sendAcknowledged(producer, [
            { topic: letter.originalTopic, messages: [replayMessage(message, letter.replayCount)] },
          ]);
          result.letters.push({ ...letter, action: 'replayed' });
          result.replayed++;
        } else {
          result.letters.push({ ...letter, action: 'would-replay' });
          result.replayed++;
        }
        if (producer && progressContiguous) await commit();
        options.onProgress?.(`${result.replayed} replayed, ${result.skipped} skipped`);
        return result.letters.length < options.limit;
      },
    });
  } finally {
    await producer?.disconnect();
    if (options.dryRun) await deleteGroupQuietly(kafka, readGroup);
  }
  return result;
}

/** The replay group's progress, for a dry run that must read from the same place without joining it. */
async function committedOffsets(kafka: Kafka, groupId: string, topic: string): Promise<Map<number, string>> {
  return withAdmin(kafka, async (admin) => {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const low = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p.low]));
    return new Map(
      (offsets?.partitions ?? []).map((p) => [
        p.partition,
        p.offset === '-1' ? (low.get(p.partition) ?? '0') : p.offset,
      ]),
    );
  });
}
