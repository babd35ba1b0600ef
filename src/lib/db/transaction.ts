import type pg from 'pg';
import { classifyError } from '../error-kind.js';
import { retry } from '../retry.js';

/** Between attempts after a concurrent change: short, since the other transaction has finished. */
export const CONFLICT_BACKOFF = { baseMs: 20, maxMs: 80, jitter: 0.5 } as const;

/** The open transaction of a client checked out by withTransaction: its pool and what to run after COMMIT. */
interface OpenTransaction {
  pool: pg.Pool;
  afterCommit: Map<string, (pool: pg.Pool) => void>;
}

const open = new WeakMap<object, OpenTransaction>();

/**
 * Runs `fn(pool)` once the transaction `db` belongs to has committed (never on rollback); one
 * callback per `key` however often it is registered. Returns false when `db` is not a withTransaction
 * client (a pool: the statement has already committed; the caller decides). A callback that throws
 * is ignored: its transaction has committed.
 */
export function afterCommit(db: object, key: string, fn: (pool: pg.Pool) => void): boolean {
  const tx = open.get(db);
  if (!tx) return false;
  if (!tx.afterCommit.has(key)) tx.afterCommit.set(key, fn);
  return true;
}

/**
 * Runs `fn` in one transaction on one client; rolls back on any error. `begin` sets the transaction's
 * mode, e.g. withSnapshot's REPEATABLE READ READ ONLY. afterCommit callbacks run once COMMIT returned.
 */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  const client = await pool.connect();
  const tx: OpenTransaction = { pool, afterCommit: new Map() };
  let result: T;
  try {
    await client.query(begin);
    open.set(client, tx);
    result = await fn(client);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    open.delete(client);
    client.release();
  }
  // Committed: whatever a callback does, the caller's work succeeded.
  for (const callback of tx.afterCommit.values()) {
    try {
      callback(pool);
    } catch {
      // A hint (the outbox wake-up) that failed: its owner's fallback (relays poll) covers it.
    }
  }
  return result;
}

/**
 * Like withTransaction, retrying a `conflict` (serialization failure, deadlock, lock not available) a
 * few times, and PostgreSQL `unavailable` too (a lost connection, a server restarting): only for work
 * that is idempotent (the collector's event_inbox claims), since a COMMIT whose connection died may
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
