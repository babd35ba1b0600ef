import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { runCli } from '../support/cli.js';
import { createTestContext, type TestContext } from '../support/context.js';

/** `payments status` and `payments recover`'s exit codes (the gateway itself: payments-*.test.ts). */
describe('payments status and recover: the command line', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ topics: false });
  });
  afterAll(() => ctx?.close());

  it('status counts payments by status and names the oldest unsettled one', async () => {
    const { rows } = await ctx.pool.query(
      `INSERT INTO orders (user_id, total_amount, version) VALUES ('s', 100, 1), ('s', 200, 1), ('s', 300, 1) RETURNING id`,
    );
    const [a, b, c] = rows.map((r) => r.id as number);
    await ctx.pool.query(
      `INSERT INTO payments (order_id, amount, status, created_at) VALUES
         ($1, 100, 'PENDING', now() - interval '10 minutes'), ($2, 200, 'SUCCEEDED', now()), ($3, 300, 'REQUESTED', now())`,
      [a, b, c],
    );
    const status = await runCli(['payments', 'status', '--json'], ctx.env);
    expect(status.code, status.stderr).toBe(0);
    expect(status.json.counts).toEqual({
      REQUESTED: 1,
      PENDING: 1,
      SUCCEEDED: 1,
      FAILED: 0,
      REFUND_REQUESTED: 0,
      REFUNDED: 0,
    });
    expect(status.json.oldestUnsettled).toMatchObject({ orderId: a, status: 'PENDING' });
    expect(status.json.oldestUnsettled.ageMs).toBeGreaterThanOrEqual(600_000);
  });

  it('recover: one run at a time (exit 5, nothing recorded), bad flags exit 2, PostgreSQL down exits 4', async () => {
    const holder: pg.PoolClient = await ctx.pool.connect();
    try {
      await holder.query(`SELECT pg_advisory_lock(hashtext('payments-recover'))`);
      const locked = await runCli(['payments', 'recover', '--json'], ctx.env);
      expect(locked.code, locked.stderr).toBe(5);
      const runs = await ctx.pool.query(
        `SELECT count(*)::int AS n FROM job_run WHERE job_name = 'payments-recover'`,
      );
      expect(runs.rows[0].n).toBe(0);
    } finally {
      await holder.query(`SELECT pg_advisory_unlock_all()`);
      holder.release();
    }
    for (const args of [
      ['--older-than', 'soon'],
      ['--limit', '0'],
    ]) {
      const bad = await runCli(['payments', 'recover', ...args], ctx.env);
      expect(bad.code, args.join(' ')).toBe(2);
    }
    const down = await runCli(['payments', 'recover'], {
      ...ctx.env,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
    });
    expect(down.code, down.stderr).toBe(4);
    expect(down.stderr).toMatch(/PostgreSQL/);
  });
});
