import { exec, rows, type Queryable } from '../db/query.js';
import { markAttemptFailed, markPublished, type RetryPolicy } from './sql/mark.js';
import type { OutboxStatus } from './sql/states.js';

export type { RetryPolicy } from './sql/mark.js';
export { OutboxStatus } from './sql/states.js';

/**
 * What became of claimed rows, one statement per batch. `owner` is the lease's holder (lease mode),
 * or null for rows held by the caller's own transaction (lock mode: `db` is that transaction).
 */

/** PUBLISHED, later rows of their aggregates unblocked; returns how many were ours to mark. */
export function markRowsPublished(db: Queryable, owner: string | null, ids: number[]): Promise<number> {
  return exec(db, markPublished(owner, ids));
}

export interface FailedAttempt {
  id: number;
  /** PENDING (retried after its backoff) or FAILED (its last attempt). */
  status: OutboxStatus;
  attemptCount: number;
}

/** One attempt used per row, backoff set, FAILED past the policy's last attempt; returns the rows that were ours. */
export function markAttemptsFailed(
  db: Queryable,
  owner: string | null,
  failures: Array<{ id: number; error: string }>,
  policy: RetryPolicy,
): Promise<FailedAttempt[]> {
  return rows<FailedAttempt>(db, markAttemptFailed(owner, failures, policy));
}
