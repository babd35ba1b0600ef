import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createBenchContext, type BenchContext } from '../lib/context.js';
import { REPO_ROOT } from '../lib/child.js';
import { figure, target, timed, type Figure, type StageOptions, type StageResult } from '../lib/measure.js';

const run = promisify(execFile);
const RSS_PRELOAD = fileURLToPath(new URL('../lib/report-rss.mjs', import.meta.url));

/** Two ISO weeks in the past (Monday..Sunday), one per size, in the same database. */
const WEEKS = [
  { start: '2024-01-01', end: '2024-01-07' },
  { start: '2024-01-08', end: '2024-01-14' },
];

/**
 * Aggregate: `commerce aggregate --period weekly` (the built CLI, in a child process that reports its
 * own peak RSS) over a week of daily rows, at two sizes ten times apart, against the same GROUP BY
 * run by psql into /dev/null.
 */
export async function aggregateStage({ quick, log }: StageOptions): Promise<StageResult> {
  const sizes = quick ? [10_000, 100_000] : [100_000, 1_000_000];
  const ctx = await createBenchContext();
  try {
    const figures: Figure[] = [];
    const rss: number[] = [];
    const jobRatios: number[] = [];
    for (const [i, rows] of sizes.entries()) {
      const week = WEEKS[i]!;
      log(`aggregate: generating ${rows} daily rows`);
      await generateDailyRows(ctx, week, rows);
      log(`aggregate: psql baseline over ${rows} rows`);
      const bare = await timed(() => psqlGroupBy(ctx, week));
      log(`aggregate: job over ${rows} rows`);
      const job = await aggregateJob(ctx, week);
      rss.push(job.maxRssMiB);
      jobRatios.push(job.durationMs / bare.ms);
      const baseline = { name: 'same GROUP BY by psql', value: (rows * 1000) / bare.ms };
      figures.push(
        figure(
          'aggregate',
          `weekly ranking, ${rows} daily rows`,
          (rows * 1000) / job.durationMs,
          'rows/s',
          baseline,
        ),
        figure('aggregate', `peak RSS, ${rows} daily rows`, job.maxRssMiB, 'MiB'),
      );
    }
    return {
      figures,
      targets: [
        ...sizes.map((rows, i) =>
          target('aggregate', `job time / psql time <= 1.5 (${rows} rows)`, jobRatios[i]!, 'max', 1.5),
        ),
        target(
          'aggregate',
          `peak RSS at ${sizes[1]} rows / at ${sizes[0]} rows <= 1.2`,
          rss[1]! / rss[0]!,
          'max',
          1.2,
        ),
      ],
    };
  } finally {
    await ctx.close();
  }
}

/** `rows` daily rows over the week's 7 days: rows/7 products, each with metrics every day. Set-based. */
async function generateDailyRows(ctx: BenchContext, week: { start: string }, rows: number) {
  await ctx.pool.query(
    `INSERT INTO product_metrics_daily (metric_date, product_id, view_count, like_count, sales_count, sales_amount)
     SELECT $1::date + d, p, (p * 7 + d) % 1000, (p + d) % 50, (p * 3 + d) % 20, ((p * 3 + d) % 20) * 1500
       FROM generate_series(0, 6) d, generate_series(1, ceil($2::int / 7.0)::int) p`,
    [week.start, rows],
  );
  await ctx.pool.query('VACUUM ANALYZE product_metrics_daily');
}

/** The job's own GROUP BY, streamed by psql to /dev/null: what the database alone needs. */
async function psqlGroupBy(ctx: BenchContext, week: { start: string; end: string }) {
  const query =
    `SELECT product_id, sum(view_count)::bigint, sum(like_count)::bigint, sum(sales_count)::bigint, ` +
    `sum(sales_amount)::bigint FROM product_metrics_daily ` +
    `WHERE metric_date BETWEEN '${week.start}'::date AND '${week.end}'::date GROUP BY product_id`;
  await run('psql', [
    ctx.env.DATABASE_URL!,
    '-X',
    '-q',
    '-v',
    'ON_ERROR_STOP=1',
    '-c',
    `\\copy (${query}) TO '/dev/null'`,
  ]);
}

async function aggregateJob(ctx: BenchContext, week: { start: string }) {
  const { stdout, stderr } = await run(
    process.execPath,
    [
      '--import',
      RSS_PRELOAD,
      'bin/run.js',
      'aggregate',
      '--period',
      'weekly',
      '--date',
      week.start,
      '--json',
    ],
    { cwd: REPO_ROOT, env: { ...process.env, ...ctx.env }, maxBuffer: 64 * 1024 * 1024 },
  );
  const summary = JSON.parse(stdout) as { durationMs: number; rowsRead: number };
  const rssLine = stderr.split('\n').find((l) => l.includes('benchMaxRssKiB'));
  if (!rssLine) throw new Error('the aggregate child did not report its peak RSS');
  const { benchMaxRssKiB } = JSON.parse(rssLine) as { benchMaxRssKiB: number };
  return { durationMs: summary.durationMs, maxRssMiB: benchMaxRssKiB / 1024 };
}
