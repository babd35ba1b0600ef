import type pg from 'pg';
import { sql, rows, one } from '../db/query.js';

/** What `outbox status` shows: the relay's backlog and the rows it gave up on. */
export interface OutboxCounts {
  pending: number;
  published: number;
  failed: number;
}

export interface FailedOutboxRow {
  id: number;
  eventId: string;
  eventType: string;
  aggregate: string;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
}

export interface OutboxStatus {
  counts: OutboxCounts;
  /** Age of the oldest PENDING row in ms: how far the relay is behind (null when nothing is pending). */
  oldestPendingAgeMs: number | null;
  /** PENDING rows whose next attempt is due now (the rest wait for their retry backoff). */
  dueNow: number;
  /** PENDING rows held behind a FAILED row or a retry backoff of their aggregate (migration 008). */
  blocked: number;
  recentFailed: FailedOutboxRow[];
}

export const outboxStatusQueries = {
  counts: () =>
    sql('outbox.status.counts', `SELECT status, count(*)::bigint AS n FROM outbox_event GROUP BY status`),
  pending: () =>
    sql(
      'outbox.status.pending',
      `SELECT (extract(epoch FROM now() - min(created_at)) * 1000)::bigint AS oldest_age_ms,
              count(*) FILTER (WHERE next_attempt_at <= now())::bigint AS due_now,
              count(*) FILTER (WHERE blocked)::bigint AS blocked
         FROM outbox_event WHERE status = 'PENDING'`,
    ),
  recentFailed: (limit: number) =>
    sql(
      'outbox.status.recent_failed',
      `SELECT id, event_id AS "eventId", event_type AS "eventType",
              aggregate_type || ':' || aggregate_id AS aggregate, attempt_count AS attempts,
              last_error AS "lastError", created_at AS "createdAt"
         FROM outbox_event WHERE status = 'FAILED' ORDER BY id DESC LIMIT $1`,
      [limit],
    ),
};

export async function outboxStatus(db: pg.Pool, failedLimit: number): Promise<OutboxStatus> {
  const counts: OutboxCounts = { pending: 0, published: 0, failed: 0 };
  for (const r of await rows<{ status: string; n: number }>(db, outboxStatusQueries.counts())) {
    counts[r.status.toLowerCase() as keyof OutboxCounts] = r.n;
  }
  const pending = await one<{ oldest_age_ms: number | null; due_now: number; blocked: number }>(
    db,
    outboxStatusQueries.pending(),
  );
  return {
    counts,
    oldestPendingAgeMs: pending?.oldest_age_ms ?? null,
    dueNow: pending?.due_now ?? 0,
    blocked: pending?.blocked ?? 0,
    recentFailed: await rows<FailedOutboxRow>(db, outboxStatusQueries.recentFailed(failedLimit)),
  };
}
