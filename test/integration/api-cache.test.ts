import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, seedProduct, startApi, useTestApi } from '../support/api.js';
import { productCacheKeys } from '../../src/lib/cache/product-cache.js';
import { createRedis } from '../../src/lib/redis/client.js';

describe('api: Redis cache', () => {
  const s = useTestApi();

  // A change made behind the API's back: only a cache miss can see it.
  const renameInDb = (id: number, name: string) =>
    s.ctx.pool.query('UPDATE products SET name = $2 WHERE id = $1', [id, name]);

  it('serves a cached detail until a write through the API evicts it', async () => {
    const p = await seedProduct(s.api, { name: 'original' });
    expect((await s.api.call('GET', `/products/${p.id}`)).body.name).toBe('original');
    expect(await s.ctx.redis.exists(productCacheKeys.detail(p.id))).toBe(1);
    await renameInDb(p.id, 'behind-the-back');
    expect((await s.api.call('GET', `/products/${p.id}`)).body.name).toBe('original');
    await s.api.call('POST', `/products/${p.id}/stock`, {
      admin: true,
      body: { delta: 1, reason: 'restock' },
    });
    const fresh = (await s.api.call('GET', `/products/${p.id}`)).body;
    expect(fresh).toMatchObject({ name: 'behind-the-back', stock: 11 });
  });

  it('caches lists under a generation that writes bump (no KEYS scans)', async () => {
    const p = await seedProduct(s.api, { name: 'listed' });
    const list = async () => (await s.api.call('GET', '/products?sort=latest&size=100')).body.items;
    expect((await list()).find((x: { id: number }) => x.id === p.id).name).toBe('listed');
    await renameInDb(p.id, 'renamed');
    expect((await list()).find((x: { id: number }) => x.id === p.id).name).toBe('listed');
    const generation = Number(await s.ctx.redis.get(productCacheKeys.listGeneration()));
    await s.api.call('POST', `/products/${p.id}/likes`, { user: 'liker' });
    expect(Number(await s.ctx.redis.get(productCacheKeys.listGeneration()))).toBe(generation + 1);
    const after = (await list()).find((x: { id: number }) => x.id === p.id);
    expect(after).toMatchObject({ name: 'renamed', likeCount: 1 });
  });

  it('keeps serving from PostgreSQL when Redis is unreachable, and /readyz says so', async () => {
    const deadRedis = createRedis({ url: 'redis://127.0.0.1:1', keyPrefix: s.ctx.config.redis.keyPrefix });
    const config = s.ctx.configWith({ ADMIN_TOKEN, REDIS_URL: 'redis://127.0.0.1:1' });
    const down = await startApi(s.ctx, { config, redis: deadRedis });
    try {
      const p = await seedProduct(down, { name: 'no-cache', stock: 3 });
      expect((await down.call('GET', `/products/${p.id}`)).body).toMatchObject({
        name: 'no-cache',
        dailyRank: null,
      });
      await renameInDb(p.id, 'straight-from-db');
      expect((await down.call('GET', `/products/${p.id}`)).body.name).toBe('straight-from-db');
      expect((await down.call('GET', '/products?size=5')).status).toBe(200);
      const order = await down.call('POST', '/orders', {
        user: 'u',
        body: { items: [{ productId: p.id, quantity: 1 }] },
      });
      expect(order.status).toBe(201);
      const ready = await down.call('GET', '//readyz');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ postgres: 'up', redis: 'down' });
      expect((await down.call('GET', '//healthz')).status).toBe(200);
      const daily = await down.call('GET', '/rankings?period=daily');
      expect(daily.status).toBe(503);
    } finally {
      await down.close();
      deadRedis.disconnect();
    }
  });
});
