import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, lastOutboxId, outboxRows, seedProduct, useTestApi } from '../support/api.js';

describe('api: brands and products', () => {
  const s = useTestApi();

  const tables = async () =>
    (
      await s.ctx.pool.query(
        `SELECT (SELECT count(*)::int FROM brands) AS brands, (SELECT count(*)::int FROM products) AS products,
                (SELECT count(*)::int FROM outbox_event) AS outbox, (SELECT coalesce(sum(stock), 0)::int FROM products) AS stock`,
      )
    ).rows[0];

  it('admin routes answer 401 without the token or with a wrong one, and change nothing', async () => {
    const p = await seedProduct(s.api);
    const before = await tables();
    const wrong = { authorization: `Bearer ${ADMIN_TOKEN}x` };
    const attempts = [
      await s.api.call('POST', '/brands', { body: { name: 'nope' } }),
      await s.api.call('POST', '/brands', { body: { name: 'nope' }, headers: wrong }),
      await s.api.call('POST', '/products', {
        body: { brandId: p.brandId, name: 'x', price: 1 },
        headers: wrong,
      }),
      await s.api.call('PATCH', `/products/${p.id}`, {
        body: { price: 1 },
        headers: { authorization: 'Basic abc' },
      }),
      await s.api.call('POST', `/products/${p.id}/stock`, { body: { set: 99, reason: 'x' } }),
    ];
    for (const res of attempts) {
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('UNAUTHORIZED');
    }
    expect(await tables()).toEqual(before);
  });

  it('creating a product writes ProductCreated v1; PATCH writes ProductUpdated v2; brands are unique', async () => {
    const mark = await lastOutboxId(s.ctx);
    const brand = await s.api.call('POST', '/brands', {
      admin: true,
      body: { name: 'Acme', description: 'tools' },
    });
    expect(brand.status).toBe(201);
    const dup = await s.api.call('POST', '/brands', { admin: true, body: { name: 'Acme' } });
    expect(dup.status).toBe(409);
    const created = await s.api.call('POST', '/products', {
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
    const patched = await s.api.call('PATCH', `/products/${id}`, { admin: true, body: { price: 2000 } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'Hammer', price: 2000 });
    const rows = await outboxRows(s.ctx, mark);
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
      ['ProductCreated', 'product', String(id), 1, s.ctx.config.kafka.topics.catalog, String(id)],
      ['ProductUpdated', 'product', String(id), 2, s.ctx.config.kafka.topics.catalog, String(id)],
    ]);
    expect(rows[1]!.payload.payload).toEqual({ productId: id, price: 2000 });
  });

  it('stock: set and add/remove with a reason, StockAdjusted each; removing too much is 409 and writes nothing', async () => {
    const p = await seedProduct(s.api, { stock: 5 });
    const mark = await lastOutboxId(s.ctx);
    const set = await s.api.call('POST', `/products/${p.id}/stock`, {
      admin: true,
      body: { set: 8, reason: 'count' },
    });
    expect(set.body).toEqual({ productId: p.id, stock: 8, delta: 3 });
    const removed = await s.api.call('POST', `/products/${p.id}/stock`, {
      admin: true,
      body: { delta: -2, reason: 'damaged' },
    });
    expect(removed.body).toEqual({ productId: p.id, stock: 6, delta: -2 });
    const tooMuch = await s.api.call('POST', `/products/${p.id}/stock`, {
      admin: true,
      body: { delta: -7, reason: 'x' },
    });
    expect(tooMuch.status).toBe(409);
    expect(tooMuch.body.error.code).toBe('INSUFFICIENT_STOCK');
    const noReason = await s.api.call('POST', `/products/${p.id}/stock`, { admin: true, body: { set: 1 } });
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.message).toMatch(/^reason:/);
    const both = await s.api.call('POST', `/products/${p.id}/stock`, {
      admin: true,
      body: { set: 1, delta: 1, reason: 'x' },
    });
    expect(both.body.error.message).toMatch(/exactly one of set, delta/);
    const rows = await outboxRows(s.ctx, mark);
    expect(rows.map((r) => [r.event_type, r.aggregate_version, r.payload.payload])).toEqual([
      ['StockAdjusted', 2, { productId: p.id, delta: 3, newStock: 8, reason: 'count' }],
      ['StockAdjusted', 3, { productId: p.id, delta: -2, newStock: 6, reason: 'damaged' }],
    ]);
  });

  it('bad input: field-named validation errors, malformed JSON, oversized body, unknown ids; nothing changes', async () => {
    const p = await seedProduct(s.api);
    const before = await tables();
    const missingPrice = await s.api.call('POST', '/products', {
      admin: true,
      body: { brandId: p.brandId, name: 'x' },
    });
    expect(missingPrice.status).toBe(400);
    expect(missingPrice.body.error).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(missingPrice.body.error.message).toMatch(/^price:/);
    const negative = await s.api.call('POST', '/products', {
      admin: true,
      body: { brandId: p.brandId, name: 'x', price: -1 },
    });
    expect(negative.body.error.message).toMatch(/^price:/);
    const unknownBrand = await s.api.call('POST', '/products', {
      admin: true,
      body: { brandId: 999999, name: 'x', price: 1 },
    });
    expect(unknownBrand.status).toBe(422);
    expect(unknownBrand.body.error.code).toBe('UNKNOWN_BRAND');
    const malformed = await s.api.call('POST', '/brands', { admin: true, raw: '{"name": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('MALFORMED_JSON');
    const huge = await s.api.call('POST', '/brands', {
      admin: true,
      raw: JSON.stringify({ name: 'x'.repeat(100_000) }),
    });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    const emptyPatch = await s.api.call('PATCH', `/products/${p.id}`, { admin: true, body: {} });
    expect(emptyPatch.status).toBe(400);
    expect((await s.api.call('PATCH', '/products/999999', { admin: true, body: { price: 1 } })).status).toBe(
      404,
    );
    expect((await s.api.call('GET', '/products/999999')).body.error).toEqual({
      code: 'NOT_FOUND',
      message: 'product 999999 does not exist',
    });
    const badId = await s.api.call('GET', '/products/abc');
    expect(badId.status).toBe(400);
    expect(badId.body.error.message).toMatch(/^id:/);
    expect((await s.api.call('GET', '/nothing-here')).status).toBe(404);
    expect(await tables()).toEqual(before);
  });

  it('lists with paging, sorting (latest, price, likes) and a brand filter', async () => {
    const brand = (await s.api.call('POST', '/brands', { admin: true, body: { name: 'ListBrand' } })).body;
    const a = await seedProduct(s.api, { brandId: brand.id, name: 'a', price: 300 });
    const b = await seedProduct(s.api, { brandId: brand.id, name: 'b', price: 100 });
    const c = await seedProduct(s.api, { brandId: brand.id, name: 'c', price: 200 });
    await s.api.call('POST', `/products/${c.id}/likes`, { user: 'fan' });
    const ids = async (query: string) => {
      const res = await s.api.call('GET', `/products?brandId=${brand.id}&${query}`);
      expect(res.status).toBe(200);
      return res.body;
    };
    expect((await ids('sort=latest')).items.map((p: { id: number }) => p.id)).toEqual([c.id, b.id, a.id]);
    expect((await ids('sort=price')).items.map((p: { id: number }) => p.id)).toEqual([b.id, c.id, a.id]);
    expect((await ids('sort=likes')).items[0].id).toBe(c.id);
    const page2 = await ids('sort=price&page=2&size=2');
    expect(page2).toMatchObject({ page: 2, size: 2, total: 3 });
    expect(page2.items.map((p: { id: number }) => p.id)).toEqual([a.id]);
    const bad = await s.api.call('GET', '/products?sort=random');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^sort:/);
    expect((await s.api.call('GET', '/products?size=1000')).body.error.message).toMatch(/^size:/);
  });
});
