import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import {
  ADMIN_TOKEN,
  lastOutboxId,
  outboxRows,
  seedProduct,
  startApi,
  type TestApi,
} from '../support/api.js';

describe('api: brands and products', () => {
  let ctx: TestContext;
  let api: TestApi;
  beforeAll(async () => {
    ctx = await createTestContext({ topics: false });
    api = await startApi(ctx);
  });
  afterAll(async () => {
    await api?.close();
    await ctx?.close();
  });

  const tables = async () =>
    (
      await ctx.pool.query(
        `SELECT (SELECT count(*)::int FROM brands) AS brands, (SELECT count(*)::int FROM products) AS products,
                (SELECT count(*)::int FROM outbox_event) AS outbox, (SELECT coalesce(sum(stock), 0)::int FROM products) AS stock`,
      )
    ).rows[0];

  it('admin routes answer 401 without the token or with a wrong one, and change nothing', async () => {
    const p = await seedProduct(api);
    const before = await tables();
    const wrong = { authorization: `Bearer ${ADMIN_TOKEN}x` };
    const attempts = [
      await api.call('POST', '/brands', { body: { name: 'nope' } }),
      await api.call('POST', '/brands', { body: { name: 'nope' }, headers: wrong }),
      await api.call('POST', '/products', {
        body: { brandId: p.brandId, name: 'x', price: 1 },
        headers: wrong,
      }),
      await api.call('PATCH', `/products/${p.id}`, {
        body: { price: 1 },
        headers: { authorization: 'Basic abc' },
      }),
      await api.call('POST', `/products/${p.id}/stock`, { body: { set: 99, reason: 'x' } }),
    ];
    for (const res of attempts) {
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('UNAUTHORIZED');
    }
    expect(await tables()).toEqual(before);
  });

  it('creating a product writes ProductCreated v1; PATCH writes ProductUpdated v2; brands are unique', async () => {
    const mark = await lastOutboxId(ctx);
    const brand = await api.call('POST', '/brands', {
      admin: true,
      body: { name: 'Acme', description: 'tools' },
    });
    expect(brand.status).toBe(201);
    const dup = await api.call('POST', '/brands', { admin: true, body: { name: 'Acme' } });
    expect(dup.status).toBe(409);
    const created = await api.call('POST', '/products', {
      admin: true,
      body: { brandId: brand.body.id, name: 'Hammer', price: 2500, stock: 7 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'Hammer',
      brandName: 'Acme',
      price: 2500,
      stock: 7,
      likeCount: 0,
    });
    const id = created.body.id;
    const patched = await api.call('PATCH', `/products/${id}`, { admin: true, body: { price: 2000 } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'Hammer', price: 2000 });
    const rows = await outboxRows(ctx, mark);
    expect(
      rows.map((r) => [
        r.event_type,
        r.aggregate_type,
        r.aggregate_id,
        r.aggregate_version,
        r.topic,
        r.partition_key,
      ]),
    ).toEqual([
      ['ProductCreated', 'product', String(id), 1, ctx.config.kafka.topics.catalog, String(id)],
      ['ProductUpdated', 'product', String(id), 2, ctx.config.kafka.topics.catalog, String(id)],
    ]);
    expect(rows[1]!.payload.payload).toEqual({ productId: id, price: 2000 });
  });

  it('stock: set and add/remove with a reason, StockAdjusted each; removing too much is 409 and writes nothing', async () => {
    const p = await seedProduct(api, { stock: 5 });
    const mark = await lastOutboxId(ctx);
    const set = await api.call('POST', `/products/${p.id}/stock`, {
      admin: true,
      body: { set: 8, reason: 'count' },
    });
    expect(set.body).toEqual({ productId: p.id, stock: 8, delta: 3 });
    const removed = await api.call('POST', `/products/${p.id}/stock`, {
      admin: true,
      body: { delta: -2, reason: 'damaged' },
    });
    expect(removed.body).toEqual({ productId: p.id, stock: 6, delta: -2 });
    const tooMuch = await api.call('POST', `/products/${p.id}/stock`, {
      admin: true,
      body: { delta: -7, reason: 'x' },
    });
    expect(tooMuch.status).toBe(409);
    expect(tooMuch.body.error.code).toBe('INSUFFICIENT_STOCK');
    const noReason = await api.call('POST', `/products/${p.id}/stock`, { admin: true, body: { set: 1 } });
    expect(noReason.status).toBe(400);
    const rows = await outboxRows(ctx, mark);
    expect(rows.map((r) => [r.event_type, r.aggregate_version, r.payload.payload])).toEqual([
      ['StockAdjusted', 2, { productId: p.id, delta: 3, newStock: 8, reason: 'count' }],
      ['StockAdjusted', 3, { productId: p.id, delta: -2, newStock: 6, reason: 'damaged' }],
    ]);
  });

  it('bad input: field-named validation errors, malformed JSON, oversized body, unknown ids; nothing changes', async () => {
    const p = await seedProduct(api);
    const before = await tables();
    const missingPrice = await api.call('POST', '/products', {
      admin: true,
      body: { brandId: p.brandId, name: 'x' },
    });
    expect(missingPrice.status).toBe(400);
    expect(missingPrice.body.error).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(missingPrice.body.error.message).toMatch(/^price:/);
    const negative = await api.call('POST', '/products', {
      admin: true,
      body: { brandId: p.brandId, name: 'x', price: -1 },
    });
    expect(negative.body.error.message).toMatch(/^price:/);
    const unknownBrand = await api.call('POST', '/products', {
      admin: true,
      body: { brandId: 999999, name: 'x', price: 1 },
    });
    expect(unknownBrand.status).toBe(422);
    expect(unknownBrand.body.error.code).toBe('UNKNOWN_BRAND');
    const malformed = await api.call('POST', '/brands', { admin: true, raw: '{"name": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('MALFORMED_JSON');
    const huge = await api.call('POST', '/brands', {
      admin: true,
      raw: JSON.stringify({ name: 'x'.repeat(100_000) }),
    });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    const emptyPatch = await api.call('PATCH', `/products/${p.id}`, { admin: true, body: {} });
    expect(emptyPatch.status).toBe(400);
    expect((await api.call('PATCH', '/products/999999', { admin: true, body: { price: 1 } })).status).toBe(
      404,
    );
    expect((await api.call('GET', '/products/999999')).body.error).toEqual({
      code: 'NOT_FOUND',
      message: 'product 999999 does not exist',
    });
    const badId = await api.call('GET', '/products/abc');
    expect(badId.status).toBe(400);
    expect(badId.body.error.message).toMatch(/^id:/);
    expect((await api.call('GET', '/nothing-here')).status).toBe(404);
    expect(await tables()).toEqual(before);
  });

  it('lists with paging, sorting (latest, price, likes) and a brand filter', async () => {
    const brand = (await api.call('POST', '/brands', { admin: true, body: { name: 'ListBrand' } })).body;
    const a = await seedProduct(api, { brandId: brand.id, name: 'a', price: 300 });
    const b = await seedProduct(api, { brandId: brand.id, name: 'b', price: 100 });
    const c = await seedProduct(api, { brandId: brand.id, name: 'c', price: 200 });
    await api.call('POST', `/products/${c.id}/likes`, { user: 'fan' });
    const ids = async (query: string) => {
      const res = await api.call('GET', `/products?brandId=${brand.id}&${query}`);
      expect(res.status).toBe(200);
      return res.body;
    };
    expect((await ids('sort=latest')).items.map((p: { id: number }) => p.id)).toEqual([c.id, b.id, a.id]);
    expect((await ids('sort=price')).items.map((p: { id: number }) => p.id)).toEqual([b.id, c.id, a.id]);
    expect((await ids('sort=likes')).items[0].id).toBe(c.id);
    const page2 = await ids('sort=price&page=2&size=2');
    expect(page2).toMatchObject({ page: 2, size: 2, total: 3 });
    expect(page2.items.map((p: { id: number }) => p.id)).toEqual([a.id]);
    const bad = await api.call('GET', '/products?sort=random');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^sort:/);
    expect((await api.call('GET', '/products?size=1000')).body.error.message).toMatch(/^size:/);
  });
});
