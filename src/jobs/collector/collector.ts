import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import type { AppConfig } from '../../lib/config/config.js';
import type { Logger } from '../../lib/log.js';
import { createIdempotentProducer } from '../../lib/kafka/client.js';
import { errorMessage } from '../../lib/errors.js';
import { applyEvents, type FaultInjector } from './apply.js';
import { applyRedisEffects } from './redis-effects.js';
import { processChunk } from './process-chunk.js';
import { sendDeadLetters } from './dead-letters.js';
import { createCollectorMetrics, type CollectorStats } from './metrics.js';
import type { LoggedEvent } from './store.js';

export interface CollectorDeps {
  config: AppConfig;
  pool: pg.Pool;
  redis: Redis;
  kafka: Kafka;
  logger: Logger;
  signal?: AbortSignal;
}

export interface CollectorOptions {
  groupId?: string;
  topics?: string[];
  maxAttempts?: number;
  batchSize?: number;
  sessionTimeoutMs?: number;
  backoff?: { baseMs: number; maxMs: number };
  registry?: Registry;
  /** Test hook: throw for an event to make its handler fail. */
  faultInjector?: FaultInjector;
  /** Test hook: runs after a batch's transaction committed, before Redis and the offset commit. */
  afterDbCommit?: (events: LoggedEvent[]) => Promise<void> | void;
}

export interface CollectorHandle {
  readonly stats: Readonly<CollectorStats>;
  readonly groupId: string;
  /** Rejects if the consumer crashed for good (kafkajs gave up restarting it); never resolves. */
  readonly failed: Promise<never>;
  /** Finishes the current chunk, commits, leaves the group. Safe to call twice. */
  stop(): Promise<void>;
}

/** Starts consuming; resolves once the consumer has joined its group ("collector running"). */
export async function startCollector(
  deps: CollectorDeps,
  options: CollectorOptions = {},
): Promise<CollectorHandle> {
  const { config, pool, redis, kafka, logger } = deps;
  const groupId = options.groupId ?? config.kafka.groupId;
  const topics = options.topics ?? [config.kafka.topics.catalog, config.kafka.topics.order];
  const batchSize = options.batchSize ?? 500;
  const metrics = createCollectorMetrics(options.registry ?? new Registry());
  const stats: CollectorStats = { consumed: 0, duplicates: 0, deadLettered: 0, batches: 0 };
  const signal = deps.signal ?? new AbortController().signal;
  const effects = { weights: config.ranking, timeZone: config.timezone };

  const producer = createIdempotentProducer(kafka);
  const consumer: Consumer = kafka.consumer({
    groupId,
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: Math.min(3_000, Math.floor((options.sessionTimeoutMs ?? 30_000) / 3)),
  });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  const failed = new Promise<never>((_, reject) =>
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      logger.error({ err: errorMessage(payload.error), restart: payload.restart }, 'consumer crashed');
      if (!payload.restart) reject(payload.error);
    }),
  );
  failed.catch(() => undefined); // observed by whoever awaits it

  const handle = async (events: LoggedEvent[]) => {
    const result = await applyEvents(
      pool,
      { consumer: groupId, timeZone: config.timezone, faultInjector: options.faultInjector },
      events,
    );
    await options.afterDbCommit?.(events);
    await applyRedisEffects(
      redis,
      events.map((e) => e.event),
      effects,
    );
    const topic = events[0]!.topic;
    stats.consumed += result.applied;
    stats.duplicates += result.duplicates;
    metrics.consumed.inc({ topic }, result.applied);
    metrics.duplicates.inc({ topic }, result.duplicates);
  };

  const eachBatch = async (payload: EachBatchPayload) => {
    const { batch, heartbeat, isRunning, isStale, resolveOffset } = payload;
    const at = { topic: batch.topic, partition: batch.partition };
    for (let i = 0; i < batch.messages.length; i += batchSize) {
      if (!isRunning() || isStale()) return;
      const started = process.hrtime.bigint();
      const chunk = batch.messages.slice(i, i + batchSize);
      const outcome = await processChunk(
        {
          maxAttempts: options.maxAttempts ?? 3,
          backoff: options.backoff ?? { baseMs: 200, maxMs: 5_000 },
          signal,
          heartbeat,
          handle,
          onRetry: (err, attempt, size) =>
            logger.warn({ ...at, attempt, size, err: errorMessage(err) }, 'batch failed'),
        },
        at,
        chunk,
      );
      if (!outcome.complete) return;
      await sendDeadLetters(producer, { ...at, group: groupId }, outcome.letters);
      for (const l of outcome.letters) {
        metrics.deadLettered.inc({ topic: at.topic, kind: l.kind });
        logger.warn({ ...at, offset: l.message.offset, kind: l.kind, err: l.error }, 'dead-lettered');
      }
      stats.deadLettered += outcome.letters.length;
      // Every message of the chunk is now processed or dead-lettered: commit past the last one.
      const last = chunk[chunk.length - 1]!.offset;
      resolveOffset(last);
      await consumer.commitOffsets([{ ...at, offset: (BigInt(last) + 1n).toString() }]);
      await heartbeat();
      stats.batches += 1;
      metrics.batchSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    }
    metrics.lag.set({ topic: at.topic, partition: String(at.partition) }, Number(batch.offsetLag()));
  };

  await producer.connect();
  await consumer.connect();
  for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch });
  await joined;
  logger.info({ groupId, topics }, 'collector running');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await consumer.disconnect(); // waits for the running batch, then leaves the group
      await producer.disconnect();
      logger.info({ ...stats }, 'collector stopped');
    })());
  signal.addEventListener('abort', () => void stop(), { once: true });
  return { stats, groupId, failed, stop };
}
