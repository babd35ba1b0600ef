import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, seedProduct, startApi, type TestApi } from '../support/api.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { evictProductDetail, productCacheKeys } from '../../src/lib/cache/product-cache.js';
import { dailyRankingKey } from '../../src/lib/ranking/score.js';
import { compactDate, dateInZone } from '../../src/lib/time/dates.js';
import { sleep } from '../../src/lib/sleep.js';

/**
 * The API's in-process cache in front of Redis (API_LOCAL_CACHE_MS): its own writes show at once,
 * the collector's evictions (Redis DEL of the detail) and ranking updates within the TTL.
 */
describe('api: in-process cache in front of Redis', () => {
  const TTL_MS = 3_000;
  let ctx: TestContext;
  let api: TestApi;
  beforeAll(async () => {
    ctx = await createTestContext({ topics: false });
    api = await startApi(ctx, {
      config: ctx.configWith({ ADMIN_TOKEN, API_LOCAL_CACHE_MS: String(TTL_MS) }),
    });
  });
  afterAll(async () => {
    await api?.close();
    await ctx?.close();
  });

  const detail = async (id: number) => (await api.call('GET', `/products/${id}`)).body;

  it('serves a detail from the process until the TTL, then sees the collector’s eviction', async () => {
    const p = await seedProduct(api, { name: 'before' });
    expect(await detail(p.id)).toMatchObject({ name: 'before' });
    // A change the API did not make, evicted the way the collector does it (Redis DEL).
    await ctx.pool.query('UPDATE products SET name = $2 WHERE id = $1', [p.id, 'after']);
    await evictProductDetail(ctx.redis, p.id);
    // Served from the process: no Redis read, no database read (either would refill Redis).
    expect(await detail(p.id)).toMatchObject({ name: 'before' });
    expect(await ctx.redis.exists(productCacheKeys.detail(p.id))).toBe(0);
    // Once the entry has lived its TTL, the eviction has taken effect.
    await sleep(TTL_MS + 100);
    expect(await detail(p.id)).toMatchObject({ name: 'after' });
    expect(await ctx.redis.exists(productCacheKeys.detail(p.id))).toBe(1);
  });

  it('drops the entry at once on its own writes', async () => {
    const p = await seedProduct(api, { name: 'own', stock: 5 });
    expect(await detail(p.id)).toMatchObject({ stock: 5 });
    await api.call('POST', `/products/${p.id}/stock`, { admin: true, body: { delta: 2, reason: 'restock' } });
    expect(await detail(p.id)).toMatchObject({ stock: 7 });
    await api.call('POST', `/products/${p.id}/likes`, { user: 'fan' });
    expect(await detail(p.id)).toMatchObject({ likeCount: 1 });
  });

  it('keeps a detail’s daily rank at most the TTL behind the ranking', async () => {
    const [a, b] = [await seedProduct(api), await seedProduct(api)];
    const key = dailyRankingKey(compactDate(dateInZone(new Date(), ctx.config.timezone)));
    await ctx.redis.zadd(key, 5, String(a.id), 9, String(b.id));
    expect(await detail(a.id)).toMatchObject({ dailyRank: 2 });
    await ctx.redis.zadd(key, 20, String(a.id));
    expect(await detail(a.id)).toMatchObject({ dailyRank: 2 }); // the process's answer, within the TTL
    await sleep(TTL_MS + 100);
    expect(await detail(a.id)).toMatchObject({ dailyRank: 1 });
  });
});
