import pg from 'pg';
import type { Logger } from '../log.js';

// BIGINT (int8) and NUMERIC come back as strings by default; our ids and counters fit in a JS number
// (< 2^53), so parse them once here rather than at every call site.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));
// DATE stays a 'YYYY-MM-DD' string: turning it into a JS Date would shift it by the local time zone.
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);

export interface PoolOptions {
  url: string;
  poolMax: number;
  applicationName?: string;
}

export function createPool(options: PoolOptions, logger?: Logger): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    application_name: options.applicationName ?? 'commerce',
  });
  // One permanent listener on every client the pool creates, for its whole life. pg-pool listens only
  // while a client is idle and drops its listener at checkout, so a backend that dies under a checked-out
  // client (a transaction awaiting Kafka or Redis, a held lock session, a failover, pg_terminate_backend)
  // would emit an unhandled 'error' and kill the process. Here the error is only logged: the query in
  // flight fails with it (the caller rolls back or retries), the client is no longer queryable, and
  // pg-pool destroys a non-queryable client on release instead of reusing it.
  pool.on('connect', (client) => {
    client.on('error', (err) => logger?.warn({ err: err.message }, 'PostgreSQL connection lost'));
  });
  // Emitted with the idle client already removed from the pool; the next checkout opens a new one.
  pool.on('error', () => undefined);
  return pool;
}

export interface HeldClient {
  client: pg.PoolClient;
  /** The error that ended the session (and with it any session lock), if it ended. */
  lost(): Error | undefined;
  release(): void;
}

/**
 * A client held across other work (the session of an advisory lock). The pool's permanent listener
 * (createPool) keeps a dead backend from crashing the process; here the error is also kept, so the
 * holder can tell its session (and lock) is gone, and the broken client is discarded on release.
 */
export async function connectHeld(pool: pg.Pool): Promise<HeldClient> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken = err;
  };
  client.on('error', onError);
  return {
    client,
    lost: () => broken,
    release: () => {
      client.removeListener('error', onError);
      client.release(broken);
    },
  };
}

/**
 * Runs `fn` when `pool.end()` is called, before the pool's own clients close: for a helper that keeps
 * a connection of its own beside a pool (the outbox waker) and must not outlive it. pg-pool has no
 * end event, so end() is wrapped, once per pool.
 */
export function beforePoolEnd(pool: pg.Pool, fn: () => Promise<void>): void {
  const end = pool.end.bind(pool) as () => Promise<void>;
  pool.end = (async () => {
    await fn().catch(() => undefined);
    await end();
  }) as pg.Pool['end'];
}
