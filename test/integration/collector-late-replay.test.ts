import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { eventually } from '../support/wait.js';
import { publish, startTestCollector } from '../support/collector.js';
import { createEvent } from '../../src/lib/events/index.js';
import { dailyRankingKey } from '../../src/lib/ranking/score.js';
import { compactDate, dateInZone } from '../../src/lib/time/dates.js';

// Ranking marks live two days, unaudited inbox rows (event_inbox) thirty: a replay in between must
// not count an event in the live ranking a second time.
describe('collector: a replay after the ranking marks expired', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx?.close());

  it('ranks a recent redelivery (crash recovery) but not one first handled days ago', async () => {
    const recent = createEvent('ProductViewed', 11, 1, { productId: 11, count: 10 });
    const old = createEvent('ProductViewed', 12, 1, { productId: 12, count: 10 });
    const key = dailyRankingKey(compactDate(dateInZone(new Date(), ctx.config.timezone)));
    // Both were handled before; the ranking step never ran for them (a crash) and their marks are gone.
    await ctx.pool.query(
      `INSERT INTO event_inbox (event_id, handlers, handled_at, ranked_at)
       SELECT e, ARRAY['metrics', 'ranking'], now() - age, now() - age
         FROM (VALUES ($1::uuid, interval '5 minutes'), ($2::uuid, interval '3 days')) AS t(e, age)`,
      [recent.eventId, old.eventId],
    );

    const collector = await startTestCollector(ctx);
    try {
      await publish(ctx, [recent, old]);
      await eventually(() => collector.stats.consumed + collector.stats.duplicates === 2);
    } finally {
      await collector.stop();
    }
    // The recent duplicate is recovered into the ranking; the old one is not counted again.
    expect(Number(await ctx.redis.zscore(key, '11'))).toBeCloseTo(10 * ctx.config.ranking.view);
    expect(await ctx.redis.zscore(key, '12')).toBeNull();
  });
});
