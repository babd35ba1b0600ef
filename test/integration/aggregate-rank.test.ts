import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { runCli } from '../support/cli.js';
import { insertDaily, storedRanking, withoutRun } from '../support/daily-metrics.js';
import { runAggregate } from '../../src/jobs/aggregate/aggregate.js';
import { createLogger } from '../../src/lib/log.js';
import { lastCompletePeriod } from '../../src/lib/time/periods.js';

// Default weights: view 0.1, like 0.2, order (units) 0.7.
describe('commerce aggregate: ranks', () => {
  let ctx: TestContext;
  /** Runs the real CLI with --json, expects success, returns the summary. */
  const aggregate = async (period: 'weekly' | 'monthly', date: string, extra: string[] = []) => {
    const result = await runCli(
      ['aggregate', '--period', period, '--date', date, '--json', ...extra],
      ctx.env,
    );
    expect(result.code, result.stderr).toBe(0);
    return result.json;
  };
  const ranks = (rows: { product_id: number; score: number }[]) => rows.map((r) => [r.product_id, r.score]);

  beforeAll(async () => {
    ctx = await createTestContext({ topics: false });
    await insertDaily(ctx.pool, [
      // ISO week 2020-W53: Monday 2020-12-28 .. Sunday 2021-01-03, across the year boundary.
      ['2020-12-27', 1, 1000, 0, 0, 0], // the Sunday before: not in the week
      ['2021-01-04', 2, 1000, 0, 0, 0], // the Monday after: not in the week
      ['2020-12-28', 1, 5, 0, 0, 0], // 0.5
      ['2020-12-28', 10, 10, 0, 0, 0],
      ['2021-01-03', 10, 0, 0, 2, 5000], // 1 + 1.4 = 2.4
      ['2020-12-31', 11, 0, 5, 0, 0],
      ['2021-01-01', 11, 0, 2, 0, 0],
      ['2021-01-02', 11, 3, 0, 0, 0], // 1.4 + 0.3 = 1.7
      ['2021-01-01', 12, 7, 0, 1, 300], // 0.7 + 0.7 = 1.4
      ['2021-01-02', 13, 0, 0, 2, 400], // 1.4: ties with 12, 12 ranks first
      ['2020-12-29', 14, 7, 0, 0, 0], // 0.7 (0.1 * 7 is 0.7000000000000001 in floating point)
      ['2020-12-30', 15, 0, 0, 1, 100], // 0.7: ties with 14
      ['2020-12-30', 16, 2, -3, 0, 0], // net likes negative: score -0.4, not ranked
      ['2020-12-30', 17, 0, 0, 0, 0], // score 0, not ranked
      // March 2021 (31 days): the 31st counts, February 28th and April 1st do not.
      ['2021-02-28', 21, 0, 0, 100, 0],
      ['2021-03-01', 21, 30, 0, 0, 0], // 3.0
      ['2021-03-31', 20, 0, 0, 3, 900], // 2.1
      ['2021-04-01', 20, 0, 0, 100, 0],
    ]);
    // Product 22: one view and 100 in sales on each of the 31 days: 3.1.
    await ctx.pool.query(
      `INSERT INTO product_metrics_daily (metric_date, product_id, view_count, sales_amount)
       SELECT d::date, 22, 1, 100 FROM generate_series('2021-03-01'::date, '2021-03-31', '1 day') AS d`,
    );
  });
  afterAll(() => ctx?.close());

  it('ranks an ISO week that spans the year boundary, ties by product id, positive scores only', async () => {
    const summary = await aggregate('weekly', '2021-01-01');
    expect(summary).toMatchObject({
      job: 'aggregate-weekly',
      label: '2020-W53',
      start: '2020-12-28',
      end: '2021-01-03',
      timezone: 'UTC',
      complete: true,
      rowsRead: 9,
      rowsWritten: 7,
    });
    const expected = [
      [10, 2.4],
      [11, 1.7],
      [12, 1.4],
      [13, 1.4],
      [14, 0.7],
      [15, 0.7],
      [1, 0.5],
    ];
    expect(summary.top10.map((r: { productId: number; score: number }) => [r.productId, r.score])).toEqual(
      expected,
    );
    const stored = await storedRanking(ctx.pool, 'mv_product_rank_weekly', '2020-12-28');
    expect(ranks(stored)).toEqual(expected);
    expect(stored.map((r) => r.rank)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(stored[0]).toMatchObject({
      period_end: '2021-01-03',
      view_count: 10,
      like_count: 0,
      sales_count: 2,
      sales_amount: 5000,
      job_run_id: summary.jobRunId,
    });
    expect(stored[1]).toMatchObject({ view_count: 3, like_count: 7, sales_count: 0 });
  });

  it('ranks a 31-day month: the 31st counts, the neighbouring months do not', async () => {
    expect(await aggregate('monthly', '2021-03-17')).toMatchObject({
      label: '2021-03',
      start: '2021-03-01',
      end: '2021-03-31',
      rowsRead: 3,
      rowsWritten: 3,
    });
    const stored = await storedRanking(ctx.pool, 'mv_product_rank_monthly', '2021-03-01');
    expect(ranks(stored)).toEqual([
      [22, 3.1],
      [21, 3],
      [20, 2.1],
    ]);
    expect(stored[0]).toMatchObject({ view_count: 31, sales_amount: 3100 });
    expect(stored[2]).toMatchObject({ sales_count: 3, sales_amount: 900 });
    // The weekly table is untouched by the monthly run.
    expect(await storedRanking(ctx.pool, 'mv_product_rank_weekly', '2021-03-01')).toEqual([]);
  });

  it('re-running a period gives identical rows, whatever the chunk size', async () => {
    const before = await storedRanking(ctx.pool, 'mv_product_rank_weekly', '2020-12-28');
    const again = await aggregate('weekly', '2020-12-28', ['--chunk-size', '2']);
    const after = await storedRanking(ctx.pool, 'mv_product_rank_weekly', '2020-12-28');
    expect(withoutRun(after)).toEqual(withoutRun(before));
    expect(after.every((r) => r.job_run_id === again.jobRunId)).toBe(true);
    expect(again.jobRunId).not.toBe(before[0]!.job_run_id);
  });

  it('--top keeps the best N and replaces the whole period (no rows left over)', async () => {
    const summary = await aggregate('weekly', '2021-01-03', ['--top', '3', '--chunk-size', '1']);
    expect(summary.rowsWritten).toBe(3);
    const stored = await storedRanking(ctx.pool, 'mv_product_rank_weekly', '2020-12-28');
    expect(ranks(stored)).toEqual([
      [10, 2.4],
      [11, 1.7],
      [12, 1.4],
    ]);
  });

  it('without --date, ranks the last complete period in TIMEZONE', async () => {
    const job = (now: Date) =>
      runAggregate({
        pool: ctx.pool,
        config: ctx.config,
        logger: createLogger('silent'),
        period: 'weekly',
        now,
      });
    const summary = await job(new Date('2021-01-04T00:30:00Z'));
    expect(summary).toMatchObject({ start: '2020-12-28', end: '2021-01-03', rowsWritten: 7, complete: true });

    const before = lastCompletePeriod('monthly', new Date(), 'UTC');
    const cli = await runCli(['aggregate', '--period', 'monthly', '--json'], ctx.env);
    const after = lastCompletePeriod('monthly', new Date(), 'UTC');
    expect(cli.code, cli.stderr).toBe(0);
    expect([before.start, after.start]).toContain(cli.json.start);
    expect(cli.json).toMatchObject({ complete: true, rowsRead: 0, rowsWritten: 0 });
  });

  it('prints a summary and the top 10 as a table for people', async () => {
    const result = await runCli(['aggregate', '--period', 'monthly', '--date', '2021-03-01'], ctx.env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/2021-03 \(2021-03-01\.\.2021-03-31, UTC\): 3 products read, 3 ranked/);
    expect(result.stdout).toMatch(/Top 10/);
    expect(result.stdout).toMatch(/│\s+1 │\s+22 │\s+3\.10 │/);
  });
});
