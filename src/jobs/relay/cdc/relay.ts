import pg from 'pg';
import { Registry } from 'prom-client';
import type { Logger } from '../../../lib/log.js';
import { errorMessage } from '../../../lib/errors.js';
import { backoffDelay } from '../../../lib/backoff.js';
import { sleep } from '../../../lib/sleep.js';
import { sqlStateOf } from '../../../lib/db/errors.js';
import { pendingCount } from '../../../lib/outbox/outlook.js';
import { aggregateKey } from '../../../lib/outbox/chain.js';
import type { ClaimedEvent } from '../../../lib/outbox/claim.js';
import {
  checkWalLevel,
  dropDeadSlot,
  ensurePublication,
  ensureSlot,
  sendHeartbeat,
  SqlStateCdc,
  tryOwnSlotLock,
  unpublishedAggregates,
} from '../../../lib/outbox/cdc/slot.js';
import { createKafka } from '../../../lib/kafka/client.js';
import { Lifecycle } from '../../../lib/lifecycle.js';
import { StopDeadline, trackLoop, unlessForced, type Loop, type StopOptions } from '../../../lib/loop.js';
import type { BatchOutcome } from '../batch.js';
import { emptyStats, recordOutcome } from '../cycle.js';
import { anyDue } from '../idle.js';
import { createRelayMetrics, type RelayMetrics } from '../metrics.js';
import { RelayPipeline } from '../pipeline.js';
import { Publisher } from '../publisher.js';
import type { RelayDeps, RelaySummary } from '../relay.js';
import { sendBudget } from '../send-budget.js';
import { createCdcMetrics, type CdcMetrics } from './metrics.js';
import { CdcStream } from './stream.js';

const RETRY_BACKOFF = { baseMs: 500, maxMs: 10_000 };

/**
 * `relay run --mode cdc`: publishes outbox rows as PostgreSQL decodes them from the WAL (pgoutput,
 * a logical replication slot), no claim and no lease; CdcStream has the stream's guarantees.
 *
 * Ownership: one CDC relay per slot, by a session advisory lock on the slot's name held on a
 * connection of its own for as long as it streams. A second relay on the same slot is a standby: it
 * publishes nothing, and takes over when the owner's session ends (exit, crash, lost connection). It
 * is safe, not refused, because it is useful (a Deployment may run two for fail-over) and because the
 * lock is held across everything the owner does, including the polling below: two streams, or a
 * stream beside the owner's catch-up claim, could overtake each other.
 *
 * The polling claim (the lease mode's pipeline, chain rule) publishes what the stream cannot:
 * - rows committed before the slot existed: when this relay created the slot (first start, or after
 *   the slot was dropped or invalidated: the fallback), it drains every due row before it streams;
 * - rows the stream left to it (a Kafka rejection, rows behind it, `outbox retry`): swept whenever the
 *   stream has caught up (nothing received for a poll interval) and a due row is left.
 * A row both claimed and streamed is published twice, never out of order: each path sends an
 * aggregate's rows in order and only from its first unpublished one.
 */
export class CdcRelay implements Loop {
  readonly stats = emptyStats();
  readonly finished: Promise<void>;
  private ended!: () => void;
  private readonly deadline = new StopDeadline();
  private stopping?: Promise<RelaySummary>;
  private untrack = () => {};
  private readonly lifecycle: Lifecycle;
  private readonly logger: Logger;
  private readonly publisher: Publisher;
  private readonly metrics: RelayMetrics;
  private readonly cdcMetrics: CdcMetrics;
  private readonly sweeper: RelayPipeline;
  private readonly held = new Set<string>();
  private stream?: CdcStream;
  private loop?: Promise<void>;
  private lastSweep = 0;
  private streamed = false;
  private heartbeat?: NodeJS.Timeout;

  constructor(private readonly deps: RelayDeps) {
    const registry = deps.registry ?? new Registry();
    this.metrics = createRelayMetrics(registry, deps.pool);
    this.cdcMetrics = createCdcMetrics(registry, deps.pool, deps.options.cdc.slot);
    this.lifecycle = new Lifecycle('relay', deps.options.relayId, {
      logger: deps.logger,
      signal: deps.signal,
      gauge: this.metrics.state,
    });
    this.logger = this.lifecycle.logger;
    const budget = sendBudget(deps.options.leaseMs);
    this.publisher = new Publisher(
      createKafka(deps.config.kafka, this.logger, budget),
      this.logger,
      budget.retry,
      { legacyHeaders: deps.options.legacyHeaders },
    );
    this.sweeper = new RelayPipeline({
      db: deps.pool,
      publisher: this.publisher,
      options: { ...deps.options, mode: 'lease' },
      stats: this.stats,
      metrics: this.metrics,
      logger: this.logger,
      signal: this.lifecycle.signal,
    });
    this.finished = new Promise((resolve) => (this.ended = resolve));
  }

  get id(): string {
    return this.deps.options.relayId;
  }

  /** Fails with a ConfigError (exit 3) naming wal_level on a server that cannot decode logically. */
  async start(): Promise<void> {
    if (this.loop) return;
    await checkWalLevel(this.deps.pool);
    this.untrack = trackLoop(this);
    this.loop = this.run().finally(this.ended);
    this.lifecycle.set('running', { ...this.deps.options });
  }

  /** Ends the stream after the batch in flight is acknowledged and marked (graceful), or at the deadline. */
  stop(options: StopOptions = {}): Promise<RelaySummary> {
    this.lifecycle.set('stopping');
    this.lifecycle.abort();
    this.stream?.stop();
    this.deadline.arm(options.timeoutMs);
    return (this.stopping ??= this.shutdown());
  }

  private async shutdown(): Promise<RelaySummary> {
    await unlessForced(this.loop ?? Promise.resolve(), this.deadline);
    await unlessForced(this.publisher.reset(), this.deadline);
    const remaining = await unlessForced(
      pendingCount(this.deps.pool).catch(() => null),
      this.deadline,
    );
    this.deadline.clear();
    this.untrack();
    this.ended();
    this.lifecycle.set('stopped', { ...this.stats });
    return { relayId: this.id, ...this.stats, remaining: remaining ?? null };
  }

  private async run(): Promise<void> {
    const { signal } = this.lifecycle;
    let errors = 0;
    this.lifecycle.signal.addEventListener('abort', () => this.stream?.stop(), { once: true });
    while (!signal.aborted) {
      const owner = await this.own().catch((err: unknown) => {
        this.logger.warn({ err }, 'CDC relay: could not reach PostgreSQL to own the slot: retrying');
        return undefined;
      });
      if (owner) {
        try {
          await this.serve(owner);
          errors = 0;
        } catch (err) {
          if (signal.aborted) break;
          this.logger.warn({ err: errorMessage(err) }, 'CDC relay: stream failed: resuming from the slot');
          this.lifecycle.set('paused', { reason: 'stream failed' });
        } finally {
          await owner.end().catch(() => undefined);
        }
      }
      if (!signal.aborted) await sleep(backoffDelay(++errors, RETRY_BACKOFF), signal).catch(() => undefined);
    }
    this.lifecycle.set('stopping');
  }

  /**
   * A connection holding the slot's advisory lock, once we have it; undefined once stopped. While
   * another relay owns it this one waits (standby), polling the lock.
   */
  private async own(): Promise<pg.Client | undefined> {
    const { slot } = this.deps.options.cdc;
    const { signal } = this.lifecycle;
    let waiting = false;
    while (!signal.aborted) {
      const client = new pg.Client({ connectionString: this.deps.config.database.url });
      client.on('error', (err) => {
        this.logger.warn({ err }, 'CDC relay: the slot owner connection failed: stopping the stream');
        this.stream?.stop();
      });
      try {
        await client.connect();
        if (await tryOwnSlotLock(client, slot)) {
          this.cdcMetrics.standby.set(0);
          if (waiting) this.logger.info({ slot }, 'CDC relay: the slot is ours now: taking over');
          return client;
        }
      } catch (err) {
        await client.end().catch(() => undefined);
        throw err;
      }
      await client.end().catch(() => undefined);
      if (!waiting) {
        this.logger.info({ slot }, 'CDC relay: another relay owns the slot: standing by until it stops');
        this.lifecycle.set('paused', { reason: `standby: slot ${slot} owned by another relay` });
        this.cdcMetrics.standby.set(1);
        waiting = true;
      }
      await sleep(Math.max(1_000, this.deps.options.pollIntervalMs), signal).catch(() => undefined);
    }
    return undefined;
  }

  /** Streams (with the slot made if missing, caught up by polling first if it is new) until stopped or failed. */
  private async serve(owner: pg.Client): Promise<void> {
    const { pool, options } = this.deps;
    const { slot, publication } = options.cdc;
    const { signal } = this.lifecycle;
    await ensurePublication(pool, publication);
    while (!signal.aborted) {
      const { created, state } = await ensureSlot(pool, slot);
      if (state.walStatus === 'lost') {
        await this.slotLost(`replication slot ${slot} was invalidated (its WAL is gone)`);
        continue;
      }
      if (created) {
        // A slot this process streamed from is gone (dropped while we were disconnected): the fallback.
        if (this.streamed) await this.slotLost(`replication slot ${slot} was dropped`);
        else
          this.logger.info(
            { slot },
            'CDC relay: created the slot: publishing what came before it by the polling claim',
          );
        await this.sweep(true);
      }
      this.streamed = true;
      this.lifecycle.set('running', { slot, publication, from: state.confirmedLsn });
      const stream = new CdcStream(
        {
          connectionString: this.deps.config.database.url,
          slot,
          publication,
          batchSize: options.batchSize,
          publisher: this.publisher,
          db: pool,
          logger: this.logger,
          held: this.held,
          recordRejected: (events, outcome) => this.recordRejected(events, outcome),
          onPublished: (n, ms) => {
            this.stats.batches++;
            this.stats.published += n;
            this.metrics.published.inc(n);
            this.metrics.batchDuration.observe(ms / 1000);
          },
          onPause: (err) => {
            this.stats.pauses++;
            this.logger.warn({ err: errorMessage(err) }, 'Kafka unavailable: pausing the stream');
          },
        },
        state.confirmedLsn ?? '0/0',
      );
      this.stream = stream;
      this.cdcMetrics.lagSeconds.source = () => stream.lagSeconds();
      this.startHeartbeat();
      void owner; // held for as long as the stream runs: the lock is the slot's ownership
      try {
        if (signal.aborted) return;
        await stream.run(() => this.between(stream));
        return;
      } catch (err) {
        const code = sqlStateOf(err);
        if (code === SqlStateCdc.UNDEFINED_OBJECT || code === SqlStateCdc.NOT_IN_PREREQUISITE_STATE) {
          await this.slotLost(errorMessage(err));
          continue;
        }
        throw err;
      } finally {
        clearInterval(this.heartbeat);
        this.cdcMetrics.lagSeconds.source = undefined;
        this.stream = undefined;
      }
    }
  }

  /** The fallback: whatever the lost slot had not confirmed is unmarked, so the polling claim has it. */
  private async slotLost(reason: string): Promise<void> {
    this.cdcMetrics.slotLost.inc();
    this.logger.error(
      { slot: this.deps.options.cdc.slot, reason },
      'CDC relay: replication slot lost: publishing unmarked rows by the polling claim, then streaming from a new slot',
    );
    await dropDeadSlot(this.deps.pool, this.deps.options.cdc.slot).catch(() => false);
  }

  private startHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => {
      sendHeartbeat(this.deps.pool).catch((err: unknown) =>
        this.logger.warn({ err: errorMessage(err) }, 'CDC relay: heartbeat failed'),
      );
    }, this.deps.options.cdc.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Between batches, while the stream is idle: the sweep of rows left to the polling claim. */
  private async between(stream: CdcStream): Promise<void> {
    const { pollIntervalMs } = this.deps.options;
    if (Date.now() - this.lastSweep < pollIntervalMs || !stream.idle(pollIntervalMs)) return;
    this.lastSweep = Date.now();
    try {
      if (await anyDue(this.deps.pool)) await this.sweep(false);
      if (this.held.size > 0) await this.release();
    } catch (err) {
      this.logger.warn({ err: errorMessage(err) }, 'CDC relay: sweep failed: retrying later');
    }
  }

  /**
   * The lease mode's claim, until a claim comes back empty. `all`: before streaming from a new slot,
   * the rows committed before it; it retries while Kafka is unavailable (nothing may be streamed first).
   */
  private async sweep(all: boolean): Promise<void> {
    const { signal } = this.lifecycle;
    let outages = 0;
    let published = 0;
    try {
      while (!signal.aborted) {
        const result = await this.sweeper.step();
        if (result.unavailable !== undefined) {
          if (!all) return;
          this.stats.pauses++;
          await sleep(backoffDelay(++outages, RETRY_BACKOFF), signal).catch(() => undefined);
          continue;
        }
        published += result.claimed;
        if (result.claimed === 0 && !result.more) break;
      }
    } finally {
      await this.sweeper.finish();
    }
    if (published > 0)
      this.logger.info({ claimed: published }, 'CDC relay: published rows by the polling claim');
  }

  /** Aggregates held for the polling claim go back to the stream once it published all of their rows. */
  private async release(): Promise<void> {
    const keys = [...this.held];
    const aggregates = keys.map((key) => {
      const at = key.indexOf(':');
      return { type: key.slice(0, at), id: key.slice(at + 1) };
    });
    const still = new Set(
      (await unpublishedAggregates(this.deps.pool, aggregates)).map((a) =>
        aggregateKey({ aggregateType: a.type, aggregateId: a.id }),
      ),
    );
    for (const key of keys) if (!still.has(key)) this.held.delete(key);
  }

  private async recordRejected(events: ClaimedEvent[], outcome: BatchOutcome): Promise<void> {
    await recordOutcome(
      {
        db: this.deps.pool,
        publisher: this.publisher,
        options: this.deps.options,
        stats: this.stats,
        metrics: this.metrics,
        logger: this.logger,
        signal: this.lifecycle.signal,
      },
      events,
      { ...outcome, published: [], held: [] },
      { db: this.deps.pool, owner: null },
    );
  }
}
