import type pg from 'pg';
import { isRetryableSqlError } from './errors.js';

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
 * Like withTransaction, retrying serialization failures and deadlocks a few times, and lost
 * connections too: only for work that is idempotent (the collector's event_handled claims), since a
 * COMMIT whose connection died may have landed. The view buffer settles such a flush itself.
 */
export async function withRetryingTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
  attempts = 5,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await withTransaction(pool, fn);
    } catch (err) {
      if (attempt >= attempts || !isRetryableSqlError(err)) throw err;
      await new Promise((r) => setTimeout(r, 5 * attempt + Math.random() * 20));
    }
  }
}

/**
 * Runs `fn` in one REPEATABLE READ, read-only transaction: every statement sees the same instant
 * (verify compares what is in flight and what is applied in one snapshot).
 */
export function withSnapshot<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withTransaction(pool, fn, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
}
