import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { eventually } from '../support/wait.js';
import { crashAt, startCli } from '../support/cli.js';
import { committedOffsets, metricsRow, publish, startTestCollector } from '../support/collector.js';
import { createEvent, orderCreatedFromV1 } from '../../src/lib/events/index.js';
import { COLLECTOR_PROBES } from '../../src/jobs/collector/probes.js';

describe('collector: crash between the database commit and the offset commit', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx?.close());

  it('a restarted collector re-reads the batch and double-counts nothing, in PostgreSQL or Redis', async () => {
    const at = new Date('2024-06-01T12:00:00Z');
    const events = [
      createEvent('ProductViewed', 1, 1, { productId: 1, count: 2 }, at),
      createEvent('LikeChanged', 1, 2, { productId: 1, userId: 'u', liked: true, likeCount: 1 }, at),
      createEvent(
        'OrderCreated',
        200,
        1,
        orderCreatedFromV1({
          orderId: 200,
          userId: 'u',
          items: [{ productId: 1, quantity: 2, unitPrice: 100 }],
          totalAmount: 200,
        }),
        at,
      ),
    ];
    await publish(ctx, events);

    const crashing = startCli(['collector', 'run', '--session-timeout', '6s'], {
      ...ctx.env,
      ...crashAt(COLLECTOR_PROBES.dbCommitted),
    });
    const exit = await new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      crashing.once('exit', (code, signal) => resolve({ code, signal })),
    );
    expect(exit.signal).toBe('SIGKILL');
    const handledBefore = Number(
      (await ctx.pool.query(`SELECT count(*) FROM event_inbox WHERE 'metrics' = ANY (handlers)`)).rows[0]
        .count,
    );
    expect(handledBefore).toBeGreaterThan(0); // the first batch's transaction committed...
    for (const topic of Object.values(ctx.config.kafka.topics)) {
      expect((await committedOffsets(ctx, ctx.config.kafka.groupId, topic)).every((o) => o === -1)).toBe(
        true,
      );
    } // ...and no offset did
    expect(await ctx.redis.exists('ranking:all:20240601')).toBe(0); // nor did the Redis step

    const collector = await startTestCollector(ctx);
    try {
      await eventually(() => collector.stats.consumed + collector.stats.duplicates === events.length);
    } finally {
      await collector.stop();
    }
    expect(collector.stats.duplicates).toBe(handledBefore);
    expect(await metricsRow(ctx, 1)).toMatchObject({
      view_count: 2,
      like_count: 1,
      sales_count: 2,
      sales_amount: 200,
    });
    expect(Number((await ctx.pool.query('SELECT count(*) FROM event_log')).rows[0].count)).toBe(3);
    // The Redis effects of the batch that crashed are recovered on redelivery, once.
    expect(Number(await ctx.redis.zscore('ranking:all:20240601', '1'))).toBeCloseTo(0.2 + 0.2 + 1.4, 9);
  });
});
