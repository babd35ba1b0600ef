import type pg from 'pg';
import { rows, one } from '../db/query.js';
import { countByStatus, selectPendingSummary, selectRecentFailed } from './sql/status.js';

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

export async function outboxStatus(db: pg.Pool, failedLimit: number): Promise<OutboxStatus> {
  const counts: OutboxCounts = { pending: 0, published: 0, failed: 0 };
  for (const r of await rows<{ status: string; n: number }>(db, countByStatus())) {
    counts[r.status.toLowerCase() as keyof OutboxCounts] = r.n;
  }
  const pending = await one<{ oldest_age_ms: number | null; due_now: number; blocked: number }>(
    db,
    selectPendingSummary(),
  );
  return {
    counts,
    oldestPendingAgeMs: pending?.oldest_age_ms ?? null,
    dueNow: pending?.due_now ?? 0,
    blocked: pending?.blocked ?? 0,
    recentFailed: await rows<FailedOutboxRow>(db, selectRecentFailed(failedLimit)),
  };
}
