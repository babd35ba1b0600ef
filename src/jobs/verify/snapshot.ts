import type pg from 'pg';

/**
 * Runs `fn` in one REPEATABLE READ, read-only transaction: every statement sees the same instant, so
 * what is in flight and what is compared agree. A client whose work failed is discarded, not reused.
 */
export async function withSnapshot<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let failed: Error | undefined;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    failed = err as Error;
    throw err;
  } finally {
    client.release(failed);
  }
}
