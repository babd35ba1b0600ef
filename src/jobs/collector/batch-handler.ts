import type { EachBatchPayload, Producer, TopicPartitionOffsetAndMetadata } from 'kafkajs';
import { errorMessage } from '../../lib/errors.js';
import { applyEvents } from './apply.js';
import { applyRedisEffects } from './redis-effects.js';
import { processChunk } from './process-chunk.js';
import { sendDeadLetters } from './dead-letters.js';
import type { CollectorMetrics, CollectorStats } from './metrics.js';
import type { CollectorDeps, CollectorOptions } from './collector.js';
import type { LoggedEvent } from './store.js';

export interface BatchContext extends CollectorDeps {
  options: CollectorOptions;
  groupId: string;
  batchSize: number;
  metrics: CollectorMetrics;
  stats: CollectorStats;
  signal: AbortSignal;
  producer: Producer;
  commit: (offsets: TopicPartitionOffsetAndMetadata[]) => Promise<void>;
}

/**
 * The kafkajs eachBatch handler: the partition's messages in chunks of `batchSize`; per chunk one
 * transaction, then Redis, then dead letters, then the offset commit (last offset + 1). It stops
 * between chunks when the consumer stops or the batch went stale (rebalance).
 */
export function createBatchHandler(ctx: BatchContext): (payload: EachBatchPayload) => Promise<void> {
  const { pool, redis, config, logger, options, groupId, batchSize, metrics, stats, signal, producer } = ctx;
  const effects = { weights: config.ranking, timeZone: config.timezone };

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

  return async (payload: EachBatchPayload) => {
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
      await ctx.commit([{ ...at, offset: (BigInt(last) + 1n).toString() }]);
      await heartbeat();
      stats.batches += 1;
      metrics.batchSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    }
    metrics.lag.set({ topic: at.topic, partition: String(at.partition) }, Number(batch.offsetLag()));
  };
}
