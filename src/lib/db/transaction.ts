import type pg from 'pg';
import { classifyError } from '../error-kind.js';
import { retry } from '../retry.js';

/** Between attempts after a concurrent change: short, since the other transaction has finished. */
export const CONFLICT_BACKOFF = { baseMs: 20, maxMs: 80, jitter: 0.5 } as const;

/**
 * Runs `fn` in one transaction on one client; rolls back on any error. `begin` sets the transaction's
 * mode, e.g. withSnapshot's REPEATABLE READ READ ONLY.
 */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(begin);
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Like withTransaction, retrying a `conflict` (serialization failure, deadlock, lock not available) a
 * few times, and PostgreSQL `unavailable` too (a lost connection, a server restarting): only for work
 * that is idempotent (the collector's event_handled claims), since a COMMIT whose connection died may
 * have landed. The view buffer settles such a flush itself.
 */
export function withRetryingTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
  attempts = 5,
): Promise<T> {
  return retry(() => withTransaction(pool, fn), { attempts, backoff: CONFLICT_BACKOFF, retryIf: retriable });
}

function retriable(err: unknown): boolean {
  const { kind, service } = classifyError(err);
  return kind === 'conflict' || (kind === 'unavailable' && service === 'PostgreSQL');
}

/**
 * Runs `fn` in one REPEATABLE READ, read-only transaction: every statement sees the same instant
 * (verify compares what is in flight and what is applied in one snapshot).
 */
export function withSnapshot<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withTransaction(pool, fn, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
}
