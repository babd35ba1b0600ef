import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { runCli } from '../support/cli.js';

/** The migration files in the repository, counted here rather than trusted from the code under test. */
const MIGRATION_FILES = readdirSync(new URL('../../migrations/', import.meta.url)).filter((f) =>
  /^\d+_[\w-]+\.sql$/.test(f),
).length;

describe('commerce db migrate / db status', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ emptyDatabase: true, topics: false });
  });
  afterAll(() => ctx?.close());

  it('reports every migration pending on an empty database', async () => {
    const status = await runCli(['db', 'status', '--json'], ctx.env);
    expect(status.code).toBe(0);
    expect(status.json.upToDate).toBe(false);
    expect(status.json.migrations).toHaveLength(MIGRATION_FILES);
    expect(status.json.migrations.every((m: { status: string }) => m.status === 'pending')).toBe(true);
  });

  it('applies all migrations from two processes at once, exactly once', async () => {
    const [a, b] = await Promise.all([
      runCli(['db', 'migrate', '--json'], ctx.env),
      runCli(['db', 'migrate', '--json'], ctx.env),
    ]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const applied = a.json.applied.length + b.json.applied.length;
    const { rows } = await ctx.pool.query('SELECT count(*)::int AS n FROM schema_migrations');
    expect(applied).toBe(rows[0].n);
    expect(rows[0].n).toBe(MIGRATION_FILES);
  });

  it('is a no-op the second time and status says up to date', async () => {
    const again = await runCli(['db', 'migrate', '--json'], ctx.env);
    expect(again.code).toBe(0);
    expect(again.json.applied).toEqual([]);
    const status = await runCli(['db', 'status', '--json'], ctx.env);
    expect(status.json.upToDate).toBe(true);
    const human = await runCli(['db', 'status'], ctx.env);
    expect(human.stdout).toMatch(/outbox\s+│ applied/);
  });

  it('creates the tables the pipeline needs', async () => {
    const { rows } = await ctx.pool.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'`,
    );
    const names = rows.map((r) => r.name);
    for (const table of [
      'brands',
      'products',
      'likes',
      'orders',
      'order_items',
      'payments',
      'outbox_event',
      'event_inbox',
      'event_log',
      'product_metrics',
      'product_metrics_daily',
      'mv_product_rank_weekly',
      'mv_product_rank_monthly',
      'job_run',
    ]) {
      expect(names).toContain(table);
    }
  });

  it('enforces the constraints that keep data honest', async () => {
    const brand = await ctx.pool.query(`INSERT INTO brands (name) VALUES ('b') RETURNING id`);
    await expect(
      ctx.pool.query(`INSERT INTO products (brand_id, name, price, stock) VALUES ($1, 'p', 100, -1)`, [
        brand.rows[0].id,
      ]),
    ).rejects.toThrow(/check constraint/);
    await expect(
      ctx.pool.query(`INSERT INTO products (brand_id, name, price) VALUES (999999, 'p', 100)`),
    ).rejects.toThrow(/foreign key/);
  });
});

describe('configuration and connection errors', () => {
  it('a wrong DATABASE_URL gives a one-line error and exit code 4', async () => {
    const result = await runCli(['db', 'status'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' });
    expect(result.code).toBe(4);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^Error: PostgreSQL is unavailable/);
  });

  it('an invalid value fails fast naming the variable, exit code 3, JSON error with --json', async () => {
    const result = await runCli(['db', 'status', '--json'], { DATABASE_URL: 'mysql://x' });
    expect(result.code).toBe(3);
    expect(result.json.error).toMatchObject({ code: 'CONFIG', exitCode: 3 });
    expect(result.json.error.message).toMatch(/DATABASE_URL/);
  });

  it('an unknown flag is a usage error with exit code 2', async () => {
    const result = await runCli(['db', 'status', '--bogus'], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Nonexistent flag: --bogus/);
  });
});
