import { createEvent } from '../../lib/events/index.js';
import { writeOutbox } from '../../lib/outbox/write.js';
import { one, rows } from '../../lib/db/query.js';
import { CONFLICT_BACKOFF, withTransaction } from '../../lib/db/transaction.js';
import { errorKind } from '../../lib/error-kind.js';
import { retry } from '../../lib/retry.js';
import { backoffDelay } from '../../lib/backoff.js';
import { sleep } from '../../lib/sleep.js';
import { StopDeadline, trackLoop, unlessForced, type Loop, type StopOptions } from '../../lib/loop.js';
import type { ServiceDeps } from '../deps.js';
import { selectFlushCommitted, bumpViewedVersions, lockViewedProducts } from './sql.js';

/** A flush whose transaction lost its connection after writing: its COMMIT may or may not have landed. */
interface InDoubt {
  counts: Map<number, number>;
  eventIds: string[];
}

const CONFLICT_ATTEMPTS = 5;
/** Between flushes at shutdown while PostgreSQL does not answer. */
const STOP_BACKOFF = { baseMs: 200, maxMs: 2_000 } as const;

/**
 * Product views, counted in memory and flushed periodically as one ProductViewed event per product
 * (with the number of views) in one transaction. A read never waits on a database write.
 *
 * Guarantees (docs/api.md, "Guarantees"): memory is one counter per viewed product, however long
 * PostgreSQL is away; a failed flush keeps its counts for the next tick; a flush whose connection died
 * around COMMIT is settled by looking its event ids up in the outbox before anything else is written,
 * so it is counted once, never twice or not at all. stop() keeps retrying for `shutdownRetryMs`, or
 * until its `timeoutMs` forces it (a Loop, lib/loop.ts): then it stops waiting and reports (logs, and
 * rejects with) the views not known to be committed. A SIGKILL loses what is not committed yet: one
 * interval of views, or everything counted since PostgreSQL became unreachable.
 */
export class ViewBuffer implements Loop {
  /** Resolves once stopped (flushed, or what was left reported). */
  readonly finished: Promise<void>;
  private ended!: () => void;
  private readonly deadline = new StopDeadline();
  private stopping?: Promise<void>;
  private untrack = () => {};
  private counts = new Map<number, number>();
  /** The counts of the flush in flight, if any. */
  private writing: Map<number, number> | undefined;
  private inDoubt: InDoubt | undefined;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private failures = 0;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly intervalMs = 1_000,
    private readonly shutdownRetryMs = 20_000, // under the pod's 30 s termination grace
  ) {
    this.finished = new Promise((resolve) => (this.ended = resolve));
  }

  record(productId: number): void {
    this.counts.set(productId, (this.counts.get(productId) ?? 0) + 1);
  }

  /** Views counted but not known to be committed (buffered, in a flush in flight, or in one whose outcome is unknown). */
  get unflushed(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    for (const c of this.writing?.values() ?? []) n += c;
    for (const c of this.inDoubt?.counts.values() ?? []) n += c;
    return n;
  }

  start(): void {
    if (this.timer || this.stopping) return;
    this.untrack = trackLoop(this);
    this.timer = setInterval(() => void this.flush().catch(() => undefined), this.intervalMs);
    this.timer.unref();
  }

  /** Flushes what is buffered now; flushes never overlap. */
  flush(): Promise<void> {
    this.flushing = this.flushing.catch(() => undefined).then(() => this.flushOnce());
    return this.flushing;
  }

  /**
   * Flushes what is left, retrying while PostgreSQL is unreachable for at most `shutdownRetryMs`;
   * past `timeoutMs` (forced) it stops waiting (a stop forced from the start still makes one attempt).
   * Rejects when views are left unflushed (they are logged).
   */
  stop(options: StopOptions = {}): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.deadline.arm(options.timeoutMs);
    return (this.stopping ??= this.drain().finally(() => {
      this.deadline.clear();
      this.untrack();
      this.ended();
    }));
  }

  private async drain(): Promise<void> {
    const retryUntil = Date.now() + this.shutdownRetryMs;
    for (let attempt = 1; ; attempt++) {
      let failure: unknown;
      const flushed = this.flush().then(
        () => true,
        (err: unknown) => {
          failure = err;
          return false;
        },
      );
      // Forced before anything was tried (the first stop is a forced one): still one flush, awaited
      // (the caller bounds it: a shutdown waits 2 s); otherwise the deadline cuts it short.
      const done =
        attempt === 1 && this.deadline.forced ? await flushed : await unlessForced(flushed, this.deadline);
      if (done) return;
      if (done === undefined) return this.forced();
      // Only an outage or a conflict may pass by waiting; anything else is thrown at once.
      const passes = ['unavailable', 'conflict'].includes(errorKind(failure));
      const wait = Math.min(backoffDelay(attempt, STOP_BACKOFF), retryUntil - Date.now());
      if (!passes || wait <= 0) {
        this.deps.logger.error(
          { err: (failure as Error).message, views: this.unflushed },
          'views not flushed at shutdown; they are lost',
        );
        throw failure;
      }
      if (!(await sleep(wait, this.deadline.signal))) return this.forced();
    }
  }

  /** A forced stop: nothing more is tried; what is not known to be committed is reported. */
  private forced(): void {
    const views = this.unflushed;
    if (views === 0) return;
    this.deps.logger.error(
      { views, flushInFlight: this.writing !== undefined },
      'views not flushed at shutdown (forced stop): they are lost, unless the flush in flight commits',
    );
    throw new Error(`forced stop: ${views} views not flushed`);
  }

  private async flushOnce(): Promise<void> {
    try {
      await this.settleInDoubt();
      if (this.counts.size > 0) await this.write();
      if (this.failures > 0) this.deps.logger.info({ failures: this.failures }, 'view flush recovered');
      this.failures = 0;
    } catch (err) {
      // One warning per outage, not one per tick.
      if (this.failures++ === 0)
        this.deps.logger.warn(
          { err: (err as Error).message, views: this.unflushed },
          'view flush failed; counting on and retrying every interval',
        );
      throw err;
    }
  }

  /** An earlier flush lost its connection after writing: keep its counts only if it did not commit. */
  private async settleInDoubt(): Promise<void> {
    const doubt = this.inDoubt;
    if (!doubt) return;
    const found = await one<{ committed: boolean }>(this.deps.pool, selectFlushCommitted(doubt.eventIds));
    this.inDoubt = undefined;
    if (!found?.committed) this.putBack(doubt.counts);
  }

  private async write(): Promise<void> {
    const batch = this.counts;
    this.counts = new Map();
    this.writing = batch;
    try {
      await this.writeBatch(batch);
    } finally {
      this.writing = undefined;
    }
  }

  private async writeBatch(batch: Map<number, number>): Promise<void> {
    const ids = [...batch.keys()].sort((a, b) => a - b);
    let eventIds: string[] = [];
    const attempt = () => {
      eventIds = [];
      return withTransaction(this.deps.pool, async (client) => {
        await client.query(lockViewedProducts(ids));
        const bumped = await rows<{ id: number; version: number }>(client, bumpViewedVersions(ids));
        const events = bumped.map((p) =>
          createEvent('ProductViewed', p.id, p.version, { productId: p.id, count: batch.get(p.id)! }),
        );
        eventIds = events.map((e) => e.eventId);
        await writeOutbox(client, events, this.deps.config.kafka.topics);
      });
    };
    try {
      // A conflict (deadlock, serialization failure) rolled back for sure: retry the same batch at once.
      const conflict = (err: unknown) => errorKind(err) === 'conflict';
      await retry(attempt, { attempts: CONFLICT_ATTEMPTS, backoff: CONFLICT_BACKOFF, retryIf: conflict });
    } catch (err) {
      if (errorKind(err) === 'unavailable' && eventIds.length > 0) {
        // Not retried here: the next flush first finds out whether this one committed.
        this.inDoubt = { counts: batch, eventIds };
        throw err;
      }
      this.putBack(batch);
      throw err;
    }
  }

  private putBack(batch: Map<number, number>): void {
    for (const [id, n] of batch) this.counts.set(id, (this.counts.get(id) ?? 0) + n);
  }
}
