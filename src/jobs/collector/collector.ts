import type { EachBatchPayload } from 'kafkajs';
import { Registry } from 'prom-client';
import { createIdempotentProducer, serialSender } from '../../lib/kafka/client.js';
import type { HandlerName } from './handlers.js';
import { errorMessage } from '../../lib/errors.js';
import { Lifecycle, newInstanceId } from '../../lib/lifecycle.js';
import { StopDeadline, trackLoop, unlessForced, type Loop, type StopOptions } from '../../lib/loop.js';
import { createBatchHandler } from './batch-handler.js';
import { createCollectorMetrics, type CollectorStats } from './metrics.js';
import { resolveCollectorOptions, type CollectorDeps, type CollectorOptions } from './options.js';
import { ConsumerSupervisor, supervisorLimits } from '../../lib/kafka/consumer-supervisor.js';
import { PartitionPauses, pausesPartition } from './partition-pauses.js';
import { OffsetCommitter } from './offset-committer.js';

export type { CollectorDeps, CollectorOptions } from './options.js';

/** How many partitions one collector works on at once (kafkajs keeps each partition in order). */
const PARTITIONS_CONCURRENTLY = 3;

/** A started collector (a Loop, lib/loop.ts: startCollector has started it, start() does nothing more). */
export interface CollectorHandle extends Loop {
  readonly stats: Readonly<CollectorStats>;
  readonly groupId: string;
  readonly handlers: readonly HandlerName[];
  /**
   * Rejects if the consumer stayed out of its group through every replacement (ConsumerSupervisor);
   * never resolves.
   */
  readonly failed: Promise<never>;
  /** In its group and consuming (state running): what `/readyz` answers. */
  ready(): boolean;
  /**
   * Commits what finished chunks recorded, finishes the current chunk (kafkajs drops its commit once
   * the consumer stops: its events are delivered again and found done), leaves the group. A chunk waiting to retry (a handler's
   * service down, a webhook receiver down) is abandoned uncommitted: it is consumed again. Past
   * `timeoutMs` (forced) it stops waiting for the chunk in flight: offsets of the chunks already done
   * are committed (stop() commits what the committer holds first), the rest is consumed again; kafkajs leaves the group
   * once that chunk ends (or the session times out if the process exits first). Safe to call again.
   */
  stop(options?: StopOptions): Promise<void>;
}

/** Starts consuming; resolves once the consumer has joined its group ("collector running"). */
export async function startCollector(
  deps: CollectorDeps,
  options: CollectorOptions = {},
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
  const sender = serialSender(producer);

  // The state says whether the member is in its group, and whether a partition waits on a step that
  // cannot make progress: running, paused or rejoining (set only once started).
  let started = false;
  let inGroup = true;
  const refresh = (fields?: Record<string, unknown>) => {
    if (started) lifecycle.set(!inGroup ? 'rejoining' : pauses.size > 0 ? 'paused' : 'running', fields);
  };
  const pauses = new PartitionPauses(logger, () => refresh());
  // The latest consumer's committer: stop() commits what it holds before the consumer leaves.
  let latestCommitter: OffsetCommitter | undefined;

  const supervisor = new ConsumerSupervisor({
    kafka,
    logger,
    signal,
    topics,
    config: {
      groupId,
      sessionTimeout: resolved.sessionTimeoutMs,
      rebalanceTimeout: resolved.rebalanceTimeoutMs,
      heartbeatInterval: resolved.heartbeatIntervalMs,
      // While every partition is paused (a dependency outage), kafkajs's fetch sleeps maxWaitTime and
      // only then heartbeats (consumerGroup.fetch: no request -> sleep(maxWaitTime)); its 5 s default
      // against a short session timeout lets the session expire and the member rejoin. One heartbeat
      // interval keeps the member alive through any pause.
      maxWaitTimeInMs: resolved.heartbeatIntervalMs,
    },
    limits: supervisorLimits(resolved.sessionTimeoutMs, resolved.rebalanceTimeoutMs),
    onMembership: (change) => {
      inGroup = change.inGroup;
      if (change.inGroup) pauses.retain(change.assignment);
      else refresh({ reason: change.reason });
    },
    // One batch handler per consumer: it commits through that consumer, and stops with it.
    run: ({ consumer, signal: consumerSignal }) => {
      const committer = new OffsetCommitter(
        (offsets) => consumer.commitOffsets(offsets),
        (err) =>
          logger.warn(
            { err: errorMessage(err) },
            'offset commit failed: those events are delivered again, found done',
          ),
      );
      latestCommitter = committer;
      const handleBatch = createBatchHandler({
        ...deps,
        logger,
        options: resolved,
        webhook: options.webhook,
        metrics,
        stats,
        signal: consumerSignal,
        producer: sender,
        committer,
      });
      return {
        autoCommit: false,
        eachBatchAutoResolve: false,
        // Partitions are processed concurrently (each in order); every effect is idempotent and
        // order-independent across partitions, and offsets are committed per partition.
        partitionsConsumedConcurrently: PARTITIONS_CONCURRENTLY,
        eachBatch: async (payload: EachBatchPayload) => {
          try {
            await handleBatch(payload);
          } catch (err) {
            // PostgreSQL, Redis or the receiver unavailable: pause the partition, stay in the group.
            if (!pausesPartition(err)) throw err;
            pauses.pause(payload, err);
            return;
          }
          pauses.succeeded(payload.batch.topic, payload.batch.partition);
        },
      };
    },
  });

  try {
    await producer.connect();
    await supervisor.start();
  } catch (err) {
    // Leave nothing connected behind a failed start (the process must be able to exit).
    await supervisor.stop().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    lifecycle.set('stopped', { err: errorMessage(err) });
    throw err;
  }
  lifecycle.set('running', { groupId, topics, handlers: [...resolved.handlers] });
  started = true;
  refresh();

  let stopping: Promise<void> | undefined;
  let ended!: () => void;
  const finished = new Promise<void>((resolve) => (ended = resolve));
  const deadline = new StopDeadline();
  const stop = (options: StopOptions = {}) => {
    deadline.arm(options.timeoutMs);
    return (stopping ??= (async () => {
      lifecycle.set('stopping');
      lifecycle.abort(); // cuts a retry backoff short
      // What finished so far is committed while the consumer still may (kafkajs drops commits once it stops).
      await unlessForced(latestCommitter?.flush() ?? Promise.resolve(), deadline);
      // Waits for the running batch, then leaves the group; a forced stop stops waiting.
      const left = await unlessForced(
        supervisor.stop().then(() => true),
        deadline,
      );
      if (!left) logger.warn('forced stop: the chunk in flight is abandoned uncommitted (consumed again)');
      pauses.clear();
      await unlessForced(producer.disconnect(), deadline);
      deadline.clear();
      untrack();
      ended();
      lifecycle.set('stopped', { ...stats });
    })());
  };
  // The caller's signal (stop() aborts the lifecycle's own: listening there would re-enter stop()).
  deps.signal?.addEventListener('abort', () => void stop(), { once: true });
  const handle: CollectorHandle = {
    stats,
    groupId,
    handlers: [...resolved.handlers],
    failed: supervisor.failed,
    ready: () => lifecycle.state === 'running',
    start: () => undefined,
    stop,
    finished,
  };
  const untrack = trackLoop(handle);
  return handle;
}
