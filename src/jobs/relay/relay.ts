import type pg from 'pg';
import { Registry } from 'prom-client';
import type { AppConfig } from '../../lib/config/config.js';
import type { Logger } from '../../lib/log.js';
import { CliError, ExitCode, UnavailableError, errorMessage } from '../../lib/errors.js';
import { backoffDelay } from '../../lib/backoff.js';
import { sleep } from '../../lib/sleep.js';
import { claimOutlook, pendingCount } from '../../lib/outbox/outlook.js';
import { releaseAllLeases } from '../../lib/outbox/claim-lease.js';
import { createKafka } from '../../lib/kafka/client.js';
import { Lifecycle } from '../../lib/lifecycle.js';
import { StopDeadline, trackLoop, unlessForced, type Loop, type StopOptions } from '../../lib/loop.js';
import { emptyStats, type RelayStats } from './cycle.js';
import { RelayPipeline, type StepResult } from './pipeline.js';
import { createRelayMetrics, type RelayMetrics } from './metrics.js';
import type { RelayOptions } from './options.js';
import { Publisher } from './publisher.js';
import { sendBudget } from './send-budget.js';
import { Wakeup } from './wakeup.js';
import { anyDue, checkIdle, IDLE_CHECK_MS, logIdle } from './idle.js';

export interface RelayDeps {
  config: AppConfig;
  pool: pg.Pool;
  /** The relay logs through a child of it (component, instance = relayId). */
  logger: Logger;
  options: RelayOptions;
  /** Aborting it stops the relay like stop() does (SIGTERM in `relay run`). */
  signal?: AbortSignal;
  /** Where the relay's metrics go; a private registry when absent. */
  registry?: Registry;
}

export interface RelaySummary extends RelayStats {
  relayId: string;
  /** PENDING rows left (not yet due, leased by another relay, or held behind a FAILED row); null if unknown. */
  remaining: number | null;
}

const OUTAGE_BACKOFF = { baseMs: 500, maxMs: 10_000 };

/**
 * The outbox relay (a Loop, lib/loop.ts). `start()` runs the loop until stop() or the signal; `drain()`
 * publishes what is due and returns (--once). A graceful stop never interrupts a batch: the in-flight
 * send finishes and is marked, so the relay leaves no lease behind. Once stop's `timeoutMs` has passed
 * (a second SIGTERM: 0) the stop is forced: the send in flight is abandoned and every row this relay
 * still leases goes back at once (releaseAllLeases; lock mode: the batch's transaction is closed), so
 * another relay publishes them without waiting out the lease. A crash leaves leases that expire.
 * Its producer uses its own Kafka client, built from `config.kafka` with timeouts and retries bounded
 * by the lease (send-budget.ts).
 */
export class Relay implements Loop {
  readonly stats = emptyStats();
  /** Resolves when the loop (or drain) has ended, however it ended. */
  readonly finished: Promise<void>;
  private ended!: () => void;
  private readonly deadline = new StopDeadline();
  private stopping?: Promise<RelaySummary>;
  private releasing?: Promise<void>;
  private untrack = () => {};
  private readonly lifecycle: Lifecycle;
  private readonly logger: Logger;
  private readonly publisher: Publisher;
  private readonly metrics: RelayMetrics;
  private readonly wakeup: Wakeup;
  private readonly pipeline: RelayPipeline;
  private loop?: Promise<void>;

  constructor(private readonly deps: RelayDeps) {
    this.metrics = createRelayMetrics(deps.registry ?? new Registry(), deps.pool);
    this.lifecycle = new Lifecycle('relay', deps.options.relayId, {
      logger: deps.logger,
      signal: deps.signal,
      gauge: this.metrics.state,
    });
    const { logger, signal } = this.lifecycle;
    this.logger = logger;
    // Its own Kafka client: timeouts and retries bounded by the lease, whatever the shared client uses.
    const budget = sendBudget(deps.options.leaseMs);
    this.publisher = new Publisher(createKafka(deps.config.kafka, logger, budget), logger, budget.retry, {
      legacyHeaders: deps.options.legacyHeaders,
    });
    this.wakeup = new Wakeup(deps.config.database.url, signal, logger);
    this.pipeline = new RelayPipeline({
      db: deps.pool,
      publisher: this.publisher,
      options: deps.options,
      stats: this.stats,
      metrics: this.metrics,
      logger,
      signal,
    });
    this.finished = new Promise((resolve) => (this.ended = resolve));
  }

  get id(): string {
    return this.deps.options.relayId;
  }

  async start(): Promise<void> {
    if (this.loop) return;
    this.untrack = trackLoop(this);
    await this.wakeup.start();
    this.loop = this.run().finally(this.ended);
    this.lifecycle.set('running', { ...this.deps.options });
  }

  /**
   * Stops claiming and lets the in-flight batch finish (graceful) until `timeoutMs`, then forces (see
   * the class comment); disconnects. Safe to call again: a later call can only bring the deadline
   * forward, and every call resolves with the same summary.
   */
  stop(options: StopOptions = {}): Promise<RelaySummary> {
    this.lifecycle.set('stopping');
    this.lifecycle.abort();
    this.deadline.arm(options.timeoutMs);
    return (this.stopping ??= this.shutdown());
  }

  private async shutdown(): Promise<RelaySummary> {
    await this.loop;
    await this.close();
    // Shutting down must not fail because PostgreSQL went away: the count is only informative.
    const counted = await unlessForced(
      this.summary().catch((err) => {
        this.logger.warn({ err }, 'could not count remaining rows');
        return undefined;
      }),
      this.deadline,
    );
    const summary = counted ?? { relayId: this.id, ...this.stats, remaining: null };
    this.deadline.clear();
    this.untrack();
    this.ended();
    this.lifecycle.set('stopped', { ...this.stats });
    return summary;
  }

  /**
   * Publishes every due row and returns; throws UnavailableError if Kafka cannot be reached.
   * An empty claim is not the end while rows are due that another relay's lease (or a concurrent
   * claim) keeps from us: it waits for them, and gives up with a CliError (exit 1) once nothing has
   * moved for the longest lease left plus a margin. Rows held behind a FAILED row or a retry backoff
   * are not due work: they do not keep it waiting.
   */
  drain(): Promise<RelaySummary> {
    const drained = this.drainLoop();
    // What stop() waits for, as for start()'s loop.
    this.loop = drained.then(
      () => undefined,
      () => undefined,
    );
    return drained;
  }

  private async drainLoop(): Promise<RelaySummary> {
    const { pool, options } = this.deps;
    const { logger } = this.lifecycle;
    this.lifecycle.set('running', { ...options, once: true });
    const margin = Math.max(5_000, 3 * options.pollIntervalMs);
    let deadline = 0;
    let movedAt = Date.now();
    let lastWaiting = Infinity;
    let lastLog = 0;
    let checkedAt = 0;
    this.untrack = trackLoop(this);
    try {
      // Woken by other relays' marks while it waits for rows they hold.
      await this.wakeup.start();
      while (!this.lifecycle.signal.aborted) {
        const result = await unlessForced(this.pipeline.step(), this.deadline);
        if (result === undefined) break; // forced stop: settle() gives the rows back
        if (result.unavailable !== undefined)
          throw new UnavailableError('Kafka', errorMessage(result.unavailable), result.unavailable);
        if (result.claimed > 0 || result.more) {
          lastWaiting = Infinity;
          checkedAt = Date.now();
          continue;
        }
        const due = await anyDue(pool);
        if (!due) break;
        // Woken by each mark of a relay draining ahead of us: count (O(pending)) at most once a second.
        if (Date.now() - checkedAt < 1_000) {
          await this.wakeup.wait(Math.min(options.pollIntervalMs, 1_000));
          continue;
        }
        checkedAt = Date.now();
        const outlook = await claimOutlook(pool);
        if (outlook.waiting === 0) continue;
        // Progress by anyone (our claims, or another relay draining) pushes the deadline back.
        if (outlook.waiting < lastWaiting) {
          movedAt = Date.now();
          deadline = movedAt + outlook.leaseLeftMs + margin;
        }
        lastWaiting = outlook.waiting;
        if (Date.now() > deadline)
          throw new CliError(
            `relay made no progress: ${outlook.waiting} rows due (${outlook.leased} leased by relays), ` +
              `and none claimable for ${Math.round((Date.now() - movedAt) / 1000)}s; nothing else is publishing them`,
            'NO_PROGRESS',
            ExitCode.FAILURE,
          );
        if (Date.now() - lastLog >= IDLE_CHECK_MS) {
          logIdle(logger, outlook);
          lastLog = Date.now();
        }
        await this.wakeup.wait(Math.min(options.pollIntervalMs, 1_000));
      }
      if (!this.deadline.forced) await unlessForced(this.pipeline.finish(), this.deadline);
      // Forced: the finally gives the rows back; counting what is left is not worth waiting for.
      if (this.deadline.forced) return { relayId: this.id, ...this.stats, remaining: null };
      return await this.summary();
    } finally {
      this.lifecycle.set('stopping');
      await this.settle();
      await this.close();
      this.deadline.clear();
      this.untrack();
      this.ended();
      this.lifecycle.set('stopped', { ...this.stats });
    }
  }

  private async run(): Promise<void> {
    const { options } = this.deps;
    const { logger, signal } = this.lifecycle;
    let outages = 0;
    let errors = 0;
    let lastIdleCheck = 0;
    while (!signal.aborted) {
      let result: StepResult | undefined;
      try {
        result = await unlessForced(this.pipeline.step(), this.deadline);
        if (result === undefined) break; // forced stop: settle() gives the rows back
        errors = 0;
      } catch (err) {
        logger.warn({ err }, 'relay cycle failed: retrying');
        this.lifecycle.set('paused', { reason: 'relay cycle failed' });
        await this.settle();
        await sleep(backoffDelay(++errors, OUTAGE_BACKOFF), signal);
        continue;
      }
      if (result.unavailable !== undefined) {
        this.stats.pauses++;
        const delay = backoffDelay(++outages, OUTAGE_BACKOFF);
        logger.warn(
          { err: errorMessage(result.unavailable), retryInMs: delay },
          'Kafka unavailable: pausing',
        );
        this.lifecycle.set('paused', { reason: 'Kafka unavailable' });
        await sleep(delay, signal);
        continue;
      }
      if (outages > 0) logger.info('Kafka reachable again: publishing');
      outages = 0;
      this.lifecycle.set('running');
      if (result.claimed === 0 && Date.now() - lastIdleCheck >= IDLE_CHECK_MS) {
        lastIdleCheck = Date.now();
        await checkIdle(this.deps.pool).then(
          (outlook) => logIdle(logger, outlook),
          (err: unknown) => logger.warn({ err }, 'could not check why nothing was claimable'),
        );
      }
      if (!result.more) await this.wakeup.wait(options.pollIntervalMs);
    }
    this.lifecycle.set('stopping');
    await this.settle();
  }

  /**
   * Graceful: finishes marks in flight and gives back a batch claimed ahead; if that fails, the leases
   * expire. Forced (now or while it waits): drops what the pipeline holds and releases every row
   * this relay still leases. Safe to call more than once.
   */
  private async settle(): Promise<void> {
    await unlessForced(
      this.pipeline.finish().catch((err) => this.logger.warn({ err }, 'could not settle the relay pipeline')),
      this.deadline,
    );
    if (this.deadline.forced) await (this.releasing ??= this.release());
  }

  private async release(): Promise<void> {
    try {
      await this.pipeline.drop();
      if (this.deps.options.mode === 'lock') {
        this.logger.warn('forced stop: send in flight abandoned, its transaction closed (rows unlocked)');
        return;
      }
      const released = await releaseAllLeases(this.deps.pool, this.id);
      this.stats.released += released;
      this.logger.warn({ released }, 'forced stop: send in flight abandoned, leased rows given back');
    } catch (err) {
      this.logger.error({ err }, 'forced stop: could not give the leased rows back; they wait out the lease');
    }
  }

  private async summary(): Promise<RelaySummary> {
    return { relayId: this.id, ...this.stats, remaining: await pendingCount(this.deps.pool) };
  }

  private async close(): Promise<void> {
    await this.wakeup.stop();
    // kafkajs's disconnect waits for the requests in flight: a forced stop does not.
    await unlessForced(this.publisher.reset(), this.deadline);
  }
}

/** Starts a relay loop in this process (relay run, dev, tests); await `stop()` to end it. */
export async function startRelay(deps: RelayDeps): Promise<Relay> {
  const relay = new Relay(deps);
  await relay.start();
  return relay;
}
