import type { Consumer, EachBatchPayload } from 'kafkajs';
import { Registry } from 'prom-client';
import { createIdempotentProducer, serialSender } from '../../lib/kafka/client.js';
import type { HandlerName } from './handlers.js';
import { errorMessage } from '../../lib/errors.js';
import { Lifecycle, newInstanceId } from '../../lib/lifecycle.js';
import { createBatchHandler } from './batch-handler.js';
import type { CollectorTestHooks } from './hooks.js';
import { createCollectorMetrics, type CollectorStats } from './metrics.js';
import { resolveCollectorOptions, type CollectorDeps, type CollectorOptions } from './options.js';
import { unavailableService } from '../../lib/unavailable.js';

export type { CollectorDeps, CollectorOptions } from './options.js';

/** How many partitions one collector works on at once (kafkajs keeps each partition in order). */
const PARTITIONS_CONCURRENTLY = 3;

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
  hooks: CollectorTestHooks = {},
): Promise<CollectorHandle> {
  const { config, kafka } = deps;
  const resolved = resolveCollectorOptions(config, options);
  const { groupId, topics } = resolved;
  const metrics = createCollectorMetrics(options.registry ?? new Registry(), topics);
  const stats: CollectorStats = { consumed: 0, duplicates: 0, deadLettered: 0, batches: 0 };
  const lifecycle = new Lifecycle('collector', newInstanceId(), {
    logger: deps.logger,
    signal: deps.signal,
    gauge: metrics.state,
  });
  const { logger, signal } = lifecycle;

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

  const handleBatch = createBatchHandler({
    ...deps,
    logger,
    options: resolved,
    hooks,
    webhook: options.webhook,
    metrics,
    stats,
    signal,
    producer: serialSender(producer),
    commit: (offsets) => consumer.commitOffsets(offsets),
  });
  // An unreachable database or Redis fails the batch and kafkajs restarts the consumer from the last
  // committed offset: paused until a batch goes through again.
  const eachBatch = async (payload: EachBatchPayload) => {
    try {
      await handleBatch(payload);
    } catch (err) {
      if (unavailableService(err)) lifecycle.set('paused', { err: errorMessage(err) });
      throw err;
    }
    if (lifecycle.state === 'paused') lifecycle.set('running');
  };

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
    lifecycle.set('stopped', { err: errorMessage(err) });
    throw err;
  }
  lifecycle.set('running', { groupId, topics, handlers: [...resolved.handlers] });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      lifecycle.set('stopping');
      lifecycle.abort(); // cuts a retry backoff short
      await consumer.disconnect(); // waits for the running batch, then leaves the group
      await producer.disconnect();
      lifecycle.set('stopped', { ...stats });
    })());
  signal.addEventListener('abort', () => void stop(), { once: true });
  return { stats, groupId, handlers: [...resolved.handlers], failed, stop };
}
