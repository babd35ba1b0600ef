import type { Admin, KafkaMessage } from 'kafkajs';
import { errorMessage } from '../../lib/errors.js';
import { allGroupsLagWith, consumerLagWith, type GroupLag } from '../../lib/kafka/consumer-lag.js';
import { viewDeadLetter } from '../../lib/kafka/dead-letter-view.js';
import { readEventHeaders } from '../../lib/kafka/event-headers.js';
import { partitionOfKey } from '../../lib/kafka/key-partition.js';
import type { PartitionFetcher } from '../../lib/kafka/partition-fetch.js';
import { dlqTopic } from '../../lib/kafka/topics.js';
import { withinTimeout } from '../../lib/timeout.js';
import type { TracedDeadLetter, TracedEvent } from './types.js';

/** An event as the Kafka part looks for it. */
export interface WantedEvent {
  eventId: string;
  topic: string;
  /** The message key: the aggregate id. */
  key: string;
  /** From the audit row, when the audit handler applied it. */
  audited: { partition: number; offset: string } | null;
  /** Published by the relay: between these times (ms), when not audited. */
  published: { notBefore: number; notAfter: number } | null;
}

export interface KafkaPart {
  positions: Map<string, NonNullable<TracedEvent['kafka']>>;
  groups: GroupLag[] | null;
  deadLetters: Map<string, TracedDeadLetter[]>;
  /** Parts that did not answer, in words. */
  errors: string[];
}

/** How far a search for an unaudited event reads on its partition, and how many dead letters are read. */
const SCAN_FETCHES = 8;
const SCAN_BYTES = 1024 * 1024;
const DLQ_SCAN_MESSAGES = 10_000;
/** Clocks of the API's, the relay's and PostgreSQL's hosts may differ by this much. */
const CLOCK_MARGIN_MS = 5_000;

/**
 * Reads what the broker knows of the events: where each is (the audit row's offset, read back for its
 * timestamp; else searched on its key's partition from the time it was written), every consumer
 * group's committed offset and lag on the event topics, and the dead letters of the events. Each part
 * within `timeoutMs` on clients the caller holds; a part that fails is named in `errors`.
 */
export async function readKafka(
  clients: { admin: Admin; fetcher: PartitionFetcher },
  events: WantedEvent[],
  options: { groups?: string[]; replayGroup: string; timeoutMs: number },
): Promise<KafkaPart> {
  const { admin, fetcher } = clients;
  const topics = [...new Set(events.map((e) => e.topic))];
  const existing = new Set(await withinTimeout(admin.listTopics(), options.timeoutMs, 'Kafka topics'));
  const present = topics.filter((t) => existing.has(t));
  const errors: string[] = topics.filter((t) => !existing.has(t)).map((t) => `topic ${t} does not exist`);
  const part = async <T>(what: string, work: () => Promise<T>): Promise<T | null> => {
    try {
      return await withinTimeout(work(), options.timeoutMs, what);
    } catch (err) {
      errors.push(`${what}: ${errorMessage(err)}`);
      return null;
    }
  };
  const [positions, groups, deadLetters] = await Promise.all([
    part('event positions', () =>
      locate(
        admin,
        fetcher,
        events.filter((e) => existing.has(e.topic)),
      ),
    ),
    present.length === 0
      ? Promise.resolve([])
      : part('consumer groups', () =>
          options.groups
            ? Promise.all(options.groups.map((g) => consumerLagWith(admin, g, present, fetcher)))
            : allGroupsLagWith(admin, fetcher, present),
        ),
    part('dead letters', () =>
      readDeadLetters(
        admin,
        fetcher,
        present.map(dlqTopic).filter((t) => existing.has(t)),
        events,
        options.replayGroup,
      ),
    ),
  ]);
  return {
    positions: positions ?? new Map(),
    groups,
    deadLetters: deadLetters ?? new Map(),
    errors,
  };
}

async function locate(
  admin: Admin,
  fetcher: PartitionFetcher,
  events: WantedEvent[],
): Promise<Map<string, NonNullable<TracedEvent['kafka']>>> {
  const found = new Map<string, NonNullable<TracedEvent['kafka']>>();
  const partitionCounts = new Map<string, number>();
  for (const topic of new Set(events.map((e) => e.topic)))
    partitionCounts.set(topic, (await admin.fetchTopicOffsets(topic)).length);
  for (const e of events) {
    const partition = e.audited?.partition ?? partitionOfKey(e.key, partitionCounts.get(e.topic)!);
    if (e.audited) {
      // Read back: its Kafka timestamp, and that the offset holds this event (it may be past retention).
      const [f] = await fetcher.fetch([{ topic: e.topic, partition, offset: e.audited.offset }], {
        maxBytesPerPartition: 64 * 1024,
      });
      const m = f?.messages[0];
      const same = m && m.offset === e.audited.offset && eventIdOf(m) === e.eventId;
      found.set(e.eventId, {
        topic: e.topic,
        partition,
        offset: e.audited.offset,
        timestamp: same ? iso(m.timestamp) : null,
        source: 'audit',
      });
    } else {
      found.set(e.eventId, { topic: e.topic, partition, offset: null, timestamp: null, source: 'key' });
    }
  }
  // Published, not audited: search the key's partition from the time the row was written.
  const search = events.filter((e) => !e.audited && e.published);
  for (const topic of new Set(search.map((e) => e.topic))) {
    const mine = search.filter((e) => e.topic === topic);
    const from = Math.min(...mine.map((e) => e.published!.notBefore)) - CLOCK_MARGIN_MS;
    const until = Math.max(...mine.map((e) => e.published!.notAfter)) + CLOCK_MARGIN_MS;
    const starts = new Map(
      (await admin.fetchTopicOffsetsByTimestamp(topic, from)).map((p) => [p.partition, p.offset]),
    );
    for (const partition of new Set(mine.map((e) => found.get(e.eventId)!.partition))) {
      const wanted = new Set(
        mine.filter((e) => found.get(e.eventId)!.partition === partition).map((e) => e.eventId),
      );
      const start = starts.get(partition);
      if (start === undefined || start === '-1') continue;
      await scan(fetcher, topic, partition, start, (m) => {
        const id = eventIdOf(m);
        if (id && wanted.delete(id))
          found.set(id, {
            topic,
            partition,
            offset: m.offset,
            timestamp: iso(m.timestamp),
            source: 'broker',
          });
        return wanted.size > 0 && Number(m.timestamp) <= until;
      });
    }
  }
  return found;
}

/** Reads a partition from `offset` until `each` returns false, the end, or SCAN_FETCHES fetches. */
async function scan(
  fetcher: PartitionFetcher,
  topic: string,
  partition: number,
  offset: string,
  each: (m: KafkaMessage) => boolean,
  fetches = SCAN_FETCHES,
): Promise<void> {
  let position = offset;
  for (let i = 0; i < fetches; i++) {
    const [f] = await fetcher.fetch([{ topic, partition, offset: position }], {
      maxBytesPerPartition: SCAN_BYTES,
    });
    const messages = f?.messages ?? [];
    if (messages.length === 0) return;
    for (const m of messages) if (!each(m)) return;
    position = (BigInt(messages.at(-1)!.offset) + 1n).toString();
    if (f?.highWatermark !== undefined && BigInt(position) >= BigInt(f.highWatermark)) return;
  }
}

/** The dead letters of these events on the dead-letter topics (their last DLQ_SCAN_MESSAGES letters). */
async function readDeadLetters(
  admin: Admin,
  fetcher: PartitionFetcher,
  topics: string[],
  events: WantedEvent[],
  replayGroup: string,
): Promise<Map<string, TracedDeadLetter[]>> {
  const wanted = new Set(events.map((e) => e.eventId));
  const result = new Map<string, TracedDeadLetter[]>();
  for (const topic of topics) {
    const [replay] = await admin
      .fetchOffsets({ groupId: replayGroup, topics: [topic] })
      .catch(() => [undefined]);
    for (const p of await admin.fetchTopicOffsets(topic)) {
      if (BigInt(p.high) <= BigInt(p.low)) continue;
      const from = BigInt(p.high) - BigInt(DLQ_SCAN_MESSAGES);
      const start = from > BigInt(p.low) ? from : BigInt(p.low);
      const progress = replay?.partitions.find((x) => x.partition === p.partition)?.offset;
      await scan(
        fetcher,
        topic,
        p.partition,
        start.toString(),
        (m) => {
          const letter = viewDeadLetter(p.partition, m);
          if (letter.eventId && wanted.has(letter.eventId)) {
            const list = result.get(letter.eventId) ?? [];
            list.push({
              topic,
              offset: letter.offset,
              consumerGroup: letter.consumerGroup,
              error: letter.error,
              errorKind: letter.errorKind,
              attempts: letter.attempts,
              failedAt: letter.failedAt,
              replayed:
                progress === undefined ? null : progress !== '-1' && BigInt(progress) > BigInt(m.offset),
              replayCount: letter.replayCount,
            });
            result.set(letter.eventId, list);
          }
          return BigInt(m.offset) + 1n < BigInt(p.high);
        },
        Number.POSITIVE_INFINITY,
      );
    }
  }
  return result;
}

/** From its headers (CloudEvents `ce_id` first, as every reader: event-headers.ts), else its value. */
function eventIdOf(m: KafkaMessage): string | undefined {
  const header = readEventHeaders(m.headers).eventId;
  if (header) return header;
  try {
    const id = (JSON.parse(m.value?.toString('utf8') ?? '') as { eventId?: unknown }).eventId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

function iso(timestamp: string): string {
  return new Date(Number(timestamp)).toISOString();
}
