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
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', (err) => logger?.warn({ err }, 'idle PostgreSQL client error'));
  return pool;
}

/**
 * A client held across other work (the session of an advisory lock). pg-pool stops listening for
 * errors on a checked-out client, so a backend that dies while it sits idle would crash the process
 * with an unhandled 'error' event; here the error is kept, the next query on the client reports it,
 * and the broken client is discarded on release instead of going back to the pool.
 */
export async function connectHeld(pool: pg.Pool): Promise<{ client: pg.PoolClient; release: () => void }> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken = err;
  };
  client.on('error', onError);
  return {
    client,
    release: () => {
      client.removeListener('error', onError);
      client.release(broken);
    },
  };
}
