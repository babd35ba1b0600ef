import type { EachBatchPayload, KafkaMessage, Producer } from 'kafkajs';
import { errorMessage } from '../../lib/errors.js';
import { applyEvents } from './apply.js';
import { applyRedisEffects } from './redis-effects.js';
import { PartitionHeld, processChunk, type ChunkOutcome } from './process-chunk.js';
import { sendDeadLetters } from './dead-letters.js';
import { ChunkTurns, type Turn } from './ordered-steps.js';
import { BatchGuard } from './batch-guard.js';
import { publishDbCommitted } from './probes.js';
import type { CollectorMetrics, CollectorStats } from './metrics.js';
import type { WebhookStep } from './handlers.js';
import type { CollectorDeps, ResolvedCollectorOptions } from './options.js';
import type { LoggedEvent } from './sql.js';
import type { OffsetCommitter } from './offset-committer.js';

export interface BatchContext extends CollectorDeps {
  options: ResolvedCollectorOptions;
  /** The webhook handler's step, when the group runs it. */
  webhook?: WebhookStep;
  metrics: CollectorMetrics;
  stats: CollectorStats;
  /** The consumer's stop or replacement. */
  signal: AbortSignal;
  /** Serialized (serialSender): chunks and partitions run concurrently, idempotent sends must not. */
  producer: Pick<Producer, 'send'>;
  /** The consumer's offset commits (offset-committer.ts: at most one per interval). */
  committer: Pick<OffsetCommitter, 'add' | 'flush'>;
}

/**
 * The kafkajs eachBatch handler: the partition's messages in chunks of `batchSize`; per chunk the
 * group's handlers (one transaction for audit/metrics/ranking/points marks and effects, then Redis for ranking/cache,
 * then webhook), then dead letters, then the offset (last offset + 1) to the committer (offset-committer.ts). A handler that fails
 * holds back the whole partition for this group (never skipping an event for any of its handlers);
 * the other handlers' effects are repeated harmlessly on the retry, being idempotent. Two chunks are
 * in flight at a time (see CHUNKS_IN_FLIGHT), order-sensitive steps in turn. It stops between chunks
 * when the consumer stops or the batch went stale (rebalance). A BatchGuard heartbeats while it works
 * and ends it when the member lost its group (that error is rethrown for kafkajs to rejoin).
 */
export function createBatchHandler(ctx: BatchContext): (payload: EachBatchPayload) => Promise<void> {
  const { pool, redis, config, logger, options, metrics, stats, signal, producer } = ctx;
  const { groupId, handlers, batchSize } = options;
  const usesRedis = handlers.has('ranking') || handlers.has('cache');

  // Before each step, its chunk's turn for the handlers it serves (ordered-steps.ts).
  const handle = async (events: LoggedEvent[], guard: BatchGuard, turn: Turn) => {
    await turn(['audit', 'metrics', 'ranking', 'points']);
    const result = await applyEvents(
      pool,
      {
        group: groupId,
        handlers,
        timeZone: config.timezone,
        pointsRateBasisPoints: config.points.rateBasisPoints,
      },
      events,
    );
    publishDbCommitted(() => ({
      topic: events[0]!.topic,
      partition: events[0]!.partition,
      offsets: [events[0]!.offset, events[events.length - 1]!.offset],
    }));
    if (usesRedis) {
      const ranking = handlers.has('ranking')
        ? { weights: config.ranking, timeZone: config.timezone, rankable: result.rankable }
        : undefined;
      await turn(['ranking', 'cache']);
      await applyRedisEffects(
        redis,
        events.map((e) => e.event),
        { ranking, cache: handlers.has('cache') },
      );
    }
    await turn(['webhook']);
    const rejected = ctx.webhook ? await ctx.webhook(events, guard.heartbeat, guard.signal) : [];
    const topic = events[0]!.topic;
    stats.consumed += result.applied;
    stats.duplicates += result.duplicates;
    metrics.consumed.inc({ topic }, result.applied);
    metrics.duplicates.inc({ topic }, result.duplicates);
    return rejected;
  };

  const guarded = { intervalMs: options.heartbeatIntervalMs, stallMs: options.stallMs, signal, logger };
  return async (payload: EachBatchPayload) => {
    const guard = new BatchGuard(payload, guarded);
    try {
      await handlePartition(payload, guard);
    } catch (err) {
      throw guard.lost ?? err; // a lost membership first: a later chunk's EarlierChunkUnfinished follows from it
    } finally {
      guard.close();
    }
    if (guard.lost) throw guard.lost;
  };

  async function handlePartition(payload: EachBatchPayload, guard: BatchGuard): Promise<void> {
    const { batch, isRunning, isStale, resolveOffset } = payload;
    const at = { topic: batch.topic, partition: batch.partition };
    const runner = {
      decoder: options.decoder,
      maxAttempts: options.maxAttempts,
      backoff: options.backoff,
      signal: guard.signal,
      heartbeat: guard.heartbeat,
      onRetry: (err: unknown, attempt: number, size: number) =>
        logger.warn({ ...at, attempt, size, err: errorMessage(err) }, 'batch failed'),
    };
    const step = batchSize * CHUNKS_IN_FLIGHT;
    for (let i = 0; i < batch.messages.length; i += step) {
      if (!isRunning() || isStale() || guard.signal.aborted) return;
      const started = process.hrtime.bigint();
      const chunks: KafkaMessage[][] = [];
      for (let j = i; j < Math.min(i + step, batch.messages.length); j += batchSize)
        chunks.push(batch.messages.slice(j, j + batchSize));
      const turns = new ChunkTurns(handlers);
      const run = (chunk: KafkaMessage[]) =>
        turns.next((turn) =>
          processChunk(
            { ...runner, handle: (e) => handle(e, guard, turn).finally(guard.progress) },
            at,
            chunk,
          ),
        );
      const outcomes = await settleUpToHold(chunks.map(run));
      // Offsets move in order: past a chunk only when it and every chunk before it are done.
      for (const [k, outcome] of outcomes.entries()) {
        if (!outcome.complete) return;
        await sendDeadLetters(producer, { ...at, group: groupId }, outcome.letters);
        for (const l of outcome.letters) {
          metrics.deadLettered.inc({ topic: at.topic, kind: l.kind });
          logger.warn({ ...at, offset: l.message.offset, kind: l.kind, err: l.error }, 'dead-lettered');
        }
        stats.deadLettered += outcome.letters.length;
        if (outcome.held) {
          // Everything before the held event is done: the partition is fetched again from it.
          const { message, error } = outcome.held;
          const chunk = chunks[k]!;
          const index = chunk.indexOf(message);
          if (index > 0) {
            // (At the chunk's start, the chunks before recorded offsets up to it already.)
            resolveOffset(chunk[index - 1]!.offset);
            ctx.committer.add({ ...at, offset: message.offset });
          }
          await ctx.committer.flush();
          metrics.held.inc({ topic: at.topic });
          logger.warn(
            { ...at, offset: message.offset, eventType: error.eventType, schemaVersion: error.schemaVersion },
            'held: an event of a schema version this collector does not know (upgrade the collector)',
          );
          throw new PartitionHeld({ ...at, offset: message.offset }, error);
        }
        const chunk = chunks[k]!;
        const last = chunk[chunk.length - 1]!.offset;
        resolveOffset(last);
        ctx.committer.add({ ...at, offset: (BigInt(last) + 1n).toString() });
        // Dead letters are sent again with their chunk if its offset were not committed: not delayed.
        if (outcome.letters.length > 0) await ctx.committer.flush();
        stats.batches += 1;
      }
      await guard.heartbeat();
      metrics.batchSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    }
    metrics.lag.set({ topic: at.topic, partition: String(at.partition) }, Number(batch.offsetLag()));
  }
}

/**
 * Chunks of one partition applied concurrently, each in its own transaction, for the effects that
 * commute (handlers.ts, COMMUTES: claims dedupe, counters add, versioned state keeps the highest
 * version, rows are locked in product order); overlapping two transactions hides a round trip's wait
 * on PostgreSQL and Redis. A step of a handler that does not commute (webhook) runs for a chunk only
 * once the earlier chunks are done (ChunkTurns): order per aggregate whatever the backlog. Offsets are
 * committed chunk by chunk, in order.
 */
const CHUNKS_IN_FLIGHT = 2;

/**
 * Like Promise.all, but waits for every promise to settle before rethrowing the first failure; the
 * outcomes end at the first held chunk (included): what the later chunks did or failed at follows the
 * hold (their order-sensitive steps did not run) and they are fetched again with it.
 */
async function settleUpToHold(promises: Promise<ChunkOutcome>[]): Promise<ChunkOutcome[]> {
  const settled = await Promise.allSettled(promises);
  const hold = settled.findIndex((r) => r.status === 'fulfilled' && r.value.held !== undefined);
  const relevant = hold === -1 ? settled : settled.slice(0, hold + 1);
  const failed = relevant.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return relevant.map((r) => (r as PromiseFulfilledResult<ChunkOutcome>).value);
}
