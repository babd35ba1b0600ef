import type { EachBatchPayload, KafkaMessage, Producer, TopicPartitionOffsetAndMetadata } from 'kafkajs';
import { errorMessage } from '../../lib/errors.js';
import { applyEvents } from './apply.js';
import { applyRedisEffects } from './redis-effects.js';
import { processChunk } from './process-chunk.js';
import { sendDeadLetters } from './dead-letters.js';
import type { CollectorMetrics, CollectorStats } from './metrics.js';
import type { CollectorTestHooks } from './hooks.js';
import type { CollectorDeps, ResolvedCollectorOptions } from './options.js';
import type { LoggedEvent } from './sql.js';

export interface BatchContext extends CollectorDeps {
  options: ResolvedCollectorOptions;
  hooks: CollectorTestHooks;
  metrics: CollectorMetrics;
  stats: CollectorStats;
  signal: AbortSignal;
  /** Serialized (serialSender): chunks and partitions run concurrently, idempotent sends must not. */
  producer: Pick<Producer, 'send'>;
  commit: (offsets: TopicPartitionOffsetAndMetadata[]) => Promise<void>;
}

/**
 * The kafkajs eachBatch handler: the partition's messages in chunks of `batchSize`; per chunk one
 * transaction, then Redis, then dead letters, then the offset commit (last offset + 1). Two chunks are
 * in flight at a time (see CHUNKS_IN_FLIGHT). It stops between chunks when the consumer stops or the
 * batch went stale (rebalance).
 */
export function createBatchHandler(ctx: BatchContext): (payload: EachBatchPayload) => Promise<void> {
  const { pool, redis, config, logger, options, hooks, metrics, stats, signal, producer } = ctx;
  const { groupId, batchSize } = options;
  const effects = { weights: config.ranking, timeZone: config.timezone };

  const handle = async (events: LoggedEvent[]) => {
    const result = await applyEvents(
      pool,
      { consumer: groupId, timeZone: config.timezone, faultInjector: hooks.faultInjector },
      events,
    );
    await hooks.afterDbCommit?.(events);
    await applyRedisEffects(
      redis,
      events.map((e) => e.event),
      { ...effects, rankable: result.rankable },
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
    const runner = {
      maxAttempts: options.maxAttempts,
      backoff: options.backoff,
      signal,
      heartbeat,
      handle,
      onRetry: (err: unknown, attempt: number, size: number) =>
        logger.warn({ ...at, attempt, size, err: errorMessage(err) }, 'batch failed'),
    };
    const step = batchSize * CHUNKS_IN_FLIGHT;
    for (let i = 0; i < batch.messages.length; i += step) {
      if (!isRunning() || isStale()) return;
      const started = process.hrtime.bigint();
      const chunks: KafkaMessage[][] = [];
      for (let j = i; j < Math.min(i + step, batch.messages.length); j += batchSize)
        chunks.push(batch.messages.slice(j, j + batchSize));
      const outcomes = await settleAll(chunks.map((chunk) => processChunk(runner, at, chunk)));
      // Offsets move in order: past a chunk only when it and every chunk before it are done.
      for (const [k, outcome] of outcomes.entries()) {
        if (!outcome.complete) return;
        await sendDeadLetters(producer, { ...at, group: groupId }, outcome.letters);
        for (const l of outcome.letters) {
          metrics.deadLettered.inc({ topic: at.topic, kind: l.kind });
          logger.warn({ ...at, offset: l.message.offset, kind: l.kind, err: l.error }, 'dead-lettered');
        }
        stats.deadLettered += outcome.letters.length;
        const chunk = chunks[k]!;
        const last = chunk[chunk.length - 1]!.offset;
        resolveOffset(last);
        await ctx.commit([{ ...at, offset: (BigInt(last) + 1n).toString() }]);
        stats.batches += 1;
      }
      await heartbeat();
      metrics.batchSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    }
    metrics.lag.set({ topic: at.topic, partition: String(at.partition) }, Number(batch.offsetLag()));
  };
}

/**
 * Chunks of one partition applied concurrently, each in its own transaction. Safe because every
 * effect is order-independent (claims dedupe, counters add, versioned state keeps the highest
 * version, rows are locked in product order), and overlapping two transactions hides a round trip's
 * wait on PostgreSQL and Redis. Offsets are still committed chunk by chunk, in order.
 */
const CHUNKS_IN_FLIGHT = 2;

/** Like Promise.all, but waits for every promise to settle before rethrowing the first failure. */
async function settleAll<T>(promises: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<T>).value);
}
