import { createEvent } from '../../../lib/events/index.js';
import { writeOutbox } from '../../../lib/outbox/write.js';
import { rows } from '../../../lib/db/query.js';
import { withRetryingTransaction } from '../../../lib/db/transaction.js';
import type { ServiceDeps } from '../deps.js';
import { bumpViewedVersions, lockViewedProducts } from './sql.js';

/**
 * Product views, counted in memory and flushed periodically as one ProductViewed event per product
 * (with the number of views) in one transaction. A read never waits on a database write.
 *
 * Guarantee: a clean shutdown flushes everything; a SIGKILL loses at most the views counted since the
 * last flush (one interval). A failed flush puts its counts back and is retried on the next tick.
 */
export class ViewBuffer {
  private counts = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: ServiceDeps,
    private readonly intervalMs = 1_000,
  ) {}

  record(productId: number): void {
    this.counts.set(productId, (this.counts.get(productId) ?? 0) + 1);
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

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async flushOnce(): Promise<void> {
    if (this.counts.size === 0) return;
    const batch = this.counts;
    this.counts = new Map();
    const ids = [...batch.keys()].sort((a, b) => a - b);
    try {
      await withRetryingTransaction(this.deps.pool, async (client) => {
        await client.query(lockViewedProducts(ids));
        const bumped = await rows<{ id: number; version: number }>(client, bumpViewedVersions(ids));
        const events = bumped.map((p) =>
          createEvent('ProductViewed', p.id, p.version, { productId: p.id, count: batch.get(p.id)! }),
        );
        await writeOutbox(client, events, this.deps.config.kafka.topics);
      });
    } catch (err) {
      for (const [id, n] of batch) this.counts.set(id, (this.counts.get(id) ?? 0) + n);
      this.deps.logger.warn(
        { err: (err as Error).message, products: ids.length },
        'view flush failed; will retry',
      );
      throw err;
    }
  }
}
