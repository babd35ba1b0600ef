import { describe, expect, it } from 'vitest';
import { lastOutboxId, outboxRows, seedProduct, useTestApi } from '../support/api.js';
import { dailyRankingKey } from '../../src/lib/ranking/score.js';
import { compactDate, dateInZone } from '../../src/lib/time/dates.js';

describe('api: likes, views and rankings', () => {
  const s = useTestApi();

  it('likes are idempotent per user; only real changes write LikeChanged with the new count', async () => {
    const p = await seedProduct(s.api);
    const mark = await lastOutboxId(s.ctx);
    const like = (user: string) => s.api.call('POST', `/products/${p.id}/likes`, { user });
    const unlike = (user: string) => s.api.call('DELETE', `/products/${p.id}/likes`, { user });
    expect((await like('a')).body).toEqual({ productId: p.id, liked: true, likeCount: 1 });
    expect((await like('a')).body).toEqual({ productId: p.id, liked: true, likeCount: 1 });
    expect((await like('b')).body.likeCount).toBe(2);
    expect((await unlike('a')).body).toEqual({ productId: p.id, liked: false, likeCount: 1 });
    expect((await unlike('a')).body.likeCount).toBe(1);
    expect((await s.api.call('POST', `/products/${p.id}/likes`)).status).toBe(401);
    expect((await s.api.call('POST', '/products/999999/likes', { user: 'a' })).status).toBe(404);
    const rows = await outboxRows(s.ctx, mark);
    expect(rows.map((r) => [r.event_type, r.aggregate_version, r.payload.payload])).toEqual([
      ['LikeChanged', 2, { productId: p.id, userId: 'a', liked: true, likeCount: 1 }],
      ['LikeChanged', 3, { productId: p.id, userId: 'b', liked: true, likeCount: 2 }],
      ['LikeChanged', 4, { productId: p.id, userId: 'a', liked: false, likeCount: 1 }],
    ]);
    expect((await s.api.call('GET', `/products/${p.id}`)).body.likeCount).toBe(1);
  });

  it('counts views in memory and flushes them as one ProductViewed per product with its count', async () => {
    const a = await seedProduct(s.api);
    const b = await seedProduct(s.api);
    await s.api.api.views.flush(); // views of earlier tests
    const mark = await lastOutboxId(s.ctx);
    for (let i = 0; i < 3; i++) await s.api.call('GET', `/products/${a.id}`);
    await s.api.call('GET', `/products/${b.id}`);
    await s.api.call('GET', '/products/999999'); // not a product: not a view
    expect(await outboxRows(s.ctx, mark)).toEqual([]); // nothing written on the read path
    await s.api.api.views.flush();
    const rows = await outboxRows(s.ctx, mark);
    expect(rows.map((r) => [r.event_type, r.aggregate_id, r.aggregate_version, r.payload.payload])).toEqual([
      ['ProductViewed', String(a.id), 2, { productId: a.id, count: 3 }],
      ['ProductViewed', String(b.id), 2, { productId: b.id, count: 1 }],
    ]);
    await s.api.api.views.flush();
    expect(await outboxRows(s.ctx, mark)).toHaveLength(2);
  });

  it('daily rankings and the detail rank come from the Redis sorted set, with product details', async () => {
    const [a, b, c] = [await seedProduct(s.api), await seedProduct(s.api), await seedProduct(s.api)];
    const today = dateInZone(new Date(), s.ctx.config.timezone);
    const key = dailyRankingKey(compactDate(today));
    await s.ctx.redis.zadd(key, 5, String(a.id), 9, String(b.id), 1, String(c.id));
    const res = await s.api.call('GET', '/rankings?period=daily&size=2');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ period: 'daily', periodStart: today, total: 3, page: 1, size: 2 });
    expect(
      res.body.items.map((i: { rank: number; score: number; product: { id: number } }) => [
        i.rank,
        i.score,
        i.product.id,
      ]),
    ).toEqual([
      [1, 9, b.id],
      [2, 5, a.id],
    ]);
    const page2 = await s.api.call('GET', '/rankings?period=daily&size=2&page=2');
    expect(page2.body.items.map((i: { rank: number }) => i.rank)).toEqual([3]);
    expect((await s.api.call('GET', `/products/${a.id}`)).body.dailyRank).toBe(2);
    const unranked = await seedProduct(s.api);
    expect((await s.api.call('GET', `/products/${unranked.id}`)).body.dailyRank).toBeNull();
    const empty = await s.api.call('GET', '/rankings?period=daily&date=2001-01-01');
    expect(empty.body).toMatchObject({ total: 0, items: [] });
  });

  it('weekly and monthly rankings read the materialized tables by the period containing the date', async () => {
    const p = await seedProduct(s.api, { name: 'weekly-star' });
    await s.ctx.pool.query(
      `INSERT INTO mv_product_rank_weekly (period_start, period_end, rank, product_id, score, view_count, like_count, sales_count, sales_amount)
       VALUES ('2026-03-02', '2026-03-08', 1, $1, 4.5, 10, 2, 3, 3000)`,
      [p.id],
    );
    const week = await s.api.call('GET', '/rankings?period=weekly&date=2026-03-05');
    expect(week.body).toMatchObject({ periodStart: '2026-03-02', periodEnd: '2026-03-08', total: 1 });
    expect(week.body.items[0]).toMatchObject({
      rank: 1,
      score: 4.5,
      product: { id: p.id, name: 'weekly-star' },
    });
    const month = await s.api.call('GET', '/rankings?period=monthly&date=2026-02-10');
    expect(month.status).toBe(200);
    expect(month.body).toMatchObject({
      periodStart: '2026-02-01',
      periodEnd: '2026-02-28',
      total: 0,
      items: [],
    });
    const badDate = await s.api.call('GET', '/rankings?period=weekly&date=2026-02-30');
    expect(badDate.status).toBe(400);
    expect(badDate.body.error.message).toMatch(/^date:/);
    expect((await s.api.call('GET', '/rankings?period=yearly')).body.error.message).toMatch(/^period:/);
  });
});
