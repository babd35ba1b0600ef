import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { runCli } from '../support/cli.js';
import { createEvent } from '../../src/lib/events/index.js';
import { applyRankingIncrements, rankingIncrements } from '../../src/lib/ranking/live-ranking.js';

describe('live ranking', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ topics: false });
  });
  afterAll(() => ctx?.close());

  it('a replayed event is a no-op thanks to its mark, and the key gets the two-day TTL', async () => {
    const weights = ctx.config.ranking;
    const viewed = createEvent(
      'ProductViewed',
      8,
      1,
      { productId: 8, count: 10 },
      new Date('2024-07-01T08:00:00Z'),
    );
    const liked = createEvent(
      'LikeChanged',
      8,
      2,
      { productId: 8, userId: 'u', liked: true, likeCount: 1 },
      new Date('2024-07-01T08:00:00Z'),
    );
    const incs = [viewed, liked].flatMap((e) => rankingIncrements(e, weights, 'UTC'));
    expect(await applyRankingIncrements(ctx.redis, incs)).toBe(2);
    expect(await applyRankingIncrements(ctx.redis, incs)).toBe(0);
    expect(await applyRankingIncrements(ctx.redis, incs.slice(1))).toBe(0);
    expect(Number(await ctx.redis.zscore('ranking:all:20240701', '8'))).toBeCloseTo(10 * 0.1 + 0.2, 9);
    const ttl = await ctx.redis.ttl('ranking:all:20240701');
    expect(ttl).toBeGreaterThan(2 * 24 * 3600 - 60);
    expect(ttl).toBeLessThanOrEqual(2 * 24 * 3600);
  });

  it('carry-over seeds the next day once: running it twice equals running it once', async () => {
    await ctx.redis.zadd('ranking:all:20240801', 10, '1', 5, '2');
    await ctx.redis.zadd('ranking:all:20240802', 3, '2');
    const first = await runCli(
      ['ranking', 'carry-over', '--date', '2024-08-01', '--weight', '0.1', '--json'],
      ctx.env,
    );
    expect(first.code).toBe(0);
    expect(first.json).toMatchObject({ from: '2024-08-01', to: '2024-08-02', carried: true, members: 2 });
    const once = await ctx.redis.zrange('ranking:all:20240802', 0, -1, 'WITHSCORES');
    expect(once[0]).toBe('1');
    expect(Number(once[1])).toBeCloseTo(1, 9);
    expect(once[2]).toBe('2');
    expect(Number(once[3])).toBeCloseTo(3.5, 9);
    expect(await ctx.redis.ttl('ranking:all:20240802')).toBeGreaterThan(24 * 3600);

    const second = await runCli(
      ['ranking', 'carry-over', '--date', '2024-08-01', '--weight', '0.1', '--json'],
      ctx.env,
    );
    expect(second.code).toBe(0);
    expect(second.json).toMatchObject({ carried: false, members: 2 });
    // A batch job like the others: each run recorded in job_run, with what it wrote.
    const runs = await ctx.pool.query(
      `SELECT id, status, rows_written::int AS rows_written FROM job_run WHERE job_name = 'ranking-carry-over' ORDER BY id`,
    );
    expect(runs.rows).toEqual([
      { id: (first.json as { jobRunId: number }).jobRunId, status: 'SUCCEEDED', rows_written: 2 },
      { id: (second.json as { jobRunId: number }).jobRunId, status: 'SUCCEEDED', rows_written: 0 },
    ]);
    expect(await ctx.redis.zrange('ranking:all:20240802', 0, -1, 'WITHSCORES')).toEqual(once);
  });

  it('carry-over refuses a bad date or weight and changes nothing', async () => {
    const badDate = await runCli(['ranking', 'carry-over', '--date', '2024-02-30'], ctx.env);
    expect(badDate.code).toBe(2);
    expect(badDate.stderr).toMatch(/--date/);
    const badWeight = await runCli(['ranking', 'carry-over', '--weight', '2'], ctx.env);
    expect(badWeight.code).toBe(2);
    expect(await ctx.redis.exists('ranking:carried:20240301')).toBe(0);
  });

  it('carry-over exits 4 with a one-line error when Redis is unreachable', async () => {
    const down = await runCli(['ranking', 'carry-over', '--date', '2024-08-01', '--json'], {
      ...ctx.env,
      REDIS_URL: 'redis://127.0.0.1:1',
    });
    expect(down.code, down.stderr).toBe(4);
    expect(down.json).toMatchObject({ error: { code: 'UNAVAILABLE', exitCode: 4 } });
    expect(down.json.error.message).toMatch(/^Redis is unavailable/);
  });
});
