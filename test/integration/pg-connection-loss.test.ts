import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { waitForOutput } from '../support/cli.js';
import { runExclusiveJob } from '../../src/lib/db/job-runs.js';

const DIST = fileURLToPath(new URL('../../dist/lib/db/', import.meta.url));

/**
 * A process that holds pooled clients the way the commands do: one checked out and idle (a lock
 * session), one inside a transaction awaiting something else (Kafka, Redis). It prints their backend
 * pids, then waits for a line on stdin before touching them again.
 */
const CHILD = `
import { createPool, connectHeld } from ${JSON.stringify(DIST + 'pool.js')};
import { withTransaction } from ${JSON.stringify(DIST + 'transaction.js')};
const pool = createPool({ url: process.env.DATABASE_URL, poolMax: 4 });
const pidOf = async (c) => (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
const held = await connectHeld(pool);
const heldPid = await pidOf(held.client);
let go;
const gate = new Promise((r) => (go = r));
let txPid;
const tx = withTransaction(pool, async (c) => {
  txPid = await pidOf(c);
  await c.query('CREATE TEMP TABLE t (x int)');
  await gate;
  await c.query('INSERT INTO t VALUES (1)');
}).then(() => 'committed', (e) => 'failed: ' + e.message);
while (!txPid) await new Promise((r) => setTimeout(r, 10));
console.log('pids ' + JSON.stringify([heldPid, txPid]));
process.stdin.once('data', () => go());
console.log('tx ' + (await tx));
console.log('held ' + (await held.client.query('SELECT 1').then(() => 'ok', (e) => 'failed: ' + e.message)));
held.release();
const again = await pool.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ANY($1)', [[heldPid, txPid]]);
console.log('recovered ' + again.rows[0].n);
await pool.end();
`;

describe('a pooled client whose backend is terminated while checked out', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ topics: false });
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it('fails only the work in flight: no unhandled error, the process goes on with new connections', async () => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
      env: { ...process.env, DATABASE_URL: ctx.config.database.url },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));

    const line = await waitForOutput(child, /pids \[\d+,\d+\]/, 20_000);
    const pids = JSON.parse(line.slice('pids '.length)) as number[];
    const killed = await ctx.pool.query<{ ok: boolean }>(
      'SELECT pg_terminate_backend(pid) AS ok FROM unnest($1::int[]) AS pid',
      [pids],
    );
    expect(killed.rows.map((r) => r.ok)).toEqual([true, true]);
    // Both clients' 'error' events fire now, while checked out: without a listener the child dies here.
    await new Promise((r) => setTimeout(r, 500));
    expect(child.exitCode).toBeNull();
    child.stdin.end('go\n');

    expect(await exited).toBe(0);
    expect(out).toMatch(/tx failed: .*(terminat|not queryable)/);
    expect(out).toMatch(/held failed: /);
    expect(out).toContain('recovered 0'); // a new connection; the dead ones are gone
    expect(out).not.toMatch(/Unhandled|uncaught/i);
  }, 60_000);

  it('a batch job whose lock session dies mid-run ends FAILED (exit 4), not SUCCEEDED, and frees the lock', async () => {
    const job = 'pg-loss-job';
    const run = runExclusiveJob(ctx.pool, { name: job, lockKey: job }, {}, async () => {
      // The session holding this job's advisory lock, as an operator or a failover would end it.
      await ctx.pool.query(
        `SELECT pg_terminate_backend(pid) FROM pg_locks
          WHERE locktype = 'advisory' AND objid::int = hashtext($1) AND granted`,
        [job],
      );
      // The job keeps working after its lock session died (the fault): the run must still end FAILED.
      await new Promise((r) => setTimeout(r, 300));
      return 'done';
    });
    await expect(run).rejects.toMatchObject({ code: 'UNAVAILABLE', exitCode: 4 });
    await expect(run).rejects.toThrow(/lock's session was lost/);
    const { rows } = await ctx.pool.query(
      `SELECT status, error FROM job_run WHERE job_name = $1 ORDER BY id`,
      [job],
    );
    expect(rows).toMatchObject([
      { status: 'FAILED', error: expect.stringMatching(/lock's session was lost/) },
    ]);
    // The lock went with the session: the next run takes it.
    expect(
      (await runExclusiveJob(ctx.pool, { name: job, lockKey: job }, {}, async () => 'ok')).run.status,
    ).toBe('SUCCEEDED');
  });
});
