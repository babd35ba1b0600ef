import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { migrate } from '../../src/lib/db/migrations.js';
import { createTestContext, type TestContext } from './context.js';
import { withDatabase } from './services.js';

const SERVICES = fileURLToPath(new URL('../../scripts/services.sh', import.meta.url));

/**
 * A private PostgreSQL cluster with wal_level=logical (scripts/services.sh pg-up), for the CDC relay's
 * tests and bench: the machine's shared cluster stays at replica. `port` from the caller's range.
 */
export async function logicalCluster(port: number): Promise<{ url: string; down(): Promise<void> }> {
  const env = {
    ...process.env,
    SERVICES_DIR: `/tmp/cdc-${randomBytes(4).toString('hex')}`,
    PG_PORT: String(port),
    PG_DATABASE: 'commerce_cdc',
  };
  const run = async (command: 'pg-up' | 'pg-down') =>
    (await promisify(execFile)('bash', [SERVICES, command], { env, timeout: 120_000 })).stdout;
  const url = /DATABASE_URL=(\S+)/.exec(await run('pg-up'))![1]!;
  return {
    url,
    async down() {
      await run('pg-down').catch(() => undefined);
      await rm(env.SERVICES_DIR, { recursive: true, force: true });
    },
  };
}

/** A test context whose database is a new, migrated one on the private cluster (own topics, as usual). */
export async function cdcContext(clusterUrl: string): Promise<TestContext> {
  const database = `cdc_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: clusterUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${database}"`).finally(() => admin.end());
  const ctx = await createTestContext({ env: { DATABASE_URL: withDatabase(clusterUrl, database) } });
  await migrate(ctx.pool);
  return ctx;
}

/** The slot as pg_replication_slots shows it (undefined: no such slot). */
export async function slotRow(
  pool: pg.Pool,
  slot: string,
): Promise<
  { active: boolean; activePid: number | null; lagBytes: number; retainedBytes: number } | undefined
> {
  const { rows } = await pool.query(
    `SELECT active, active_pid AS "activePid",
            pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::float8 AS "lagBytes",
            pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::float8 AS "retainedBytes"
       FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  return rows[0];
}
