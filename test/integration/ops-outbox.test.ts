import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { runCli } from '../support/cli.js';
import { createEvent } from '../../src/lib/events/index.js';
import { writeOutbox } from '../../src/lib/outbox/write.js';

/** Outbox rows in a chosen state and age, written the way the API writes them, then aged by hand. */
async function seed(
  ctx: TestContext,
  status: 'PENDING' | 'PUBLISHED' | 'FAILED',
  count: number,
  ageHours: number,
  extra: { lastError?: string; attempts?: number } = {},
): Promise<number[]> {
  const events = Array.from({ length: count }, () =>
    createEvent('ProductViewed', Math.floor(Math.random() * 1e9) + 1, 1, { productId: 1, count: 1 }),
  );
  await writeOutbox(ctx.pool, events, ctx.config.kafka.topics);
  const { rows } = await ctx.pool.query<{ id: number }>(
    `UPDATE outbox_event
        SET status = $2, created_at = now() - make_interval(hours => $3),
            published_at = CASE WHEN $2 = 'PUBLISHED' THEN now() - make_interval(hours => $3) END,
            last_error = $4, attempt_count = $5,
            locked_by = CASE WHEN $2 = 'FAILED' THEN 'relay-x' END,
            locked_until = CASE WHEN $2 = 'FAILED' THEN now() + interval '1 minute' END,
            next_attempt_at = now() + interval '1 hour'
      WHERE event_id = ANY($1::uuid[]) RETURNING id`,
    [events.map((e) => e.eventId), status, ageHours, extra.lastError ?? null, extra.attempts ?? 0],
  );
  return rows.map((r) => Number(r.id)).sort((a, b) => a - b);
}

async function countBy(ctx: TestContext): Promise<Record<string, number>> {
  const { rows } = await ctx.pool.query(
    `SELECT status, count(*)::int AS n FROM outbox_event GROUP BY status`,
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

describe('commerce outbox status / retry / cleanup', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ topics: false });
  });
  afterAll(() => ctx?.close());
  beforeEach(async () => {
    await ctx.pool.query('TRUNCATE outbox_event, event_inbox, job_run');
  });

  it('status counts rows by status, reports the oldest pending age and recent failures', async () => {
    await seed(ctx, 'PENDING', 2, 3);
    await seed(ctx, 'PENDING', 1, 0);
    await seed(ctx, 'PUBLISHED', 4, 1);
    const [failed] = await seed(ctx, 'FAILED', 1, 2, { lastError: 'broker said no', attempts: 9 });
    await ctx.pool.query(
      `UPDATE outbox_event SET next_attempt_at = now() - interval '1 second' WHERE status = 'PENDING'`,
    );

    const result = await runCli(['outbox', 'status', '--json'], ctx.env);
    expect(result.code).toBe(0);
    expect(result.json.counts).toEqual({ pending: 3, published: 4, failed: 1 });
    expect(result.json.dueNow).toBe(3);
    expect(result.json.oldestPendingAgeMs).toBeGreaterThanOrEqual(3 * 3_600_000);
    expect(result.json.oldestPendingAgeMs).toBeLessThan(3 * 3_600_000 + 120_000);
    expect(result.json.recentFailed).toMatchObject([
      { id: failed, eventType: 'ProductViewed', attempts: 9, lastError: 'broker said no' },
    ]);

    const table = await runCli(['outbox', 'status'], ctx.env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/oldest pending age\s*│?\s*3\.0h/);
    expect(table.stdout).toContain('broker said no');
  });

  it('retry --id resets exactly the chosen FAILED rows; a non-FAILED id changes nothing', async () => {
    const failed = await seed(ctx, 'FAILED', 3, 1, { lastError: 'boom', attempts: 10 });
    const [pending] = await seed(ctx, 'PENDING', 1, 1);

    const refused = await runCli(
      ['outbox', 'retry', '--id', String(failed[0]), '--id', String(pending)],
      ctx.env,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`${pending} \\(PENDING\\)`));
    expect(await countBy(ctx)).toEqual({ FAILED: 3, PENDING: 1 });

    const result = await runCli(
      ['outbox', 'retry', '--id', String(failed[0]), '--id', String(failed[2]), '--json'],
      ctx.env,
    );
    expect(result.code).toBe(0);
    expect(result.json.retried).toEqual([
      { id: failed[0], eventType: 'ProductViewed', attempts: 10, lastError: 'boom' },
      { id: failed[2], eventType: 'ProductViewed', attempts: 10, lastError: 'boom' },
    ]);
    const { rows } = await ctx.pool.query(
      `SELECT id, status, attempt_count, locked_by, locked_until, last_error,
              next_attempt_at <= now() AS due, published_at
         FROM outbox_event WHERE id = ANY($1::bigint[]) ORDER BY id`,
      [failed],
    );
    expect(rows.map((r) => [Number(r.id), r.status])).toEqual([
      [failed[0], 'PENDING'],
      [failed[1], 'FAILED'],
      [failed[2], 'PENDING'],
    ]);
    for (const r of [rows[0], rows[2]]) {
      expect(r).toMatchObject({
        attempt_count: 0,
        locked_by: null,
        locked_until: null,
        last_error: null,
        due: true,
        published_at: null,
      });
    }
    expect(rows[1]).toMatchObject({ attempt_count: 10, last_error: 'boom', locked_by: 'relay-x' });
  });

  it('retry --all-failed resets every FAILED row and only those', async () => {
    await seed(ctx, 'FAILED', 2, 1, { lastError: 'x', attempts: 3 });
    await seed(ctx, 'PUBLISHED', 2, 1);
    const result = await runCli(['outbox', 'retry', '--all-failed', '--json'], ctx.env);
    expect(result.code).toBe(0);
    expect(result.json.retried).toHaveLength(2);
    expect(await countBy(ctx)).toEqual({ PENDING: 2, PUBLISHED: 2 });

    const again = await runCli(['outbox', 'retry', '--all-failed', '--json'], ctx.env);
    expect(again.json.retried).toEqual([]);
    const usage = await runCli(['outbox', 'retry'], ctx.env);
    expect(usage.code).toBe(2);
  });

  it('cleanup deletes only old PUBLISHED rows, in several batches, and prunes old idempotency marks', async () => {
    const old = await seed(ctx, 'PUBLISHED', 23, 24 * 8);
    const recent = await seed(ctx, 'PUBLISHED', 3, 24 * 6);
    const oldPending = await seed(ctx, 'PENDING', 2, 24 * 30);
    const oldFailed = await seed(ctx, 'FAILED', 2, 24 * 30);
    await ctx.pool.query(
      `INSERT INTO event_inbox (event_id, handlers, handled_at)
       SELECT gen_random_uuid(), '{metrics}', now() - make_interval(days => d)
         FROM unnest(ARRAY[40, 40, 40, 31, 5]) AS d`,
    );
    // An audited event's row is the audit log: kept, however old, and its marks with it.
    await ctx.pool.query(
      `INSERT INTO event_inbox (event_id, handlers, handled_at, consumer, envelope, received_at)
       VALUES (gen_random_uuid(), '{audit,metrics}', now() - interval '40 days', 'g', '{}',
               now() - interval '40 days')`,
    );

    const dry = await runCli(['outbox', 'cleanup', '--older-than', '7d', '--dry-run', '--json'], ctx.env);
    expect(dry.code).toBe(0);
    expect(dry.json.tables.map((t: { deleted: number }) => t.deleted)).toEqual([23, 4]);
    expect((await ctx.pool.query('SELECT count(*)::int AS n FROM outbox_event')).rows[0].n).toBe(30);
    expect((await ctx.pool.query('SELECT count(*)::int AS n FROM event_inbox')).rows[0].n).toBe(6);
    expect((await ctx.pool.query('SELECT count(*)::int AS n FROM job_run')).rows[0].n).toBe(0);

    const result = await runCli(
      ['outbox', 'cleanup', '--older-than', '7d', '--batch-size', '5', '--json'],
      ctx.env,
    );
    expect(result.code).toBe(0);
    expect(result.json.tables).toMatchObject([
      { table: 'outbox_event', deleted: 23, batches: 5 },
      { table: 'event_inbox', deleted: 4, batches: 1 },
    ]);
    const { rows } = await ctx.pool.query<{ id: number }>('SELECT id FROM outbox_event ORDER BY id');
    expect(rows.map((r) => Number(r.id))).toEqual(
      [...recent, ...oldPending, ...oldFailed].sort((a, b) => a - b),
    );
    expect(rows.some((r) => old.includes(Number(r.id)))).toBe(false);
    expect(
      (await ctx.pool.query(`SELECT array_agg(handlers::text ORDER BY handled_at) AS h FROM event_inbox`))
        .rows[0].h,
    ).toEqual(['{audit,metrics}', '{metrics}']);
    const runs = await ctx.pool.query(`SELECT job_name, status, rows_written FROM job_run`);
    expect(runs.rows).toEqual([{ job_name: 'outbox-cleanup', status: 'SUCCEEDED', rows_written: 27 }]);

    const handled = await runCli(
      ['outbox', 'cleanup', '--older-than', '7d', '--handled-older-than', '1d', '--json'],
      ctx.env,
    );
    expect(handled.json.tables.map((t: { deleted: number }) => t.deleted)).toEqual([0, 1]);
  });

  it('a bad duration is a usage error (exit 2) and deletes nothing', async () => {
    await seed(ctx, 'PUBLISHED', 2, 24 * 30);
    for (const bad of ['7', '7 days', '0d']) {
      const result = await runCli(['outbox', 'cleanup', '--older-than', bad], ctx.env);
      expect(result.code, bad).toBe(2);
      expect(result.stderr, bad).toMatch(/--older-than[\s\S]*is not a duration|must be a positive duration/);
    }
    const handled = await runCli(
      ['outbox', 'cleanup', '--older-than', '7d', '--handled-older-than', '1w'],
      ctx.env,
    );
    expect(handled.code).toBe(2);
    const missing = await runCli(['outbox', 'cleanup'], ctx.env);
    expect(missing.code).toBe(2);
    expect((await ctx.pool.query('SELECT count(*)::int AS n FROM outbox_event')).rows[0].n).toBe(2);
  });

  it('a cleanup while another holds the lock exits 5 and deletes nothing', async () => {
    await seed(ctx, 'PUBLISHED', 2, 24 * 30);
    const holder = await ctx.pool.connect();
    try {
      await holder.query(`SELECT pg_advisory_lock(hashtext('outbox-cleanup'))`);
      const result = await runCli(['outbox', 'cleanup', '--older-than', '7d'], ctx.env);
      expect(result.code).toBe(5);
    } finally {
      await holder.query(`SELECT pg_advisory_unlock(hashtext('outbox-cleanup'))`);
      holder.release();
    }
    expect((await ctx.pool.query('SELECT count(*)::int AS n FROM outbox_event')).rows[0].n).toBe(2);
  });
});
