import type pg from 'pg';
import type { Queryable } from '../../lib/db/query.js';
import type { Logger } from '../../lib/log.js';
import type { ClaimedEvent } from '../../lib/outbox/claim.js';
import { releaseLeased } from '../../lib/outbox/claim-lease.js';
import { markAttemptsFailed, markRowsPublished, OutboxStatus } from '../../lib/outbox/mark.js';
import type { BatchOutcome, RenewLease } from './batch.js';
import type { RelayMetrics } from './metrics.js';
import type { RelayOptions } from './options.js';

/** Counters since the relay started. `lost` = rows whose lease another relay took before we sent or marked them. */
export interface RelayStats {
  batches: number;
  published: number;
  failed: number;
  retried: number;
  released: number;
  lost: number;
  pauses: number;
}

export function emptyStats(): RelayStats {
  return { batches: 0, published: 0, failed: 0, retried: 0, released: 0, lost: 0, pauses: 0 };
}

/** What the cycle needs of a publisher (Publisher in production; tests may wrap or replace it). */
export interface BatchPublisher {
  publish(events: ClaimedEvent[], renew: RenewLease): Promise<BatchOutcome>;
}

export interface CycleDeps {
  db: pg.Pool;
  publisher: BatchPublisher;
  options: RelayOptions;
  stats: RelayStats;
  metrics: RelayMetrics;
  logger: Logger;
  /** Once aborted, no further batch is claimed ahead. */
  signal: AbortSignal;
}

/**
 * Where marks go: the pool, fenced on the lease's owner (lease mode), or the batch's own transaction,
 * which holds the rows locked (lock mode: owner null, held rows need no statement to go back).
 */
export interface MarkTarget {
  db: Queryable;
  owner: string | null;
}

/** Marks in this order: published, then attempts (so held rows stay behind their failed row), then releases. */
export async function recordOutcome(
  deps: CycleDeps,
  events: ClaimedEvent[],
  outcome: BatchOutcome,
  { db, owner }: MarkTarget,
): Promise<void> {
  const { options, stats, metrics, logger } = deps;
  let marked = 0;
  if (outcome.published.length > 0) {
    const n = await markRowsPublished(db, owner, outcome.published);
    stats.published += n;
    metrics.published.inc(n);
    marked += n;
  }
  if (outcome.rejected.length > 0) {
    const updated = await markAttemptsFailed(db, owner, outcome.rejected, {
      maxAttempts: options.maxAttempts,
      baseBackoffMs: options.retryBackoffMs,
      maxBackoffMs: Math.max(options.maxBackoffMs, options.retryBackoffMs),
    });
    marked += updated.length;
    const byId = new Map(events.map((e) => [e.id, e]));
    const errors = new Map(outcome.rejected.map((r) => [r.id, r.error]));
    for (const row of updated) {
      const event = byId.get(row.id)!;
      const fields = {
        eventId: event.eventId,
        aggregate: `${event.aggregateType}:${event.aggregateId}`,
        attempts: row.attemptCount,
        error: errors.get(row.id),
      };
      if (row.status === OutboxStatus.FAILED) {
        stats.failed++;
        metrics.failed.inc();
        logger.error(
          fields,
          'event FAILED after its last attempt: later events of its aggregate wait until an operator retries it',
        );
      } else {
        stats.retried++;
        metrics.retried.inc();
        logger.warn(fields, 'event rejected by Kafka: will retry');
      }
    }
  }
  if (outcome.held.length > 0) {
    // Lock mode: rows not marked simply stay PENDING when the batch's transaction ends.
    const n = owner === null ? outcome.held.length : await releaseLeased(db, owner, outcome.held);
    stats.released += n;
    marked += n;
  }
  stats.batches++;
  const lost = events.length - marked;
  if (lost > 0) {
    stats.lost += lost;
    logger.warn(
      { rows: lost },
      'lease taken over by another relay before sending or marking: left to the new owner',
    );
  }
}
