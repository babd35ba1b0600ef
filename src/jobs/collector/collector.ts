import type { Consumer } from 'kafkajs';
import { Registry } from 'prom-client';
import { createIdempotentProducer, serialSender } from '../../lib/kafka/client.js';
import { errorMessage } from '../../lib/errors.js';
import { createBatchHandler } from './batch-handler.js';
import type { CollectorTestHooks } from './hooks.js';
import { createCollectorMetrics, type CollectorStats } from './metrics.js';
import { resolveCollectorOptions, type CollectorDeps, type CollectorOptions } from './options.js';

export type { CollectorDeps, CollectorOptions } from './options.js';

/** How many partitions one collector works on at once (kafkajs keeps each partition in order). */
const PARTITIONS_CONCURRENTLY = 3;
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
  hooks: CollectorTestHooks = {},
): Promise<CollectorHandle> {
  const { config, kafka, logger } = deps;
  const resolved = resolveCollectorOptions(config, options);
  const { groupId, topics } = resolved;
  const metrics = createCollectorMetrics(options.registry ?? new Registry());
  const stats: CollectorStats = { consumed: 0, duplicates: 0, deadLettered: 0, batches: 0 };
  const signal = deps.signal ?? new AbortController().signal;

  const producer = createIdempotentProducer(kafka);
  const consumer: Consumer = kafka.consumer({
    groupId,
    sessionTimeout: resolved.sessionTimeoutMs,
    heartbeatInterval: resolved.heartbeatIntervalMs,
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
    options: resolved,
    hooks,
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
