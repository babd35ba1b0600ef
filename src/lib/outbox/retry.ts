import type pg from 'pg';
import { CliError } from '../errors.js';
import { sql, rows } from '../db/query.js';
import { withTransaction } from '../db/transaction.js';

/**
 * `outbox retry`: FAILED rows go back to PENDING as if new (attempts 0, due now, no lease). The error
 * that made them fail is cleared from the row, so a later failure is not confused with the old one,
 * and returned to the caller, which prints it: the operator sees what is being retried and why.
 */
export interface RetriedRow {
  id: number;
  eventType: string;
  attempts: number;
  lastError: string | null;
}

export const outboxRetryQueries = {
  /** The requested rows, locked, with their status: the caller refuses ids that are not FAILED. */
  lockByIds: (ids: number[]) =>
    sql(
      'outbox.retry.lock_by_ids',
      `SELECT id, status FROM outbox_event WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE`,
      [ids],
    ),
  /** Resets FAILED rows: the listed ids, or every FAILED row when ids is null. */
  reset: (ids: number[] | null) =>
    sql(
      'outbox.retry.reset',
      `WITH target AS (
         SELECT id, attempt_count, last_error FROM outbox_event
          WHERE status = 'FAILED' AND ($1::bigint[] IS NULL OR id = ANY($1::bigint[]))
          ORDER BY id FOR UPDATE
       ), reset AS (
         UPDATE outbox_event o
            SET status = 'PENDING', attempt_count = 0, next_attempt_at = now(),
                locked_by = NULL, locked_until = NULL, last_error = NULL, blocked = false
           FROM target
          WHERE o.id = target.id
        RETURNING o.id, o.aggregate_type, o.aggregate_id, o.event_type AS "eventType",
                  target.attempt_count AS attempts, target.last_error AS "lastError"
       ), unblocked AS (
         -- Later rows the claim flagged blocked behind these rows rejoin its walk (migration 008).
         UPDATE outbox_event b SET blocked = false
           FROM (SELECT DISTINCT aggregate_type, aggregate_id FROM reset) r
          WHERE b.aggregate_type = r.aggregate_type AND b.aggregate_id = r.aggregate_id AND b.blocked
       )
       SELECT id, "eventType", attempts, "lastError" FROM reset`,
      [ids],
    ),
};

/** Resets the given FAILED rows in one transaction; any id that is missing or not FAILED changes nothing. */
export async function retryFailedByIds(pool: pg.Pool, ids: number[]): Promise<RetriedRow[]> {
  return withTransaction(pool, async (client) => {
    const found = await rows<{ id: number; status: string }>(client, outboxRetryQueries.lockByIds(ids));
    const status = new Map(found.map((r) => [r.id, r.status]));
    const refused = ids.filter((id) => status.get(id) !== 'FAILED');
    if (refused.length > 0) {
      const why = refused.map((id) => `${id} (${status.get(id) ?? 'no such row'})`).join(', ');
      throw new CliError(`only FAILED rows can be retried; nothing was changed: ${why}`, 'NOT_FAILED');
    }
    return sortById(await rows<RetriedRow>(client, outboxRetryQueries.reset(ids)));
  });
}

export async function retryAllFailed(pool: pg.Pool): Promise<RetriedRow[]> {
  return sortById(await rows<RetriedRow>(pool, outboxRetryQueries.reset(null)));
}

function sortById(rowsOut: RetriedRow[]): RetriedRow[] {
  return rowsOut.sort((a, b) => a.id - b.id);
}
