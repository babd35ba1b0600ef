import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { runCli } from '../support/cli.js';
import { eventually } from '../support/wait.js';
import { storedRanking, withoutRun, type RankRow } from '../support/daily-metrics.js';
import { runAggregate, type AggregateOptions } from '../../src/jobs/aggregate/aggregate.js';
import { createLogger } from '../../src/lib/log.js';
import type { JobRunRow } from '../../src/lib/db/job-runs.js';

const WEEK = '2024-05-13'; // Monday; the week runs to 2024-05-19
const weekly = (extra: string[] = []) => [
  'aggregate',
  '--period',
  'weekly',
  '--date',
  WEEK,
  '--json',
  ...extra,
];

describe('commerce aggregate: failures, locking, history', () => {
  let ctx: TestContext;
  let baseline: RankRow[];

  const job = (extra: Partial<AggregateOptions> = {}) =>
    runAggregate({
      pool: ctx.pool,
      config: ctx.config,
      logger: createLogger('silent'),
      period: 'weekly',
      date: WEEK,
      ...extra,
    });
  const latestRun = async (jobName = 'aggregate-weekly') =>
    (await ctx.pool.query(`SELECT * FROM job_run WHERE job_name = $1 ORDER BY id DESC LIMIT 1`, [jobName]))
      .rows[0];
  const runCount = async () => (await ctx.pool.query(`SELECT count(*)::int AS n FROM job_run`)).rows[0].n;
  const ranking = () => storedRanking(ctx.pool, 'mv_product_rank_weekly', WEEK);

  beforeAll(async () => {
    ctx = await createTestContext({ topics: false });
    // 50 products on each day of the week: product p gets p views a day, so p = 50 ranks first.
    await ctx.pool.query(
      `INSERT INTO product_metrics_daily (metric_date, product_id, view_count)
       SELECT d::date, p, p FROM generate_series('2024-05-13'::date, '2024-05-19', '1 day') AS d,
                                 generate_series(1, 50) AS p`,
    );
    const first = await runCli(weekly(), ctx.env);
    expect(first.code, first.stderr).toBe(0);
    baseline = await ranking();
    expect(baseline.map((r) => r.product_id).slice(0, 3)).toEqual([50, 49, 48]);
    // From now on a successful run would rank differently: product 1 would come first.
    await ctx.pool.query(`UPDATE product_metrics_daily SET view_count = 1000 WHERE product_id = 1`);
  });
  afterAll(() => ctx?.close());

  it('a run that fails while reading leaves the previous ranking and records FAILED', async () => {
    // The failure comes from the progress callback, after the second chunk has been read.
    const failAfter10 = (rowsRead: number) => {
      if (rowsRead >= 10) throw new Error(`injected failure after ${rowsRead} rows read`);
    };
    await expect(job({ chunkSize: 5, onProgress: failAfter10 })).rejects.toThrow(
      /injected failure after 10 rows/,
    );
    expect(await ranking()).toEqual(baseline);
    expect(await latestRun()).toMatchObject({
      status: 'FAILED',
      rows_read: 10,
      rows_written: 0,
      error: 'injected failure after 10 rows read',
    });
  });

  it('a run that fails while writing rolls back entirely: exit 1, FAILED, previous ranking intact', async () => {
    // A real failure halfway through the write transaction: the DELETE has run, the INSERT fails.
    await ctx.pool.query(`
      CREATE FUNCTION refuse_rank() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN RAISE EXCEPTION 'disk full (simulated)'; END $$;
      CREATE TRIGGER refuse_rank BEFORE INSERT ON mv_product_rank_weekly
        FOR EACH ROW EXECUTE FUNCTION refuse_rank();`);
    try {
      const result = await runCli(weekly(), ctx.env);
      expect(result.code).toBe(1);
      expect(result.json.error.message).toMatch(/disk full \(simulated\)/);
      expect(await ranking()).toEqual(baseline);
      expect(await latestRun()).toMatchObject({
        status: 'FAILED',
        rows_read: 50,
        error: expect.stringMatching(/disk full/),
      });
    } finally {
      await ctx.pool.query(`DROP TRIGGER refuse_rank ON mv_product_rank_weekly; DROP FUNCTION refuse_rank()`);
    }
  });

  it('an interrupted run (SIGTERM) writes nothing and records FAILED "interrupted"', async () => {
    const abort = new AbortController();
    const run = job({ chunkSize: 5, signal: abort.signal, onProgress: () => abort.abort('SIGTERM') });
    await expect(run).rejects.toMatchObject({ code: 'INTERRUPTED', exitCode: 1 });
    expect(await ranking()).toEqual(baseline);
    const recorded = await latestRun();
    expect(recorded).toMatchObject({ status: 'FAILED', rows_read: 5 });
    expect(recorded.error).toMatch(/^interrupted \(SIGTERM\)/);
  });

  it('refuses a second concurrent run of the same period kind with exit 5; the other kind may run', async () => {
    // Hold the daily table so the first run blocks mid-read, holding its lock and a RUNNING job_run.
    const blocker = new pg.Client({ connectionString: ctx.env.DATABASE_URL });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE product_metrics_daily IN ACCESS EXCLUSIVE MODE');
      const first = job();
      await eventually(async () => (await latestRun())?.status === 'RUNNING');
      const before = await runCount();

      const second = await runCli(weekly(), ctx.env);
      expect(second.code).toBe(5);
      expect(second.json.error).toMatchObject({ code: 'LOCKED', exitCode: 5 });
      expect(second.json.error.message).toMatch(/another aggregate-weekly run holds the lock/);
      const human = await runCli(['aggregate', '--period', 'weekly', '--date', WEEK], ctx.env);
      expect(human.code).toBe(5);
      expect(human.stderr).toMatch(/^Error: another aggregate-weekly run holds the lock/);
      expect(await runCount()).toBe(before); // refused runs record nothing and write nothing
      expect(await ranking()).toEqual(baseline);

      // The monthly job has its own lock: it is not refused (it waits for the table like the first run).
      const monthly = runCli(['aggregate', '--period', 'monthly', '--date', WEEK, '--json'], ctx.env);
      await eventually(async () => (await latestRun('aggregate-monthly'))?.status === 'RUNNING');
      await blocker.query('ROLLBACK');
      const summary = await first;
      expect((await monthly).code).toBe(0);
      expect(summary.top10[0]).toMatchObject({ productId: 1, views: 7000 });
    } finally {
      await blocker.end();
    }
  });

  it('history lists recent runs newest first, with status, rows and error; --job filters', async () => {
    const all = await runCli(['aggregate', 'history', '--json'], ctx.env);
    expect(all.code, all.stderr).toBe(0);
    const runs = all.json.runs as JobRunRow[];
    expect(runs.map((r) => r.id)).toEqual([...runs.map((r) => r.id)].sort((a, b) => b - a));
    expect(runs[0]).toMatchObject({ job_name: 'aggregate-monthly', status: 'SUCCEEDED' });
    expect(runs.map((r) => r.status)).toEqual([
      'SUCCEEDED',
      'SUCCEEDED',
      'FAILED',
      'FAILED',
      'FAILED',
      'SUCCEEDED',
    ]);
    expect(runs[1]).toMatchObject({ job_name: 'aggregate-weekly', rows_read: 50, rows_written: 50 });
    expect(runs[1]!.params).toMatchObject({ start: WEEK, end: '2024-05-19', top: 100, chunkSize: 10000 });

    const weeklyOnly = await runCli(
      ['aggregate', 'history', '--job', 'aggregate-weekly', '--limit', '2', '--json'],
      ctx.env,
    );
    expect(weeklyOnly.json.runs.map((r: { job_name: string }) => r.job_name)).toEqual([
      'aggregate-weekly',
      'aggregate-weekly',
    ]);

    const human = await runCli(['aggregate', 'history'], ctx.env);
    expect(human.stdout).toMatch(
      /aggregate-weekly\s+│ 2024-05-13\.\.2024-05-19 │ FAILED .*disk full \(simulated\)/,
    );
  });

  it.each([
    [['--period', 'yearly'], /Expected --period=yearly to be one of: weekly, monthly/],
    [[], /Missing required flag period/],
    [['--period', 'weekly', '--date', '2024-02-30'], /--date: "2024-02-30" is not a date/],
    [['--period', 'weekly', '--date', '13/05/2024'], /--date: "13\/05\/2024" is not a date/],
    [['--period', 'monthly', '--date', '2999-01-01'], /has not started/],
    [['--period', 'weekly', '--top', '0'], /top/],
    [['--period', 'weekly', '--top', '10001'], /top/],
    [['--period', 'weekly', '--chunk-size', 'abc'], /chunk-size/],
    [['history', '--limit', '0'], /limit/],
  ])('bad flags %j: exit 2, nothing run or changed', async (flags, message) => {
    const before = await runCount();
    const result = await runCli(['aggregate', ...flags], ctx.env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(await runCount()).toBe(before);
    expect(withoutRun(await ranking())).toHaveLength(50);
  });
  it('a run left RUNNING by a killed process is closed as FAILED by the next run of that job', async () => {
    const dead = await ctx.pool.query(
      `INSERT INTO job_run (job_name, status, started_at) VALUES ('aggregate-weekly', 'RUNNING', now() - interval '1 hour') RETURNING id`,
    );
    const other = await ctx.pool.query(
      `INSERT INTO job_run (job_name, status) VALUES ('aggregate-monthly', 'RUNNING') RETURNING id`,
    );
    await job();
    const { rows } = await ctx.pool.query(
      `SELECT id, status, error FROM job_run WHERE id = ANY($1::bigint[])`,
      [[dead.rows[0].id, other.rows[0].id]],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(dead.rows[0].id)).toMatchObject({
      status: 'FAILED',
      error: expect.stringMatching(/abandoned/),
    });
    // Another job's run is not this job's to close (its own lock may be held right now).
    expect(byId.get(other.rows[0].id)).toMatchObject({ status: 'RUNNING' });
    await ctx.pool.query(`DELETE FROM job_run WHERE id = $1`, [other.rows[0].id]);
  });
});
