import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { eventually } from '../support/wait.js';
import { publish, startTestCollector } from '../support/collector.js';
import { createEvent } from '../../src/lib/events/index.js';
import { productCacheKeys, productListGeneration } from '../../src/lib/cache/product-cache.js';

describe('collector: cache eviction', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx?.close());

  it('evicts the detail on a like, and the detail and lists on sold out, but not lists on other stock changes', async () => {
    for (const id of [5, 6, 7]) await ctx.redis.set(productCacheKeys.detail(id), '{"cached":true}');
    const generation = await productListGeneration(ctx.redis);
    const collector = await startTestCollector(ctx);
    try {
      await publish(ctx, [
        createEvent('StockAdjusted', 7, 2, { productId: 7, delta: -1, newStock: 4, reason: 'order' }),
      ]);
      await eventually(() => ctx.redis.exists(productCacheKeys.detail(7)).then((n) => n === 0));
      expect(await productListGeneration(ctx.redis)).toBe(generation);
      expect(await ctx.redis.exists(productCacheKeys.detail(5))).toBe(1);

      await publish(ctx, [
        createEvent('LikeChanged', 5, 2, { productId: 5, userId: 'u', liked: true, likeCount: 1 }),
      ]);
      await eventually(() => ctx.redis.exists(productCacheKeys.detail(5)).then((n) => n === 0));
      expect(await productListGeneration(ctx.redis)).toBe(generation);
      expect(await ctx.redis.exists(productCacheKeys.detail(6))).toBe(1);

      await publish(ctx, [
        createEvent('StockAdjusted', 6, 2, { productId: 6, delta: -2, newStock: 0, reason: 'order' }),
      ]);
      await eventually(() => ctx.redis.exists(productCacheKeys.detail(6)).then((n) => n === 0));
      await eventually(async () => (await productListGeneration(ctx.redis)) > generation);
    } finally {
      await collector.stop();
    }
  });
});
