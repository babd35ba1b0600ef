import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { Consumer, Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import type { AppConfig } from '../../lib/config/config.js';
import type { Logger } from '../../lib/log.js';
import { createIdempotentProducer, serialSender } from '../../lib/kafka/client.js';
import { errorMessage } from '../../lib/errors.js';
import type { FaultInjector } from './apply.js';
import { createBatchHandler, type WebhookStep } from './batch-handler.js';
import { DEFAULT_HANDLERS, type HandlerName } from './handlers.js';
import { createCollectorMetrics, type CollectorStats } from './metrics.js';
import type { LoggedEvent } from './store.js';

/** How many partitions one collector works on at once (kafkajs keeps each partition in order). */
const PARTITIONS_CONCURRENTLY = 3;
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
  /** The handlers this group runs (default DEFAULT_HANDLERS: all but webhook). */
  handlers?: readonly HandlerName[];
  /** Required with the `webhook` handler: delivers a chunk's events (createWebhookStep). */
  webhook?: WebhookStep;
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
  readonly handlers: readonly HandlerName[];
  /** Rejects if the consumer crashed for good (kafkajs gave up restarting it); never resolves. */
  readonly failed: Promise<never>;
  /**
   * Finishes the current chunk and commits it, leaves the group. A chunk waiting to retry (a handler's
   * service down, a webhook receiver down) is abandoned uncommitted: it is consumed again. Safe to call twice.
   */
  stop(): Promise<void>;
}

/** Starts consuming; resolves once the consumer has joined its group ("collector running"). */
export async function startCollector(
  deps: CollectorDeps,
  options: CollectorOptions = {},
): Promise<CollectorHandle> {
  const { config, kafka, logger } = deps;
  const groupId = options.groupId ?? config.kafka.groupId;
  const topics = options.topics ?? [config.kafka.topics.catalog, config.kafka.topics.order];
  const batchSize = options.batchSize ?? 500;
  const metrics = createCollectorMetrics(options.registry ?? new Registry());
  const stats: CollectorStats = { consumed: 0, duplicates: 0, deadLettered: 0, batches: 0 };
  const handlers = new Set(options.handlers ?? DEFAULT_HANDLERS);
  if (handlers.size === 0) throw new Error('a collector needs at least one handler');
  if (handlers.has('webhook') !== (options.webhook !== undefined))
    throw new Error('the webhook handler and its delivery step (options.webhook) go together');
  // Aborted by stop() as well: a webhook receiver that is down must not hold up a shutdown.
  const halt = new AbortController();
  const signal = deps.signal ? AbortSignal.any([deps.signal, halt.signal]) : halt.signal;

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

  const eachBatch = createBatchHandler({
    ...deps,
    options,
    groupId,
    handlers,
    webhook: options.webhook,
    batchSize,
    metrics,
    stats,
    signal,
    producer: serialSender(producer),
    commit: (offsets) => consumer.commitOffsets(offsets),
  });

  try {
    await producer.connect();
    await consumer.connect();
    for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
    // Partitions are processed concurrently (each in order); every effect is idempotent and
    // order-independent across partitions, and offsets are committed per partition.
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: PARTITIONS_CONCURRENTLY,
      eachBatch,
    });
    await Promise.race([joined, failed]);
  } catch (err) {
    // Leave nothing connected behind a failed start (the process must be able to exit).
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    throw err;
  }
  logger.info({ groupId, topics, handlers: [...handlers] }, 'collector running');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      halt.abort(new Error('collector stopping'));
      await consumer.disconnect(); // waits for the running batch, then leaves the group
      await producer.disconnect();
      logger.info({ ...stats }, 'collector stopped');
    })());
  signal.addEventListener('abort', () => void stop(), { once: true });
  return { stats, groupId, handlers: [...handlers], failed, stop };
}
