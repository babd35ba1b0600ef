import type { Kafka } from 'kafkajs';
import type { AppConfig } from '../../lib/config/config.js';
import { CliError, UsageError } from '../../lib/errors.js';
import {
  AGGREGATE_OF,
  EVENT_TYPES,
  decodeEvent,
  type DomainEvent,
  type EventType,
} from '../../lib/events/index.js';
import { withAdmin } from '../../lib/kafka/admin.js';
import { openPartitionFetcher, type PartitionPosition } from '../../lib/kafka/partition-fetch.js';
import type { Logger } from '../../lib/log.js';

export interface TailOptions {
  types?: string[];
  aggregate?: 'product' | 'order';
  key?: string;
  /** Start this many ms ago (by Kafka timestamp); default: only events arriving from now on. */
  sinceMs?: number;
  fromBeginning?: boolean;
  /** Stop after printing this many events. */
  max?: number;
  /** Stop once every partition has been read to its end. */
  untilIdle?: boolean;
  signal: AbortSignal;
  logger?: Logger;
  /** Called for each event that passes the filters, in offset order per partition. */
  emit: (event: TailedEvent) => void;
}

export interface TailedEvent {
  topic: string;
  partition: number;
  offset: string;
  /** The Kafka timestamp (when the relay published it), ISO 8601. */
  timestamp: string;
  key: string | null;
  /** The decoded event; absent for a message that is not one (then `error` says why). */
  event?: DomainEvent;
  error?: string;
}

/** How long one fetch waits at the broker for new messages before the loop looks at its signal again. */
const POLL_WAIT_MS = 500;

/** The --type values, checked against the known event types (a usage error, exit 2, names the unknown one). */
export function parseTypes(types: string[] | undefined): EventType[] | undefined {
  if (!types || types.length === 0) return undefined;
  for (const t of types)
    if (!(EVENT_TYPES as string[]).includes(t))
      throw new UsageError(`unknown --type "${t}"; known types: ${EVENT_TYPES.join(', ')}`);
  return types as EventType[];
}

/**
 * `events tail`: decoded events from the event topics, as they arrive or from a time or the beginning.
 * It reads with plain Fetch requests to the partition leaders (lib/kafka/partition-fetch.ts): no
 * consumer group at all, so it never takes a partition from a collector, triggers no rebalance, commits
 * nothing and leaves no group behind. It holds nothing either: stopping (the signal) ends it at the end
 * of the current fetch (at most POLL_WAIT_MS).
 */
export async function tailEvents(
  kafka: Kafka,
  config: AppConfig['kafka'],
  options: TailOptions,
): Promise<{ printed: number; read: number }> {
  const types = parseTypes(options.types);
  const aggregates = new Set<string>(types ? types.map((t) => AGGREGATE_OF[t]) : ['product', 'order']);
  if (options.aggregate) {
    if (!aggregates.has(options.aggregate))
      throw new UsageError(`--aggregate ${options.aggregate} has none of the --type events`);
    aggregates.clear();
    aggregates.add(options.aggregate);
  }
  const topics = [
    ...(aggregates.has('product') ? [config.topics.catalog] : []),
    ...(aggregates.has('order') ? [config.topics.order] : []),
  ];
  const positions = await startPositions(kafka, topics, options);
  options.logger?.info(
    { topics, partitions: positions.length, since: options.sinceMs, fromBeginning: options.fromBeginning },
    `events tail: reading ${positions.length} partition(s) of ${topics.join(', ')}`,
  );
  const wanted = (e: TailedEvent) =>
    (!types || (e.event !== undefined && types.includes(e.event.eventType))) &&
    (!options.key || e.key === options.key);

  const fetcher = await openPartitionFetcher(kafka);
  let printed = 0;
  let read = 0;
  // --until-idle: read up to the end offsets seen at the start, then stop (events arriving meanwhile
  // may be printed too: a fetch returns what is there).
  const unread = () => positions.filter((p) => BigInt(p.offset) < BigInt(p.end));
  try {
    while (!options.signal.aborted) {
      const reading = options.untilIdle ? unread() : positions;
      if (reading.length === 0) break;
      for (const f of await fetcher.fetch(reading, { maxWaitMs: POLL_WAIT_MS })) {
        const position = positions.find((p) => p.topic === f.topic && p.partition === f.partition)!;
        for (const m of f.messages) {
          read++;
          position.offset = (BigInt(m.offset) + 1n).toString();
          const tailed = decode(f.topic, f.partition, m);
          if (!wanted(tailed)) continue;
          options.emit(tailed);
          if (options.max !== undefined && ++printed >= options.max) return { printed, read };
        }
      }
    }
  } finally {
    await fetcher.close().catch(() => undefined);
  }
  return { printed, read };
}

function decode(
  topic: string,
  partition: number,
  m: { offset: string; timestamp: string; key: Buffer | null; value: Buffer | null },
): TailedEvent {
  const base = {
    topic,
    partition,
    offset: m.offset,
    timestamp: new Date(Number(m.timestamp)).toISOString(),
    key: m.key?.toString('utf8') ?? null,
  };
  try {
    return { ...base, event: decodeEvent(m.value) };
  } catch (err) {
    return { ...base, error: (err as Error).message };
  }
}

/** Per partition: its end (new events only), its start (--from-beginning) or the first offset at or after --since. */
async function startPositions(
  kafka: Kafka,
  topics: string[],
  options: TailOptions,
): Promise<Array<PartitionPosition & { end: string }>> {
  return withAdmin(kafka, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0)
      throw new CliError(
        `topic ${missing.join(', ')} does not exist: commerce kafka topics creates it`,
        'NO_TOPIC',
      );
    const out: Array<PartitionPosition & { end: string }> = [];
    for (const topic of topics) {
      const ends = await admin.fetchTopicOffsets(topic);
      const at =
        options.sinceMs !== undefined
          ? new Map(
              (await admin.fetchTopicOffsetsByTimestamp(topic, Date.now() - options.sinceMs)).map((p) => [
                p.partition,
                p.offset,
              ]),
            )
          : undefined;
      for (const p of ends.sort((a, b) => a.partition - b.partition)) {
        let offset = options.fromBeginning ? p.low : p.high;
        const fromTime = at?.get(p.partition);
        if (fromTime !== undefined) offset = fromTime === '-1' ? p.high : fromTime;
        out.push({ topic, partition: p.partition, offset, end: p.high });
      }
    }
    return out;
  });
}

/** One readable line per event (a terminal). */
export function formatTailed(e: TailedEvent): string {
  const where = `${e.topic}/${e.partition}@${e.offset}`;
  if (!e.event) return `${e.timestamp}  ${where}  (not an event: ${e.error})  key=${e.key ?? '-'}`;
  const ev = e.event;
  return (
    `${e.timestamp}  ${ev.eventType.padEnd(16)} ${ev.aggregateType}:${ev.aggregateId} v${ev.version}  ` +
    `${JSON.stringify(ev.payload)}  ${where}  ${ev.eventId}`
  );
}
