import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { runCli } from '../support/cli.js';
import { eventually } from '../support/wait.js';
import { publish, startTestCollector } from '../support/collector.js';
import { caughtUp, effectsOf, scenarioEvents } from '../support/handlers.js';
import { MIGRATIONS_DIR, migrate } from '../../src/lib/db/migrations.js';
import { foldDaily, foldProducts } from '../../src/jobs/collector/fold.js';
import { applyRankingIncrements, rankingIncrements } from '../../src/lib/ranking/live-ranking.js';
import type { DomainEvent } from '../../src/lib/events/index.js';

// The first migration of the handler model: everything before it is "the previous schema".
const HANDLERS_MIGRATION = 9;

/**
 * Upgrade from per-group marks (migrations up to 008) to per-handler marks (009): a database filled
 * by the previous collector keeps every event handled exactly once: after `db migrate`, a collector in
 * a NEW group re-reading every event applies none of them again, and loses none.
 */
describe('collector upgrade: per-group marks become per-handler marks', () => {
  let ctx: TestContext;
  let oldDir: string;
  const day = '2024-06-10';
  const events = scenarioEvents(5000, day);
  // Group a handled every event, group b (a second group started on the same database, the bug of
  // issue 14) only the order events: some events carry two groups' marks and audit rows, some one.
  const byB = events.filter((e) => e.aggregateType === 'order');

  beforeAll(async () => {
    ctx = await createTestContext({ emptyDatabase: true });
    oldDir = await mkdtemp(`${tmpdir()}/commerce-migrations-`);
    for (const file of await readdir(MIGRATIONS_DIR))
      if (Number(file.slice(0, 3)) < HANDLERS_MIGRATION)
        await cp(`${MIGRATIONS_DIR}${file}`, `${oldDir}/${file}`);
    await migrate(ctx.pool, oldDir);
  });
  afterAll(async () => {
    await rm(oldDir, { recursive: true, force: true });
    await ctx?.close();
  });

  /** What the previous collector did for a group's batch: marks, audit rows, metrics, then Redis. */
  async function oldCollector(group: string, batch: DomainEvent[]) {
    const ids = batch.map((e) => e.eventId);
    await ctx.pool.query(`INSERT INTO event_handled (event_id, consumer) SELECT unnest($1::uuid[]), $2`, [
      ids,
      group,
    ]);
    await ctx.pool.query(
      `INSERT INTO event_log (event_id, consumer, event_type, aggregate_type, aggregate_id, version,
                              topic, partition, "offset", envelope, occurred_at)
       SELECT (e->>'eventId')::uuid, $2, e->>'eventType', e->>'aggregateType', e->>'aggregateId',
              (e->>'version')::bigint, 'old-topic', 0, o - 1, e, (e->>'occurredAt')::timestamptz
         FROM unnest($1::jsonb[]) WITH ORDINALITY AS t(e, o)`,
      [batch.map((e) => JSON.stringify(e)), group],
    );
    for (const p of foldProducts(batch))
      await ctx.pool.query(
        `INSERT INTO product_metrics AS m (product_id, view_count, sales_count, sales_amount, like_count,
                                           like_version, stock, stock_version)
         VALUES ($1, $2, $3, $4, coalesce($5, 0), $6, $7, $8)
         ON CONFLICT (product_id) DO UPDATE SET view_count = m.view_count + excluded.view_count,
           sales_count = m.sales_count + excluded.sales_count,
           sales_amount = m.sales_amount + excluded.sales_amount,
           like_count = CASE WHEN excluded.like_version > m.like_version THEN excluded.like_count ELSE m.like_count END,
           like_version = GREATEST(m.like_version, excluded.like_version),
           stock = CASE WHEN excluded.stock_version > m.stock_version THEN excluded.stock ELSE m.stock END,
           stock_version = GREATEST(m.stock_version, excluded.stock_version)`,
        [
          p.productId,
          p.views,
          p.salesCount,
          p.salesAmount,
          p.likeCount,
          p.likeVersion,
          p.stock,
          p.stockVersion,
        ],
      );
    for (const d of foldDaily(batch, 'UTC'))
      await ctx.pool.query(
        `INSERT INTO product_metrics_daily AS d (metric_date, product_id, view_count, like_count,
                                                 sales_count, sales_amount)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (metric_date, product_id) DO UPDATE SET view_count = d.view_count + excluded.view_count,
           like_count = d.like_count + excluded.like_count, sales_count = d.sales_count + excluded.sales_count,
           sales_amount = d.sales_amount + excluded.sales_amount`,
        [d.date, d.productId, d.views, d.likes, d.salesCount, d.salesAmount],
      );
    await applyRankingIncrements(
      ctx.redis,
      batch.flatMap((e) => rankingIncrements(e, ctx.config.ranking, 'UTC')),
    );
  }

  it('keeps every event handled exactly once: nothing re-applied, nothing lost', async () => {
    await oldCollector('commerce-collector', events);
    await oldCollector('collector-b', byB);
    const before = await ctx.pool.query(
      `SELECT consumer, count(*)::int AS n FROM event_handled GROUP BY 1 ORDER BY 1`,
    );
    expect(before.rows).toEqual([
      { consumer: 'collector-b', n: byB.length },
      { consumer: 'commerce-collector', n: events.length },
    ]);
    const firstAudit = await ctx.pool.query(
      `SELECT DISTINCT ON (event_id) id::int, event_id::text FROM event_log ORDER BY event_id, id`,
    );

    const migrated = await runCli(['db', 'migrate', '--json'], ctx.env);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.json.applied.map((m: { version: number }) => m.version)).toContain(HANDLERS_MIGRATION);

    const upgraded = await effectsOf(ctx, 5000, day, events);
    // One mark per (event, handler), one audit row per event (the first one written), whatever group.
    expect(upgraded.audit).toEqual({ rows: events.length, events: events.length });
    expect(upgraded.marks).toEqual([
      { handler: 'metrics', rows: events.length, events: events.length },
      { handler: 'ranking', rows: events.length, events: events.length },
    ]);
    const kept = await ctx.pool.query(`SELECT id::int, event_id::text FROM event_log ORDER BY event_id, id`);
    expect(kept.rows).toEqual(firstAudit.rows);

    // A new group re-reads every event (and one new event): only the new one is applied.
    const fresh = scenarioEvents(5000, day)
      .filter((e) => e.eventType === 'ProductViewed')
      .slice(0, 1);
    await publish(ctx, [...events, ...fresh]);
    // The handlers of that release (a handler added since, like points, would find every event new).
    const collector = await startTestCollector(ctx, {
      groupId: `${ctx.id}-after-upgrade`,
      handlers: ['audit', 'metrics', 'ranking', 'cache'],
    });
    try {
      await eventually(() => caughtUp(ctx, `${ctx.id}-after-upgrade`), 60_000);
    } finally {
      await collector.stop();
    }
    expect(collector.stats).toMatchObject({ consumed: 1, duplicates: events.length, deadLettered: 0 });
    const after = await effectsOf(ctx, 5000, day, events);
    expect(after.audit).toEqual(upgraded.audit);
    expect(after.marks).toEqual(upgraded.marks);
    const plusThreeViews = <T extends { product: number; view_count: number }>(m: T) =>
      m.product === 1 ? { ...m, view_count: m.view_count + 3 } : m;
    expect(after.metrics).toEqual(upgraded.metrics.map(plusThreeViews));
    expect(after.daily).toEqual(upgraded.daily.map(plusThreeViews));
    expect(after.ranking['1']).toBeCloseTo(upgraded.ranking['1']! + 3 * ctx.config.ranking.view, 5);
    expect({ ...after.ranking, 1: 0 }).toEqual({ ...upgraded.ranking, 1: 0 });
  }, 120_000);
});
