import { createEvent } from '../../lib/events/index.js';
import { writeOutbox } from '../../lib/outbox/write.js';
import { one, rows } from '../../lib/db/query.js';
import { CONFLICT_BACKOFF, withTransaction } from '../../lib/db/transaction.js';
import { errorKind } from '../../lib/error-kind.js';
import { retry } from '../../lib/retry.js';
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
 * Guarantees (README, HTTP API, "Views"): memory is one counter per viewed product, however long
 * PostgreSQL is away; a failed flush keeps its counts for the next tick; a flush whose connection died
 * around COMMIT is settled by looking its event ids up in the outbox before anything else is written,
 * so it is counted once, never twice or not at all. stop() keeps retrying for `shutdownRetryMs`.
 * A SIGKILL loses what is not committed yet: one interval of views, or everything counted since
 * PostgreSQL became unreachable.
 */
export class ViewBuffer {
  private counts = new Map<number, number>();
  private inDoubt: InDoubt | undefined;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private failures = 0;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly intervalMs = 1_000,
    private readonly shutdownRetryMs = 20_000, // under the pod's 30 s termination grace
  ) {}

  record(productId: number): void {
    this.counts.set(productId, (this.counts.get(productId) ?? 0) + 1);
  }

  /** Views counted but not known to be committed (buffered, or in a flush whose outcome is unknown). */
  get unflushed(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    for (const c of this.inDoubt?.counts.values() ?? []) n += c;
    return n;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush().catch(() => undefined), this.intervalMs);
    this.timer.unref();
  }

  /** Flushes what is buffered now; flushes never overlap. */
  flush(): Promise<void> {
    this.flushing = this.flushing.catch(() => undefined).then(() => this.flushOnce());
    return this.flushing;
  }

  /** Flushes what is left, retrying while PostgreSQL is unreachable for at most `shutdownRetryMs`. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    const deadline = Date.now() + this.shutdownRetryMs;
    const passes = (err: unknown) => ['unavailable', 'conflict'].includes(errorKind(err));
    try {
      await retry(() => this.flush(), {
        attempts: Infinity,
        deadline,
        backoff: STOP_BACKOFF,
        retryIf: passes,
      });
    } catch (err) {
      this.deps.logger.error(
        { err: (err as Error).message, views: this.unflushed },
        'views not flushed at shutdown; they are lost',
      );
      throw err;
    }
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
