import type pg from 'pg';
import { CliError } from '../errors.js';
import { rows } from '../db/query.js';
import { withTransaction } from '../db/transaction.js';
import { lockEventsByIds, resetFailed } from './sql/retry.js';
import { OutboxStatus } from './sql/states.js';

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

/** `outbox retry`: the given FAILED rows (duplicates ignored), or every FAILED row when `ids` is null. */
export function retryFailed(pool: pg.Pool, ids: number[] | null): Promise<RetriedRow[]> {
  return ids ? retryFailedByIds(pool, [...new Set(ids)]) : retryAllFailed(pool);
}

/** Resets the given FAILED rows in one transaction; any id that is missing or not FAILED changes nothing. */
export async function retryFailedByIds(pool: pg.Pool, ids: number[]): Promise<RetriedRow[]> {
  return withTransaction(pool, async (client) => {
    const found = await rows<{ id: number; status: string }>(client, lockEventsByIds(ids));
    const status = new Map(found.map((r) => [r.id, r.status]));
    const refused = ids.filter((id) => status.get(id) !== OutboxStatus.FAILED);
    if (refused.length > 0) {
      const why = refused.map((id) => `${id} (${status.get(id) ?? 'no such row'})`).join(', ');
      throw new CliError(`only FAILED rows can be retried; nothing was changed: ${why}`, 'NOT_FAILED');
    }
    return sortById(await rows<RetriedRow>(client, resetFailed(ids)));
  });
}

export async function retryAllFailed(pool: pg.Pool): Promise<RetriedRow[]> {
  return sortById(await rows<RetriedRow>(pool, resetFailed(null)));
}

function sortById(rowsOut: RetriedRow[]): RetriedRow[] {
  return rowsOut.sort((a, b) => a.id - b.id);
}
